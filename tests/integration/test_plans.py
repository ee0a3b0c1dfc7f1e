"""The plan, reviewed (issue 14), over HTTP against the fake Slack: plans made by posted releases are skipped,
edited (the DM redrawn in place) and started from their DMs; a plan's start and a waiting plan's reminder
each survive a `kill -9` through the delivery model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.domain import PlanStatus
from bot.jobs import JobKind
from bot.services.releases import create_token
from messages import plan as plan_messages
from storage.models import Retro, RetroPlan, RetroSchedule
from tests.conftest import Bot
from tests.fakeslack import TEAM_ID, PostedMessage
from tests.integration.helpers import CHANNEL, FACILITATOR, close_retro, start_retro, stored_jobs, team
from tests.integration.test_releases import post

NOW = datetime(2027, 6, 7, 12, 0, tzinfo=UTC)  # in the future: the job store runs on real time


@pytest.fixture
def token(bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Alice ran the channel's last retro (so she facilitates its plans); a token for the channel."""
    monkeypatch.chdir(tmp_path)
    team(bot)
    bot.clock.now = NOW - timedelta(days=30)
    start_retro(bot)
    close_retro(bot)
    bot.settle()
    bot.clock.now = NOW
    with Session(bot.engine) as session:
        _, made = create_token(session, team_id=TEAM_ID, channel_id=CHANNEL, name="ci", now=NOW)
        session.commit()
    return made


def plan_dm(bot: Bot, version: str) -> PostedMessage:
    """The newest plan DM of a release's retro."""
    found = [m for m in bot.fake.dms_to(FACILITATOR) if m.text == f"Retro plan: Release {version} retro"]
    assert found, f"no plan DM for {version}"
    return found[-1]


def release(bot: Bot, token: str, version: str, **fields: object) -> int:
    status, body, _ = post(bot, {"version": version, "deployed_at": "2027-06-06T10:00:00Z", **fields}, token)
    assert status == 201, body
    bot.settle()
    return int(body["plan"]["id"])


def plan_of(bot: Bot, plan_id: int) -> RetroPlan:
    with Session(bot.engine) as session:
        found = session.get(RetroPlan, plan_id)
        assert found is not None
        return found


