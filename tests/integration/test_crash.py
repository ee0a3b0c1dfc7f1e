"""`kill -9` in the middle of every multi-step change: after a restart everyone has each message exactly once,
every job the retro should have exists, and the retro goes on.

The bot is killed the moment Slack has carried out a chosen call and before the bot hears the answer: the
worst moment, since Slack did it and the database does not know. Slack's latency and rate budgets are on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from storage.models import ActionItem, Retro
from tests.conftest import Bot
from tests.fakeslack import BOT_USER_ID, PostedMessage
from tests.integration.helpers import CHANNEL, FACILITATOR, PEOPLE, close_retro, start_retro, team

LATENCY = 0.02


def crash_and_restart(bot: Bot, act: Callable[[], object]) -> None:
    """Do `act` (a request or a job firing) with a crash armed; check the bot died there; start it again."""
    act()
    bot.settle()
    assert bot.crashed.is_set(), "the crash point was never reached"
    bot.restart()
    bot.settle()


def dm_counts(bot: Bot, people: list[str], starts: str) -> Counter[str]:
    return Counter({p: sum(m.text.startswith(starts) for m in bot.fake.dms_to(p)) for p in people})


def in_thread(bot: Bot, kickoff: PostedMessage, contains: str) -> list[PostedMessage]:
    return [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if contains in m.text]


def missing_jobs(bot: Bot) -> set[str]:
    """Jobs that the retros' and action items' state says should exist and the job store lacks."""
    timers = bot.services.timers
    stored = {job.id for job in bot.scheduler.get_jobs()}
    expected: set[str] = set()
    with Session(bot.engine) as session:
        for retro in session.exec(select(Retro)):
            expected |= {job.id for job in timers.expected_for_retro(session, retro)}
        for action in session.exec(select(ActionItem).where(col(ActionItem.status) == "open")):
            expected |= {job.id for job in timers.action_item(action)}
    return expected - stored


def retro(bot: Bot) -> Retro:
    with Session(bot.engine) as session:
        return session.exec(select(Retro)).one()


def big_team(bot: Bot, size: int) -> list[str]:
    people = [f"U{n:03d}" for n in range(size)]
    for n, person in enumerate(people):
        bot.fake.add_user(person, f"person{n}", tz=("Europe/Berlin", "America/New_York", "Asia/Tokyo")[n % 3])
    bot.fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    bot.fake.add_channel(CHANNEL, "releases", [*people, BOT_USER_ID])
    return people


def is_invitation(params: dict[str, Any]) -> bool:
    return str(params.get("text", "")).startswith("You're invited")


@pytest.mark.parametrize("nth", [1, 10, 30])
def test_a_crash_during_the_survey_fan_out(bot: Bot, nth: int) -> None:
    people = big_team(bot, 30)
    bot.fake.latency = LATENCY
    bot.crash_at("chat.postMessage", nth=nth, when=is_invitation)
    before = len(bot.fake.calls)
    crash_and_restart(bot, lambda: start_retro_request(bot, people[0]))
    assert any(c.method == "chat.postMessage" for c in bot.fake.calls[before:])
    # Everyone was invited exactly once, the kickoff and the "started" note are there once each.
    assert dm_counts(bot, people, "You're invited") == Counter(dict.fromkeys(people, 1))
    kickoffs = [m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started")]
    assert len(kickoffs) == 1
    (note,) = [m for m in bot.fake.dms_to(people[0]) if " has started: " in m.text]
    assert "30" in note.text
    assert missing_jobs(bot) == set()
    # The retro goes on: at the deadline collection closes and the round-robin starts, once.
    bot.slack.message(people[1], f"D{people[1]}", "- The deploy was slow")
    bot.settle()
    bot.clock.now = retro(bot).deadline + timedelta(seconds=1)
    bot.run_due_jobs()
    assert len(in_thread(bot, kickoffs[0], "What came in")) == 1
    assert retro(bot).phase == "discussing"


def test_a_crash_on_the_kickoff_itself(bot: Bot) -> None:
    """Slack posted the kickoff and the bot died before it learned the ts: it finds its message again."""
    team(bot)
    bot.crash_at(
        "chat.postMessage", when=lambda p: str(p.get("text", "")).startswith("Retrospective started")
    )
    crash_and_restart(bot, lambda: start_retro_request(bot, FACILITATOR))
    kickoffs = [m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started")]
    assert len(kickoffs) == 1
    assert retro(bot).kickoff_ts == kickoffs[0].ts
    assert dm_counts(bot, PEOPLE, "You're invited") == Counter(dict.fromkeys(PEOPLE, 1))
    assert missing_jobs(bot) == set()


def start_retro_request(bot: Bot, facilitator: str) -> None:
    """/retro new and the modal's submission, without waiting for what follows."""
    reply, _ = bot.slack.command(facilitator, CHANNEL, "new Release 2.4")
    assert reply.status == 200
    bot.executor.wait_idle()
    view_id = list(bot.fake.views)[-1]
    submitted = bot.slack.submit(facilitator, view_id, {})
    assert submitted.status == 200 and submitted.body == ""


