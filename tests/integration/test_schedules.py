"""Retros that run themselves (#14), over HTTP against the fake Slack: a two-week cadence set up with
`/retro schedule` starting its retros on the right local day across a daylight-saving change and a restart
(and a `kill -9` while it plans), and a rotation over four people skipping one who left the channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.jobs import JobKind
from storage.models import Retro, RetroPlan
from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, FACILITATOR, stored_jobs, team

BERLIN = ZoneInfo("Europe/Berlin")


def schedule_with_modal(bot: Bot, values: dict[str, Any]) -> None:
    """Alice runs /retro schedule and saves the modal."""
    before = len(bot.fake.views)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "schedule")
    assert reply.status == 200 and reply.body == "", reply.body
    bot.settle()
    assert len(bot.fake.views) == before + 1, "the schedule modal did not open"
    view_id = list(bot.fake.views)[-1]
    submitted = bot.slack.submit(FACILITATOR, view_id, values)
    assert submitted.status == 200 and submitted.body == "", submitted.body
    bot.settle()


def plan_dms(bot: Bot, user: str) -> list[str]:
    return [m.text for m in bot.fake.dms_to(user) if m.text.startswith("Retro plan")]


def retros(bot: Bot) -> list[Retro]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Retro).order_by(col(Retro.created_at))))


def plans(bot: Bot) -> list[RetroPlan]:
    with Session(bot.engine) as session:
        return list(session.exec(select(RetroPlan).order_by(col(RetroPlan.planned_start))))


def next_cadence_job(bot: Bot) -> datetime:
    (job,) = stored_jobs(bot, JobKind.SCHEDULE_DUE)
    return datetime.fromisoformat(job.kwargs["args"]["occurrence"])


def crash_and_restart(bot: Bot, act: Callable[[], object]) -> None:
    act()
    bot.settle()
    assert bot.crashed.is_set(), "the crash point was never reached"
    bot.restart()
    bot.settle()


def test_a_two_week_cadence_starts_retros_on_the_local_day_across_dst_and_a_restart(bot: Bot) -> None:
    team(bot)
    # A Thursday; Berlin moves to summer time on March 28. (In the future: the job store runs on real time.)
    bot.clock.now = datetime(2027, 3, 11, 12, 0, tzinfo=UTC)
    schedule_with_modal(bot, {"cadence": "weekly:2", "weekday": "0", "at_time": "10:00"})
    (saved,) = bot.fake.ephemerals_to(FACILITATOR)
    assert saved.text.startswith("Saved this channel's retro schedule: every 2 weeks on Monday at 10:00")
    # Alice's time zone came from Slack after the modal closed: Monday 10:00 in Berlin is 09:00 UTC.
    first = datetime(2027, 3, 15, 10, 0, tzinfo=BERLIN)
    assert next_cadence_job(bot) == first

    bot.clock.now = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)  # a day before: the plan goes to Alice
    bot.run_due_jobs()
    assert plan_dms(bot, FACILITATOR) == ["Retro plan: Retro Mar 15"]
    bot.clock.now = first.astimezone(UTC)
    bot.run_due_jobs()
    (started,) = retros(bot)
    assert started.created_at.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 10:00"
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "cancel done for now")
    assert reply.status == 200
    bot.settle()

    # The bot restarts; the cadence's next job is still there, at 10:00 in Berlin after the change (08:00 UTC).
    bot.restart()
    bot.settle()
    second = datetime(2027, 3, 29, 10, 0, tzinfo=BERLIN)
    assert second.astimezone(UTC).hour == 8
    assert next_cadence_job(bot) == second

    # Killed the moment Slack took the plan's DM: after the restart Alice has it once, and the cadence goes on.
    bot.crash_at("chat.postMessage", when=lambda p: str(p.get("text", "")).startswith("Retro plan"))
    bot.clock.now = datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    crash_and_restart(bot, bot.run_due_jobs)
    assert plan_dms(bot, FACILITATOR) == ["Retro plan: Retro Mar 15", "Retro plan: Retro Mar 29"]
    assert next_cadence_job(bot) == datetime(2027, 4, 12, 10, 0, tzinfo=BERLIN)
    bot.clock.now = second.astimezone(UTC)
    bot.run_due_jobs()
    assert [r.created_at.astimezone(BERLIN).strftime("%a %d %H:%M") for r in retros(bot)] == [
        "Mon 15 10:00",
        "Mon 29 10:00",
    ]


def test_a_rotation_over_four_skips_one_who_left_and_survives_a_crash(bot: Bot) -> None:
    team(bot)
    schedule_with_modal(
        bot,
        {
            "cadence": "weekly:1",
            "facilitation": "rotation",
            "rotation": ["UALICE", "UBOB", "UCAROL", "UDAN"],
            "unreviewed": "wait",
        },
    )
    bot.fake.channels[CHANNEL].members.remove("UBOB")  # Bob left the channel

    def plan_next() -> None:
        """The cadence's job fires (and only it: the plans themselves are not due yet)."""
        (job,) = stored_jobs(bot, JobKind.SCHEDULE_DUE)
        assert job.next_run_time is not None
        bot.clock.now = max(bot.clock.now, job.next_run_time)
        bot.scheduler.remove_job(job.id)
        job.func(*job.args, **job.kwargs)
        bot.settle()

    # Killed while the worker asks Slack who is in the channel: the task runs again after the restart.
    bot.crash_at("conversations.members")
    crash_and_restart(bot, plan_next)
    for _ in range(3):
        plan_next()
    assert [(p.facilitator_id, p.next_facilitator_id) for p in plans(bot)] == [
        ("UALICE", "UCAROL"),
        ("UCAROL", "UDAN"),
        ("UDAN", "UALICE"),
        ("UALICE", "UCAROL"),
    ]
    assert [len(plan_dms(bot, u)) for u in ("UALICE", "UBOB", "UCAROL", "UDAN")] == [2, 0, 1, 1]
