"""Acks never wait on Slack: with Slack answering in 150 ms a call, what each request does before its ack.

Slack gives an ack 3 seconds; real Slack answers in hundreds of milliseconds and rate-limits. The only Slack
call allowed before an ack is the `views.open` that needs the 3-second trigger id. What a request waited on
is read from the bot's in-process timeline (calls and acks in the order they happened), not from timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, FACILITATOR, PEOPLE, open_survey, start_retro, team
from tests.slackclient import Reply

LATENCY = 0.15


@dataclass
class Acked:
    reply: Reply
    waited_on: list[str]  # the Slack methods called before the ack


def acked(bot: Bot, request: Callable[[], Reply]) -> Acked:
    bot.settle()  # nothing else is running: every entry after the mark is this request's
    mark = bot.timeline.mark()
    reply = request()
    bot.settle()
    waited_on = [e.method for e in bot.timeline.before_ack(mark) if e.kind == "call"]
    return Acked(reply, waited_on)


def collecting(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.fake.latency = LATENCY


def discussing(bot: Bot) -> None:
    """Collection closed by the facilitator: the round-robin's first turn is running."""
    collecting(bot)
    bot.fake.latency = 0
    bot.slack.message("UBOB", "DUBOB", "- Rollback took 40 minutes")
    bot.settle()
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    assert reply.status == 200
    bot.fake.latency = LATENCY


def test_help_status_and_thread_replies_wait_on_nothing(bot: Bot) -> None:
    collecting(bot)
    kickoff = next(m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started"))
    for request in (
        lambda: bot.slack.command("UBOB", CHANNEL, "help")[0],
        lambda: bot.slack.command("UBOB", CHANNEL, "status")[0],
        lambda: bot.slack.message("UCAROL", CHANNEL, "- Flaky smoke tests", thread_ts=kickoff.ts)[0],
        lambda: bot.slack.message("UDAN", "DUDAN", "+ The canary caught it")[0],
    ):
        ack = acked(bot, request)
        assert ack.reply.status == 200
        assert ack.waited_on == [], ack
    # And the work after the acks was done: both items were stored and confirmed.
    assert len(bot.fake.reactions) == 1 and "Added 1 item" in bot.fake.dms_to("UDAN")[-1].text


def test_modals_wait_only_on_views_open(bot: Bot) -> None:
    team(bot)
    bot.fake.latency = LATENCY
    ack = acked(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "new Release 2.5")[0])
    assert set(ack.waited_on) <= {"views.open"}, ack
    assert len(bot.fake.views) == 1  # the modal opened within the trigger's 3 seconds
    bot.fake.latency = 0
    start_retro(bot, title="Release 2.6")
    bot.fake.latency = LATENCY
    dm = bot.fake.dms_to("UBOB")[0]
    ack = acked(bot, lambda: bot.slack.click("UBOB", message=dm, action_id="survey_open")[0])
    assert set(ack.waited_on) <= {"views.open"}, ack
    survey = list(bot.fake.views)[-1]
    ack = acked(bot, lambda: bot.slack.submit("UBOB", survey, {"cat_went_well": "CI"}))
    assert ack.reply.status == 200
    assert ack.waited_on == []


def test_the_survey_opens_within_slacks_three_seconds_when_slack_is_slow(bot: Bot) -> None:
    collecting(bot)
    for person in PEOPLE[1:]:
        open_survey(bot, person, bot.fake.dms_to(person)[0])  # asserts the modal opened
    assert not [c for c in bot.fake.calls_to("views.open") if c.params.get("error")]


def test_pause_waits_on_nothing(bot: Bot) -> None:
    discussing(bot)
    ack = acked(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "pause")[0])
    assert ack.reply.status == 200
    assert ack.waited_on == []
    assert any("paused" in m.text for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff_ts(bot)))


def test_the_last_skip_waits_on_nothing(bot: Bot) -> None:
    """The last skip begins voting: ballots and Home tabs for everyone go out after the ack."""
    discussing(bot)
    for _ in range(len(PEOPLE)):
        ack = acked(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "skip")[0])
        assert ack.reply.status == 200
        assert ack.waited_on == [], ack
    for person in PEOPLE:
        ballots = [m for m in bot.fake.dms_to(person) if "Your ballot" in m.text]
        assert len(ballots) == 1, person


def test_a_rate_limit_delays_the_message_not_the_ack(bot: Bot) -> None:
    """A 429 reschedules the delivery by its Retry-After on the clock; no thread sleeps, the ack is at once."""
    discussing(bot)
    bot.fake.latency = 0
    in_thread = kickoff_ts(bot)
    before = len(bot.fake.calls)
    bot.fake.fail(
        "chat.postMessage", status=429, retry_after=2, times=2, when=lambda p: p.get("thread_ts") == in_thread
    )
    ack = acked(bot, lambda: bot.slack.command(FACILITATOR, CHANNEL, "pause")[0])
    assert ack.reply.status == 200 and ack.waited_on == []
    assert bot.sleeps == []
    tries = [
        c
        for c in bot.fake.calls[before:]
        if c.method == "chat.postMessage" and c.params.get("thread_ts") == in_thread
    ]
    assert len(tries) == 3  # two 429s, then the post
    assert tries[1].at - tries[0].at >= 2 and tries[2].at - tries[1].at >= 2
    paused = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=in_thread) if "paused" in m.text]
    assert len(paused) == 1


def kickoff_ts(bot: Bot) -> str:
    return next(m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started")).ts