def kickoffs(bot: Bot) -> list[PostedMessage]:
    return [m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started")]


def test_plans_are_skipped_edited_and_started_from_their_dms(bot: Bot, token: str) -> None:
    skipped, edited, started = (release(bot, token, v) for v in ("3.0.0", "3.1.0", "3.2.0"))
    before = len(kickoffs(bot))

    # Skip: the DM says so; nothing starts at its time.
    reply, _ = bot.slack.click(
        FACILITATOR, message=plan_dm(bot, "3.0.0"), action_id=plan_messages.PLAN_SKIP_ACTION
    )
    assert reply.status == 200
    bot.settle()
    assert "Skipped *Release 3.0.0 retro*" in bot.fake.responses[-1].body["text"]
    assert plan_of(bot, skipped).status == PlanStatus.SKIPPED

    # Someone else's click on a plan: refused, nothing changes.
    bot.slack.click("UBOB", message=plan_dm(bot, "3.1.0"), action_id=plan_messages.PLAN_START_ACTION)
    bot.settle()
    assert plan_of(bot, edited).status == PlanStatus.PROPOSED

    # Edit: the modal opens with the plan; saved, the DM is redrawn in place and the start moves.
    views = len(bot.fake.views)
    original = plan_dm(bot, "3.1.0")
    bot.slack.click(FACILITATOR, message=original, action_id=plan_messages.PLAN_EDIT_ACTION)
    bot.settle()
    assert len(bot.fake.views) == views + 1, "the Edit modal did not open"
    view_id = list(bot.fake.views)[-1]
    new_start = NOW + timedelta(days=2)
    bad = bot.slack.submit(FACILITATOR, view_id, {"title": "", "planned_start": int(new_start.timestamp())})
    assert bad.json["response_action"] == "errors" and "title" in bad.json["errors"]
    saved = bot.slack.submit(
        FACILITATOR, view_id, {"title": "Payments retro", "planned_start": int(new_start.timestamp())}
    )
    assert saved.status == 200 and saved.body == "", saved.body
    bot.settle()
    (redrawn,) = [m for m in bot.fake.dms_to(FACILITATOR) if m.text == "Retro plan: Payments retro"]
    assert redrawn.ts == original.ts  # chat.update of the DM itself: no new message
    assert "Reviewed by <@UALICE>" in str(redrawn.blocks)
    assert plan_of(bot, edited).planned_start == new_start

    # Start now: the retro starts at once, its kickoff names the plan's facilitator.
    bot.slack.click(FACILITATOR, message=plan_dm(bot, "3.2.0"), action_id=plan_messages.PLAN_START_ACTION)
    bot.settle()
    assert "Started *Release 3.2.0 retro*" in bot.fake.responses[-1].body["text"]
    assert plan_of(bot, started).status == PlanStatus.STARTED
    assert len(kickoffs(bot)) == before + 1
    assert "Facilitator this time: <@UALICE>" in str(kickoffs(bot)[-1].blocks)
    bot.slack.command(FACILITATOR, CHANNEL, "cancel started by hand for the test")
    bot.settle()

    # The edited plan starts at its new time, with its new title; the skipped one never does.
    bot.clock.now = new_start
    bot.run_due_jobs()
    bot.settle()
    with Session(bot.engine) as session:
        titles = [r.title for r in session.exec(select(Retro).order_by(Retro.created_at))]  # type: ignore[arg-type]
    assert titles[-2:] == ["Release 3.2.0 retro", "Payments retro"]
    assert "Release 3.0.0 retro" not in titles


def test_a_plans_start_survives_a_kill_at_its_kickoff(bot: Bot, token: str) -> None:
    plan_id = release(bot, token, "4.0.0", rollbacks=["Rolled back the API"])
    (job,) = [j for j in stored_jobs(bot, JobKind.PLAN_START) if j.kwargs["args"]["plan_id"] == plan_id]
    assert job.next_run_time == NOW + timedelta(hours=1)  # a rollback: planned at once, started an hour later
    bot.crash_at(
        "chat.postMessage", when=lambda p: str(p.get("text", "")).startswith("Retrospective started")
    )
    bot.clock.now = NOW + timedelta(hours=1)
    bot.run_due_jobs()
    bot.settle()
    assert bot.crashed.is_set(), "the crash point was never reached"
    bot.restart()
    bot.settle()
    (kickoff,) = kickoffs(bot)[-1:]
    assert [k.text for k in kickoffs(bot)].count(kickoff.text) == 1
    assert "Nobody reviewed this retro's plan" in str(kickoff.blocks)  # it started on time, unreviewed
    assert plan_of(bot, plan_id).status == PlanStatus.STARTED


def test_a_waiting_plans_reminder_survives_a_kill(bot: Bot, token: str) -> None:
    with Session(bot.engine) as session:
        session.add(RetroSchedule(team_id=TEAM_ID, channel_id=CHANNEL, created_by=FACILITATOR,
                                  facilitator_id=FACILITATOR, unreviewed="wait", updated_at=NOW))  # fmt: skip
        session.commit()
    plan_id = release(bot, token, "5.0.0", incidents="Checkout down for 9 minutes")
    bot.clock.now = NOW + timedelta(hours=1)
    bot.run_due_jobs()
    bot.settle()
    assert plan_of(bot, plan_id).status == PlanStatus.WAITING
    (reminder,) = stored_jobs(bot, JobKind.PLAN_REMINDER)
    assert reminder.next_run_time == NOW + timedelta(hours=1, days=1)

    bot.crash_at("chat.postMessage", when=lambda p: "still waits for your review" in str(p.get("text", "")))
    bot.clock.now = NOW + timedelta(hours=1, days=1)
    bot.run_due_jobs()
    bot.settle()
    assert bot.crashed.is_set(), "the crash point was never reached"
    bot.restart()
    bot.settle()
    reminded = [m for m in bot.fake.dms_to(FACILITATOR) if "still waits for your review" in m.text]
    assert len(reminded) == 1
    (second,) = stored_jobs(bot, JobKind.PLAN_REMINDER)
    assert second.kwargs["args"]["number"] == 2
    # "Looks good" on a plan whose time has come starts it.
    bot.slack.click(FACILITATOR, message=plan_dm(bot, "5.0.0"), action_id=plan_messages.PLAN_REVIEWED_ACTION)
    bot.settle()
    assert plan_of(bot, plan_id).status == PlanStatus.STARTED
    assert stored_jobs(bot, JobKind.PLAN_REMINDER) == []
