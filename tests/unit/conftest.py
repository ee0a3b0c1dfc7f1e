"""Service unit tests: the real services on a real database, with Slack and the scheduler recorded.

What the services queue in the outbox is delivered by a real dispatcher, in the test's thread, when the
test reads the recording gateway's transcript.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.dispatcher import Dispatcher
from bot.services import Services
from bot.tasks import Effects
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
    return build_services(engine, clock, gateway, jobs)


def build_services(engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    services = Services.build(engine=engine, gateway=gateway, clock=clock, jobs=jobs)
    dispatcher = Dispatcher(
        engine=engine, gateway=gateway, clock=clock, effects=Effects(services), workers=0, pace=False
    )
    gateway.before_reading = dispatcher.drain
    return services
