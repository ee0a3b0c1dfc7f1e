"""`/retro schedule`: its modal (defaults from the channel's last retro), saving, showing what is in place
with Edit / Pause (Resume) / Delete, who may change it, and the time zone the cadence runs in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import NotFacilitator
from bot.gateway import SlackUser
from bot.jobs import JobKind
from bot.listeners import schedules
from bot.listeners.answers import OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission, ViewState
from bot.listeners.routing import answer_submission
from bot.services import Services
from messages import new_retro
from messages import schedule as screen
from messages.common import VALUE_ACTION
from storage.models import RetroSchedule
from tests.blockkit import buttons
from tests.conftest import FakeClock
from tests.factories import make_retro
from tests.recording import RecordingGateway, RecordingJobs

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def gateway() -> RecordingGateway:
    gateway = RecordingGateway(members={"C1": ["UFAC", "U1", "U2"]})
    for user in ("U1", "U2", "UOUT"):
        gateway.human(user)
    gateway.users["UFAC"] = SlackUser("UFAC", "fay", is_bot=False, deleted=False, tz="Europe/Berlin")
    return gateway


def command(**overrides: Any) -> Command:
    fields: dict[str, Any] = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "UFAC",
        "subcommand": "schedule",
        "trigger_id": "trig",
    }
    return Command(**(fields | overrides))


def _value(**value: Any) -> dict[str, Any]:
    return {VALUE_ACTION: value}


def _option(value: str) -> dict[str, Any]:
    return _value(selected_option={"value": value})


def submission(values: dict[str, Any] | None = None, *, user_id: str = "UFAC") -> Submission:
    state = {
        screen.CADENCE_BLOCK: _option("weekly:2"),
        screen.WEEKDAY_BLOCK: _option("2"),
        screen.TIME_BLOCK: _value(selected_time="15:30"),
        screen.COLLECTION_BLOCK: _option("3"),
        screen.FACILITATION_BLOCK: _option("fixed"),
        screen.FACILITATOR_BLOCK: _value(selected_user="UFAC"),
        new_retro.NEW_FORMAT_BLOCK: _option("start_stop_continue"),
        new_retro.NEW_ANONYMITY_BLOCK: _option("optional"),
        new_retro.NEW_SCOPE_BLOCK: _option("everyone"),
        new_retro.NEW_TURN_HOURS_BLOCK: _option("4"),
        new_retro.NEW_VOTES_BLOCK: _option("3"),
        new_retro.NEW_FOLLOWUP_BLOCK: _option("2"),
        new_retro.NEW_QUESTIONS_BLOCK: _value(value="Did the release checklist help?"),
        screen.RELEASE_RULE_BLOCK: _option("significant"),
        screen.WINDOW_BLOCK: _option("10"),
        screen.UNREVIEWED_BLOCK: _option("wait"),
    } | (values or {})
    return Submission(
        team_id="T1",
        user_id=user_id,
        callback_id=screen.SCHEDULE_CALLBACK,
        metadata={"channel_id": "C1", "schedule_id": None},
        state=ViewState(state),
    )


def click(action_id: str, schedule_id: int, user_id: str = "UFAC") -> Click:
    return Click(
        team_id="T1", user_id=user_id, action_id=action_id, value=str(schedule_id), trigger_id="trig"
    )


def the_schedule(engine: Engine) -> RetroSchedule:
    with Session(engine) as session:
        return session.exec(select(RetroSchedule)).one()


def test_without_a_schedule_it_opens_the_modal_with_the_last_retros_settings(
    services: Services, engine: Engine
) -> None:
    with Session(engine) as session:
        make_retro(session, phase="completed", format="well_wrong_improve", votes_per_person=5)
    answer = schedules.schedule(services, command())
    assert isinstance(answer, OpenModal) and answer.bot_in == "C1"
    blocks = {b.get("block_id"): b for b in answer.view["blocks"]}
    assert answer.view["callback_id"] == screen.SCHEDULE_CALLBACK
    initial = {k: b["element"].get("initial_option", {}).get("value") for k, b in blocks.items() if k}
    assert initial[new_retro.NEW_FORMAT_BLOCK] == "well_wrong_improve"
    assert initial[new_retro.NEW_VOTES_BLOCK] == "5"
    assert initial[screen.CADENCE_BLOCK] == "weekly:2" and initial[screen.WINDOW_BLOCK] == "7"
    assert blocks[screen.FACILITATOR_BLOCK]["element"]["initial_user"] == "UFAC"
    assert set(screen.FIELDS.values()) <= set(blocks), "every field an error can name has its block"
    assert isinstance(schedules.schedule(services, command(channel_id="D1")), Reply)


def test_saving_makes_the_schedule_in_the_facilitators_time_zone(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs
) -> None:
    services.people.resolve("T1", ["UFAC"])  # cached, as the first /retro new leaves it
    assert schedules.submitted(services, submission()) is None
    schedule = the_schedule(engine)
    assert (schedule.cadence, schedule.every_weeks, schedule.weekday, schedule.at_time, schedule.tz) == (
        "weekly",
        2,
        2,
        "15:30",
        "Europe/Berlin",
    )
    # Monday November 23, 09:17 UTC: the next Wednesday at 15:30 in Berlin.
    assert schedule.next_at == datetime(2026, 11, 25, 15, 30, tzinfo=BERLIN)
    assert schedule.anchor is not None and schedule.anchor.isoformat() == "2026-11-25"
    assert (schedule.release_rule, schedule.release_window_days, schedule.unreviewed) == (
        "significant",
        10,
        "wait",
    )
    assert schedule.settings["custom_questions"] == ["Did the release checklist help?"]
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.SCHEDULE_DUE]
    assert job.run_at == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    (told,) = [p for kind, p in gateway.sent if kind == "ephemeral"]
    assert "every 2 weeks on Wednesday at 15:30 (Europe/Berlin)" in told["text"]


def test_a_time_zone_slack_tells_later_moves_the_cadence(
    services: Services, engine: Engine, gateway: RecordingGateway, jobs: RecordingJobs
) -> None:
    schedules.submitted(services, submission())  # nothing cached: UTC for now
    assert the_schedule(engine).tz == "UTC"
    assert gateway.sent  # the queued task asks Slack (users.info) and moves the cadence
    schedule = the_schedule(engine)
    assert schedule.tz == "Europe/Berlin"
    assert schedule.next_at == datetime(2026, 11, 25, 15, 30, tzinfo=BERLIN)
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.SCHEDULE_DUE]
    assert job.args["occurrence"] == schedule.next_at.isoformat()


def test_a_bad_schedule_is_refused_by_field(services: Services, engine: Engine) -> None:
    acks: list[dict[str, Any]] = []
    route = next(r for r in schedules.routes.submissions if r.callback_id == screen.SCHEDULE_CALLBACK)
    bad = submission(
        {
            screen.FACILITATION_BLOCK: _option("rotation"),
            screen.TIME_BLOCK: _value(),
            new_retro.NEW_VOTES_BLOCK: _option("99"),
        }
    )
    answer_submission(services, route, bad, lambda **kw: acks.append(kw))
    assert acks[0]["response_action"] == "errors"
    assert set(acks[0]["errors"]) == {screen.ROTATION_BLOCK, screen.TIME_BLOCK, new_retro.NEW_VOTES_BLOCK}
    with Session(engine) as session:
        assert session.exec(select(RetroSchedule)).all() == []


def test_with_a_schedule_it_shows_it_and_its_keepers_pause_resume_edit_and_delete_it(
    services: Services, engine: Engine, jobs: RecordingJobs
) -> None:
    schedules.submitted(services, submission())
    schedule_id = the_schedule(engine).id
    shown = schedules.schedule(services, command(user_id="UOUT"))
    assert isinstance(shown, Reply) and shown.blocks is not None
    assert [b[0] for b in buttons(shown.blocks)] == [
        screen.SCHEDULE_EDIT_ACTION,
        screen.SCHEDULE_PAUSE_ACTION,
        screen.SCHEDULE_DELETE_ACTION,
    ]
    for action in (
        screen.SCHEDULE_EDIT_ACTION,
        screen.SCHEDULE_PAUSE_ACTION,
        screen.SCHEDULE_DELETE_ACTION,
    ):
        handler = next(r.handler for r in schedules.routes.clicks if r.action_id == action)
        with pytest.raises(NotFacilitator, match="Only the schedule's creator"):
            handler(services, click(action, schedule_id, user_id="UOUT"))
    with pytest.raises(NotFacilitator):  # nor can anyone change it by submitting the modal
        services.schedules.save(schedules.draft_of(submission(user_id="UOUT")))

    paused = schedules.pause(services, click(screen.SCHEDULE_PAUSE_ACTION, schedule_id))
    assert isinstance(paused, Respond) and paused.blocks is not None
    assert screen.SCHEDULE_RESUME_ACTION in [b[0] for b in buttons(paused.blocks)]
    assert not [j for j in jobs.jobs.values() if j.kind == JobKind.SCHEDULE_DUE]
    schedules.resume(services, click(screen.SCHEDULE_RESUME_ACTION, schedule_id))
    assert [j.kind for j in jobs.jobs.values()] == [JobKind.SCHEDULE_DUE]

    edit = schedules.edit(services, click(screen.SCHEDULE_EDIT_ACTION, schedule_id))
    assert isinstance(edit, OpenModal)
    assert json.loads(edit.view["private_metadata"]) == {"channel_id": "C1", "schedule_id": schedule_id}
    assert schedules.delete(services, click(screen.SCHEDULE_DELETE_ACTION, schedule_id)) == Respond(
        screen.deleted_text()
    )
    with Session(engine) as session:
        assert session.exec(select(RetroSchedule)).all() == []
    assert jobs.jobs == {}
