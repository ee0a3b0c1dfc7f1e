"""Acks under load, against a bare Bolt app on the same kind of server: with Slack answering in 150 ms a call
and 50 requests at once, every ack is within Slack's 3 seconds, and Rearview's p99 is compared with the
bare app's.

Both apps are measured in the same bursts, with the same signed requests (commands and button
clicks); the bare app acks each at once and does nothing else, which is the floor for Bolt on this machine.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from sqlmodel import Session, select

from bot.domain import FORMATS
from storage.models import Retro
from tests.bare_bolt import latencies, p99, serve_bare_app
from tests.conftest import Bot, stop_waitress
from tests.factories import add_participants, make_item
from tests.fakeslack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.integration.helpers import CHANNEL, PEOPLE, invitation_to, start_retro, team
from tests.slackclient import SlackClient

pytestmark = pytest.mark.load  # measured alone, not beside other tests (tests/conftest.py)

LATENCY = 0.15
CLIENTS = 50
ROUNDS = 9


@pytest.fixture
def bare(fake: FakeSlack, bot: Bot) -> Iterator[SlackClient]:
    """A Bolt app with one handler per request type that only acks, served by waitress like the bot."""
    server, thread = serve_bare_app(fake.api_url, ack_threads=bot.settings.ack_threads)
    yield SlackClient(bot_url=f"http://127.0.0.1:{server.effective_port}", fake=fake)
    stop_waitress(server, thread)


def requests(slack: SlackClient, bot: Bot) -> list[Callable[[], object]]:
    """The mix people send while a retro runs: status, help, and buttons in their DMs."""
    clicks = [invitation_to(bot.fake, person) for person in PEOPLE]
    mix: list[Callable[[], object]] = []
    for n in range(CLIENTS):
        person = PEOPLE[n % len(PEOPLE)]
        if n % 5 == 4:
            message = clicks[n % len(clicks)]
            mix.append(partial(slack.click, person, message=message, action_id="survey_open"))
        else:
            mix.append(partial(slack.command, person, CHANNEL, ("status", "help")[n % 2]))
    return mix


def test_fifty_concurrent_acks_stay_within_three_seconds_and_near_a_bare_bolt_app(
    bot: Bot, bare: SlackClient
) -> None:
    team(bot)
    start_retro(bot)
    bot.fake.latency = LATENCY
    ours, theirs = requests(bot.slack, bot), requests(bare, bot)
    ratios: list[float] = []
    slowest = 0.0
    for _ in range(ROUNDS):
        # Both apps get their 50 requests in the same burst: whatever else the machine does slows both alike.
        both = latencies(ours + theirs)
        mine, floor = both[:CLIENTS], both[CLIENTS:]
        bot.settle()
        slowest = max(slowest, *mine)
        ratios.append(p99(mine) / p99(floor))
    assert slowest < 3.0
    # The median of rounds: one round disturbed by the machine does not decide. Measured 0.95-1.15x
    # (3.1x before the outbox; 1.5-1.9x while `/retro status` waited for the workers' SQLite writes).
    assert statistics.median(ratios) <= 1.2, f"p99 ratios to a bare Bolt app, per round: {ratios}"


class AboveTheGoal(AssertionError):
    """The p99 ratio to the bare app is over issue 13's goal."""


