"""Service unit tests: the real services on a real database, with Slack and the scheduler recorded.

What the services queue in the outbox is delivered by a real dispatcher, in the test's thread, when the
test reads the recording gateway's transcript.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from apscheduler.util import ref_to_obj
from sqlalchemy import Engine

import bot.jobs
from bot.dispatcher import Dispatcher
from bot.jobs import Job
from bot.services import Services
from bot.tasks import Effects
from tests.conftest import FakeClock
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def jobs(engine: Engine) -> RecordingJobs:
    return RecordingJobs(engine=engine)


@pytest.fixture
def services(engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    return build_services(engine, clock, gateway, jobs)


def build_services(
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    secret: str | None = None,
) -> Services:
    """`secret`: the deployment's REARVIEW_SECRET (trackers need one)."""
    services = Services.build(engine=engine, gateway=gateway, clock=clock, jobs=jobs, secret=secret)
    dispatcher = Dispatcher(
        engine=engine, gateway=gateway, clock=clock, effects=Effects(services), workers=0, pace=False
    )
    gateway.before_reading = dispatcher.drain
    return services


@pytest.fixture
def fire(services: Services, monkeypatch: pytest.MonkeyPatch) -> Callable[[Job], None]:
    """Fire a recorded job as APScheduler does: through its stored reference (`bot.jobs:due`), with the
    keyword arguments ApsJobs stores. The task it queues is carried out when the transcript is read."""
    monkeypatch.setattr(bot.jobs, "_services", services)

    def fire(job: Job) -> None:
        due: Callable[..., None] = ref_to_obj("bot.jobs:due")
        due(
            kind=str(job.kind),
            team_id=job.team_id,
            job=job.id,
            run_at=job.run_at.isoformat(),
            args=job.args,
        )

    return fire
