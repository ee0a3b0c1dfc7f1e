"""RetroService with a recording gateway, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import InvalidInput, NoRetroHere, NotFacilitator, RetroAlreadyOpen
from bot.services import Services
from bot.services.retros import RetroDraft, RetroService
from bot.services.surveys import SurveyAnswers
from storage.models import Participant, Retro
from tests.blockkit import buttons, mrkdwn_text
from tests.conftest import FakeClock
from tests.recording import RecordingGateway, RecordingJobs

TEAM = "T1"
CHANNEL = "C1"


@pytest.fixture
def gateway() -> RecordingGateway:
    gw = RecordingGateway(members={CHANNEL: ["UFAC", "U1", "U2", "UBOT"]})
    for user in ("UFAC", "U1", "U2"):
        gw.human(user)
    gw.human("UBOT", is_bot=True)
    return gw


@pytest.fixture
def service(services: Services) -> RetroService:
    return services.retros


def draft(clock: FakeClock, **overrides: Any) -> RetroDraft:
    """A valid draft for C1; `dataclasses.replace` refuses names RetroDraft does not have."""
    base = RetroDraft(
        team_id=TEAM,
        channel_id=CHANNEL,
        facilitator_id="UFAC",
        title="Sprint 12",
        participant_ids=(),
        deadline=clock() + timedelta(days=1),
        format="start_stop_continue",
    )
    return replace(base, **overrides)


def test_start_invites_the_channels_humans(
    service: RetroService, gateway: RecordingGateway, clock: FakeClock
) -> None:
    retro_id = service.start(draft(clock))
    assert retro_id is not None
    (kickoff,) = gateway.messages_to(CHANNEL)
    assert kickoff["text"].startswith("Retrospective started: Sprint 12.")
    assert "Participants: <@UFAC> <@U1> <@U2>" in mrkdwn_text(kickoff["blocks"])
    for user in ("UFAC", "U1", "U2"):
        (invite,) = gateway.messages_to(user)
        assert invite["text"].startswith("You're invited to the retrospective Sprint 12: please answer by")
        assert ("survey_open", str(retro_id), "Open survey") in buttons(invite["blocks"])
    assert gateway.messages_to("UBOT") == []
    assert "survey sent to 3 participants" in gateway.ephemerals_to("UFAC")[0]


def test_one_unreachable_person_does_not_stop_the_others(
    service: RetroService, gateway: RecordingGateway, clock: FakeClock, engine: Engine
) -> None:
    gateway.failures[("chat.postMessage", "U1")] = "user_not_found"
    gateway.failures[("users.info", "U2")] = "ratelimited"
    service.start(draft(clock, participant_ids=("UFAC", "U1", "U2")))
    assert len(gateway.messages_to("UFAC")) == 1
    report = gateway.ephemerals_to("UFAC")[0]
    assert "survey sent to 1 participant" in report
    assert "<@U1>: `user_not_found`" in report and "<@U2>: `ratelimited`" in report
    with Session(engine) as session:
        failed = session.exec(select(Participant).where(Participant.user_id == "U1")).one()
        assert failed.invite_error == "user_not_found" and failed.invited_at is None


def test_not_in_channel_discards_the_retro_and_tells_the_facilitator(
    service: RetroService, gateway: RecordingGateway, clock: FakeClock, engine: Engine
) -> None:
    gateway.failures[("chat.postMessage", CHANNEL)] = "not_in_channel"
    assert service.start(draft(clock, participant_ids=("U1",))) is None
    (dm,) = gateway.messages_to("UFAC")
    assert "/invite @Rearview" in dm["text"]
    assert gateway.messages_to("U1") == []
    with Session(engine) as session:
        assert session.exec(select(Retro)).all() == []


def test_validation_refuses_bad_input_with_one_message_per_field(
    service: RetroService, clock: FakeClock
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.validate(draft(clock, title="   ", deadline=clock() - timedelta(hours=1), format="nope"))
    assert set(caught.value.errors) == {"title", "deadline", "format"}
    with pytest.raises(InvalidInput) as caught:
        service.validate(draft(clock, deadline=clock() + timedelta(days=200)))
    assert "90 days" in caught.value.errors["deadline"]


def test_one_open_retro_per_channel_and_workspace(service: RetroService, clock: FakeClock) -> None:
    service.start(draft(clock))
    with pytest.raises(RetroAlreadyOpen):
        service.ensure_can_start(team_id=TEAM, channel_id=CHANNEL)
    with pytest.raises(InvalidInput):
        service.validate(draft(clock))
    # The same channel id in another workspace is another channel.
    service.ensure_can_start(team_id="T2", channel_id=CHANNEL)


def test_a_racing_second_start_is_refused_by_the_database(
    service: RetroService, gateway: RecordingGateway, clock: FakeClock, engine: Engine
) -> None:
    service.start(draft(clock))
    assert service.start(draft(clock, title="Duplicate")) is None
    assert "already has an open retro" in gateway.ephemerals_to("UFAC")[-1]
    with Session(engine) as session:
        assert [r.title for r in session.exec(select(Retro)).all()] == ["Sprint 12"]


def test_status_and_close_are_scoped_to_the_workspace(service: RetroService, clock: FakeClock) -> None:
    service.start(draft(clock))
    with pytest.raises(NoRetroHere):
        service.status(team_id="T2", channel_id=CHANNEL)
    with pytest.raises(NoRetroHere):
        service.close(team_id="T2", channel_id=CHANNEL, user_id="UFAC")


def test_only_the_facilitator_closes(service: RetroService, clock: FakeClock, engine: Engine) -> None:
    service.start(draft(clock))
    with pytest.raises(NotFacilitator):
        service.close(team_id=TEAM, channel_id=CHANNEL, user_id="U1")
    with Session(engine) as session:
        assert session.exec(select(Retro)).one().phase == "collecting"


def test_a_failed_upload_is_reported_and_close_retries_it(
    service: RetroService, services: Services, gateway: RecordingGateway, clock: FakeClock
) -> None:
    retro_id = service.start(draft(clock))
    assert retro_id is not None
    services.surveys.submit(
        team_id=TEAM,
        retro_id=retro_id,
        user_id="U1",
        answers=SurveyAnswers(items={"start": "Pairing"}, smoothness=6, surprise=None),
    )
    gateway.failures[("files.upload", CHANNEL)] = "internal_error"
    assert service.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC") == retro_id
    service.publish(team_id=TEAM, retro_id=retro_id)
    assert "Run `/retro close` again" in gateway.ephemerals_to("UFAC")[-1]

    del gateway.failures[("files.upload", CHANNEL)]
    assert service.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC") == retro_id
    service.publish(team_id=TEAM, retro_id=retro_id)
    (upload,) = [p for kind, p in gateway.sent if kind == "file"]
    assert "- Pairing" in upload["content"]
    # The thread summary was posted once, not once per attempt.
    assert len([m for m in gateway.messages_to(CHANNEL) if m["thread_ts"]]) == 1
    with pytest.raises(NoRetroHere, match="already closed"):
        service.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC")


def test_start_schedules_the_close_and_nudges_and_close_cancels_them(
    services: Services, clock: FakeClock
) -> None:
    jobs = services.deadlines.jobs
    assert isinstance(jobs, RecordingJobs)
    retro_id = services.retros.start(draft(clock, deadline=clock() + timedelta(days=3)))
    prefix = f"retro:{TEAM}:{retro_id}:"
    assert f"{prefix}close" in jobs.jobs
    assert {f"{prefix}nudge:{key}:{user}" for key in ("24h", "2h") for user in ("UFAC", "U1", "U2")} <= set(
        jobs.jobs
    )
    services.retros.close(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC")
    assert not [j for j in jobs.jobs if j.startswith(prefix)]


def test_release_details_anonymity_and_questions_are_kept(
    services: Services, clock: FakeClock, engine: Engine
) -> None:
    from bot.services.retros import ReleaseInfo

    services.retros.start(
        draft(
            clock,
            anonymity="anonymous",
            custom_questions=("Was the checklist useful?",),
            release=ReleaseInfo(version="2.4.0", incidents="One P2 on checkout"),
        )
    )
    with Session(engine) as session:
        retro = session.exec(select(Retro)).one()
    assert (retro.release_version, retro.incidents, retro.rollbacks) == ("2.4.0", "One P2 on checkout", None)
    assert retro.anonymity == "anonymous"
    assert retro.custom_questions == ["Was the checklist useful?"]


def test_more_than_three_questions_are_refused(service: RetroService, clock: FakeClock) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.validate(draft(clock, custom_questions=("a?", "b?", "c?", "d?")))
    assert "at most 3" in caught.value.errors["questions"]