@pytest.mark.xfail(
    raises=AboveTheGoal,
    strict=True,
    reason="issue 13: p99 1.3-1.5x a bare Bolt app (python -m bench ack; was 2.4x). In-process, a status "
    "request costs about 0.77 ms of CPU against the bare app's 0.15 ms; 0.45 ms of it are its three "
    "statements on SQLite (Core instead of the ORM saves 0.08 ms), and the bench is CPU-bound. "
    "Strict: once the goal is met this fails, and the marker goes.",
)
def test_status_of_a_retro_of_twelve_people_and_forty_items_acks_near_a_bare_bolt_app(
    bot: Bot, bare: SlackClient
) -> None:
    """`/retro status` alone, 50 at once, in an open retro of 12 people and 40 items: its answer (read from
    the database and drawn) is in the ack, every ack within Slack's 3 s, and its p99 within 1.2x of the
    bare app's (issue 13's goal)."""
    team(bot)
    start_retro(bot)
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
        add_participants(session, retro.id, *(f"UMORE{n}" for n in range(12 - len(PEOPLE))), team_id=TEAM_ID)
        categories = [c.key for c in FORMATS[retro.format].categories]
        for n in range(40):
            person = PEOPLE[n % len(PEOPLE)]
            make_item(
                session, team_id=TEAM_ID, retro_id=retro.id, category=categories[n % 3], author_id=person
            )
    reply, _ = bot.slack.command(PEOPLE[1], CHANNEL, "status")
    assert "0 of 12 responded, 40 items" in reply.text, reply.text
    bot.fake.latency = LATENCY
    ours: list[Callable[[], object]] = [
        partial(bot.slack.command, PEOPLE[n % len(PEOPLE)], CHANNEL, "status") for n in range(CLIENTS)
    ]
    theirs: list[Callable[[], object]] = [
        partial(bare.command, PEOPLE[n % len(PEOPLE)], CHANNEL, "status") for n in range(CLIENTS)
    ]
    ratios: list[float] = []
    for round_ in range(ROUNDS):
        # One app's burst at a time (both run in this process: a burst of one would slow the other's), in
        # turns that alternate which goes first, so that the machine's other work falls on both alike.
        first, second = (ours, theirs) if round_ % 2 else (theirs, ours)
        a, b = latencies(first), latencies(second)
        mine, floor = (a, b) if round_ % 2 else (b, a)
        assert max(mine) < 3.0
        ratios.append(p99(mine) / p99(floor))
    bot.settle()
    if statistics.median(ratios) > 1.2:
        raise AboveTheGoal(f"p99 ratios to a bare Bolt app, per round: {[round(r, 2) for r in ratios]}")


def test_help_keeps_answering_while_five_big_retros_start(bot: Bot) -> None:
    """Five facilitators start 40-person retros at once under Slack's tier limits; someone else's
    `/retro help` is answered in under 300 ms the whole time the invitations go out."""
    bot.fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    bot.fake.add_user("UOTHER", "other")
    channels = [f"CTEAM{n}" for n in range(5)]
    people = {c: [f"U{n}X{i:02d}" for i in range(40)] for n, c in enumerate(channels)}
    for channel, members in people.items():
        for member in members:
            bot.fake.add_user(member, member.lower(), tz="Europe/Berlin")
        bot.fake.add_channel(channel, channel.lower(), [*members, "UOTHER", BOT_USER_ID])
    bot.fake.add_channel("CELSEWHERE", "elsewhere", ["UOTHER", BOT_USER_ID])
    bot.fake.latency = 0.03
    for channel, members in people.items():
        reply, _ = bot.slack.command(members[0], channel, f"new Release of {channel}")
        assert reply.status == 200
    bot.executor.wait_idle()
    for channel, view_id in zip(channels, list(bot.fake.views), strict=True):
        assert bot.slack.submit(people[channel][0], view_id, {}).body == ""
    settled = threading.Event()

    def settle() -> None:
        bot.settle()
        settled.set()

    settling = threading.Thread(target=settle, name="settle")
    settling.start()
    waits: list[float] = []
    while not settled.is_set():
        began = time.monotonic()
        reply, _ = bot.slack.command("UOTHER", "CELSEWHERE", "help")
        waits.append(time.monotonic() - began)
        assert reply.status == 200 and "/retro new" in reply.text
        settled.wait(0.05)  # someone asking every 50 ms, not a client hammering the machine it measures
    settling.join()
    invited = Counter(m.channel for m in bot.fake.messages if m.text.startswith("You're invited"))
    everyone = [f"D{m}" for members in people.values() for m in members]
    assert invited == Counter({**dict.fromkeys(everyone, 1), "DUOTHER": 5})  # UOTHER is in all five
    assert len(waits) >= 10, "the invitations went out before anyone could ask"
    assert max(waits) < 0.3, f"slowest /retro help: {max(waits) * 1000:.0f} ms of {len(waits)}"
