"""ClosingService: closing (only by the facilitator, within its workspace), publishing the report once,
and what a close cancels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import NoRetroHere, NotFacilitator
from bot.jobs import JobKind, job_id
from bot.services import Services
from bot.services.closing import ClosingService
from bot.services.retros import RetroService
from bot.services.surveys import SurveyAnswers
from messages.status import status_message
from storage.models import Retro
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM, channel_gateway, draft, launch
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def gateway() -> RecordingGateway:
    return channel_gateway()


@pytest.fixture
def service(services: Services) -> RetroService:
    return services.retros


@pytest.fixture
def closing(services: Services) -> ClosingService:
    return services.closing


def test_status_and_close_are_scoped_to_the_workspace(
    service: RetroService, services: Services, closing: ClosingService, clock: FakeClock
) -> None:
    service.create(draft(clock))
    with pytest.raises(NoRetroHere):
        services.reports.status(team_id="T2", channel_id=CHANNEL)
    with pytest.raises(NoRetroHere):
        closing.close(team_id="T2", channel_id=CHANNEL, user_id="UFAC")
    found = services.reports.status(team_id=TEAM, channel_id=CHANNEL)
    message = status_message(
        retro=found.retro,
        stats=found.stats,
        now=found.now,
        turn_user=found.turn_user,
        turn_due=found.turn_due,
    )
    assert "Sprint 12" in message.text


def test_only_the_facilitator_closes(
    service: RetroService,
    closing: ClosingService,
    gateway: RecordingGateway,
    clock: FakeClock,
    engine: Engine,
) -> None:
    launch(service, gateway, draft(clock))
    sent = len(gateway.sent)
    with pytest.raises(NotFacilitator):
        closing.close(team_id=TEAM, channel_id=CHANNEL, user_id="U1")
    with Session(engine) as session:
        assert session.exec(select(Retro)).one().phase == "collecting"
    assert len(gateway.sent) == sent


def test_a_failed_upload_is_reported_and_close_retries_it(
    service: RetroService,
    closing: ClosingService,
    services: Services,
    gateway: RecordingGateway,
    clock: FakeClock,
) -> None:
    retro_id = launch(service, gateway, draft(clock))
    services.surveys.submit(
        team_id=TEAM,
        retro_id=retro_id,
        user_id="U1",
        answers=SurveyAnswers(items={"start": "Pairing"}, smoothness=6, surprise=None),
    )
    gateway.failures[("files.upload", CHANNEL)] = "internal_error"
    assert closing.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC") == retro_id
    gateway.sent  # noqa: B018 - publishing runs: the summary, then an upload that fails
    # Slack may or may not have the file: it is not sent blindly again, the facilitator is told once.
    clock.advance(seconds=1)
    gateway.sent  # noqa: B018
    clock.advance(seconds=5)
    (told,) = gateway.ephemerals_to("UFAC")
    assert told.startswith("I couldn't deliver everything:")
    assert "the report of *Sprint 12* (run `/retro close` again to retry)" in told
    assert [kind for kind, _p in gateway.sent].count("file") == 0

    del gateway.failures[("files.upload", CHANNEL)]
    clock.advance(seconds=1)
    assert closing.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC") == retro_id
    (upload,) = [p for kind, p in gateway.sent if kind == "file"]
    assert "- Pairing" in upload["content"]
    # The thread summary was posted once, not once per attempt; the failure was told once.
    assert len([m for m in gateway.messages_to(CHANNEL) if m["thread_ts"]]) == 1
    clock.advance(seconds=5)
    assert len(gateway.ephemerals_to("UFAC")) == 1
    with pytest.raises(NoRetroHere, match="already closed"):
        closing.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC")


def test_start_schedules_the_close_and_nudges_and_close_cancels_them(
    services: Services, gateway: RecordingGateway, jobs: RecordingJobs, clock: FakeClock
) -> None:
    deadline = clock() + timedelta(days=3)
    retro_id = launch(services.retros, gateway, draft(clock, deadline=deadline))
    close = job_id(JobKind.CLOSE_COLLECTION, TEAM, retro_id)
    # Everyone is in one time zone (the recording gateway's people): a job per reminder for all of them.
    nudges = {job_id(JobKind.NUDGE, TEAM, retro_id, r, "UTC") for r in ("24h", "2h")}
    followup = job_id(JobKind.FOLLOWUP, TEAM, retro_id)
    assert set(jobs.jobs) == {close, followup} | nudges
    assert jobs.jobs[close].run_at == deadline
    services.closing.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC")
    # The follow-up comes weeks after the close; nothing else of the retro is left.
    assert set(jobs.jobs) == {followup}
