"""Service unit tests: the real services on a real database, with Slack and the scheduler recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.services import Services
from tests.conftest import FakeClock
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


@pytest.fixture
def services(engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    return Services.build(engine=engine, gateway=gateway, clock=clock, jobs=jobs)