def collecting(bot: Bot) -> PostedMessage:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Rollback took 40 minutes\n+ The canary caught it")
    bot.slack.message("UCAROL", "DUCAROL", "* Cache the dependencies")
    bot.settle()
    bot.fake.latency = LATENCY
    return kickoff


def turn_prompts(bot: Bot, kickoff: PostedMessage) -> Counter[str]:
    """Whose turn was announced in the thread, how many times."""
    return Counter(
        person
        for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)
        for person in PEOPLE
        if m.text.startswith(("It's your turn", "Next up")) and f"<@{person}>" in m.text
    )


def test_a_crash_while_the_deadline_job_closes_collection(bot: Bot) -> None:
    kickoff = collecting(bot)
    bot.crash_at("chat.postMessage", when=lambda p: str(p.get("text", "")).startswith("What came in"))
    bot.clock.now = retro(bot).deadline + timedelta(seconds=1)
    crash_and_restart(bot, bot.run_due_jobs)
    assert len(in_thread(bot, kickoff, "What came in")) == 1
    assert len(in_thread(bot, kickoff, "Round-robin")) == 1
    assert sum(turn_prompts(bot, kickoff).values()) == 1
    assert missing_jobs(bot) == set()
    # The round-robin goes on: the facilitator can skip the running turn.
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "skip")
    assert "Nobody's turn" not in reply.text
    bot.settle()
    assert sum(turn_prompts(bot, kickoff).values()) == 2


def test_a_crash_while_the_round_robin_begins(bot: Bot) -> None:
    kickoff = collecting(bot)
    bot.crash_at("chat.postMessage", when=lambda p: "Round-robin" in str(p.get("text", "")))
    crash_and_restart(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "next"))
    assert len(in_thread(bot, kickoff, "What came in")) == 1
    assert len(in_thread(bot, kickoff, "Round-robin")) == 1
    assert sum(turn_prompts(bot, kickoff).values()) == 1
    assert missing_jobs(bot) == set()


def test_a_crash_while_voting_begins(bot: Bot) -> None:
    kickoff = collecting(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    bot.crash_at("chat.postMessage", nth=2, when=lambda p: "Your ballot" in str(p.get("text", "")))
    crash_and_restart(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "next"))
    assert retro(bot).phase == "voting"
    assert dm_counts(bot, PEOPLE, "Your ballot") == Counter(dict.fromkeys(PEOPLE, 1))
    assert len(in_thread(bot, kickoff, "Voting is open")) == 1
    assert missing_jobs(bot) == set()
    # Voting goes on: closing it posts the results once.
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    assert len(in_thread(bot, kickoff, "Voting results")) == 1


@pytest.mark.parametrize("point", ["summary", "report"])
def test_a_crash_while_closing(bot: Bot, point: str) -> None:
    kickoff = collecting(bot)
    if point == "summary":
        bot.crash_at("chat.postMessage", when=lambda p: str(p.get("text", "")).endswith("is closed."))
    else:
        bot.crash_at("files.completeUploadExternal")
    crash_and_restart(bot, lambda: close_retro_request(bot))
    closed = retro(bot)
    assert closed.phase == "completed"
    assert len([u for u in bot.fake.uploads.values() if u.channel is not None]) == 1
    assert [m.thread_ts for m in bot.fake.messages if m.text.endswith("is closed.")] == [kickoff.ts]
    assert missing_jobs(bot) == set()
    assert closed.summary_ts is not None
    if point == "report":
        # Slack may or may not have the file, the bot cannot tell: it says so rather than upload twice.
        told = [m.text for m in bot.fake.dms_to(FACILITATOR) + bot.fake.ephemerals_to(FACILITATOR)]
        assert any("may not have reached Slack" in text and "report" in text for text in told), told


def close_retro_request(bot: Bot) -> None:
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "close")
    assert reply.body == ""
    bot.executor.wait_idle()
    view_id = list(bot.fake.views)[-1]
    assert bot.slack.submit(FACILITATOR, view_id, {}).body == ""


def test_a_crash_during_the_follow_up(bot: Bot) -> None:
    collecting(bot)
    for text in (
        "action Automate the rollback <@UBOB|bob> in 3 weeks",
        "action Write the runbook <@UCAROL|carol> in 3 weeks",
        "action Retire the old queue <@UDAN|dan> in 3 weeks",
    ):
        bot.slack.command(FACILITATOR, CHANNEL, text)
    bot.settle()
    close_retro(bot)
    bot.crash_at("chat.postMessage", nth=2, when=lambda p: str(p.get("text", "")).startswith("Follow-up"))
    bot.clock.now = retro(bot).deadline + timedelta(weeks=2, seconds=1)
    crash_and_restart(bot, bot.run_due_jobs)
    owners = ["UBOB", "UCAROL", "UDAN"]
    assert dm_counts(bot, owners, "Follow-up") == Counter(dict.fromkeys(owners, 1))
    assert len([m for m in bot.fake.in_channel(CHANNEL) if "Follow-up on" in m.text]) == 1
    assert missing_jobs(bot) == set()
