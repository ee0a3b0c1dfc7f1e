"""Voting: limits that hold, double clicks that count once, ranked results with ties, root causes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.jobs import JobKind, job_id
from storage.models import Item, Retro, Vote
from tests.conftest import Bot
from tests.fakeslack import PostedMessage
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    blocks_text,
    close_retro,
    start_retro,
    team,
    view_text,
)


def ballot_for(bot: Bot, user: str) -> PostedMessage:
    return [m for m in bot.fake.dms_to(user) if "Your ballot" in blocks_text(m)][-1]


def item_id(bot: Bot, text: str) -> int:
    with Session(bot.engine) as session:
        found = session.exec(select(Item).where(Item.text == text)).one()
        return found.id


def to_voting(bot: Bot) -> PostedMessage:
    """A retro with four items on the ballot, moved straight to voting by the facilitator."""
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message(
        "UBOB", "DUBOB", "- Slow CI\n- Flaky tests\n* Cache dependencies\n* Split the suite\n+ Good docs"
    )
    bot.settle()
    bot.slack.command(FACILITATOR, CHANNEL, "next")  # → round-robin
    bot.settle()
    bot.slack.command(FACILITATOR, CHANNEL, "next")  # → voting
    bot.settle()
    return kickoff


def click(bot: Bot, user: str, action: str, text: str) -> None:
    ballot = ballot_for(bot, user)
    with Session(bot.engine) as session:
        retro_id = session.exec(select(Retro)).one().id
    value = f"{retro_id}:{item_id(bot, text)}"
    button = next(b["accessory"] for b in ballot.blocks if b.get("accessory", {}).get("value") == value)
    assert button["action_id"] == action, f"the ballot shows {button['action_id']} for {text!r}"
    bot.slack.click(user, message=_with_button_first(ballot, value), action_id=action)
    bot.settle()
    # The ballot message is replaced with its new state, as Slack does with replace_original.
    latest = bot.fake.responses[-1].body
    if latest.get("replace_original", True) and latest.get("blocks"):
        ballot.blocks = latest["blocks"]


def _with_button_first(message: PostedMessage, value: str) -> PostedMessage:
    """The simulator presses the first button with the action id: put the wanted one first."""
    wanted = [b for b in message.blocks if b.get("accessory", {}).get("value") == value]
    rest = [b for b in message.blocks if b not in wanted]
    return PostedMessage(message.channel, message.ts, message.text, wanted + rest, message.thread_ts)


def votes(bot: Bot) -> int:
    with Session(bot.engine) as session:
        return len(session.exec(select(Vote)).all())


def test_the_ballot_lists_what_is_worth_acting_on(bot: Bot) -> None:
    to_voting(bot)
    shown = blocks_text(ballot_for(bot, "UCAROL"))
    assert "Slow CI" in shown and "Split the suite" in shown
    assert "Good docs" not in shown  # what went well is not voted on
    assert "3 of 3" in shown


def value_of(bot: Bot, text: str) -> str:
    with Session(bot.engine) as session:
        retro_id = session.exec(select(Retro)).one().id
    return f"{retro_id}:{item_id(bot, text)}"


def test_vote_limits_double_clicks_and_changing_votes(bot: Bot) -> None:
    to_voting(bot)
    click(bot, "UCAROL", "vote", "Slow CI")
    assert votes(bot) == 1

    # A double click: the same "Vote" press arrives twice, both from the ballot as it was.
    stale = _with_button_first(ballot_for(bot, "UCAROL"), value_of(bot, "Flaky tests"))
    for _ in range(2):
        bot.slack.click("UCAROL", message=stale, action_id="vote")
    bot.settle()
    assert votes(bot) == 2
    ballot_for(bot, "UCAROL").blocks = bot.fake.responses[-1].body["blocks"]

    click(bot, "UCAROL", "vote", "Cache dependencies")
    assert votes(bot) == 3
    assert "0 of 3" in blocks_text(ballot_for(bot, "UCAROL"))

    # A fourth vote is refused, the ballot stays as it is, and nothing changes.
    fourth = _with_button_first(ballot_for(bot, "UCAROL"), value_of(bot, "Split the suite"))
    bot.slack.click("UCAROL", message=fourth, action_id="vote")
    bot.settle()
    assert "used all 3 votes" in bot.fake.responses[-1].body["text"]
    assert bot.fake.responses[-1].body["replace_original"] is False
    assert votes(bot) == 3

    # Changing one's mind: remove a vote, give it elsewhere.
    click(bot, "UCAROL", "unvote", "Slow CI")
    click(bot, "UCAROL", "vote", "Split the suite")
    assert votes(bot) == 3
    shown = blocks_text(ballot_for(bot, "UCAROL"))
    assert "✅ *#5* Split the suite" in shown and "✅ *#2* Slow CI" not in shown


def test_results_are_ranked_with_ties_and_root_causes_reach_the_report(bot: Bot) -> None:
    kickoff = to_voting(bot)
    for person, choices in {
        "UALICE": ["Slow CI", "Flaky tests"],
        "UBOB": ["Slow CI", "Flaky tests", "Cache dependencies"],
        "UCAROL": ["Slow CI"],
    }.items():
        for text in choices:
            click(bot, person, "vote", text)
    bot.slack.command(FACILITATOR, CHANNEL, "next")  # close voting
    bot.settle()
    with Session(bot.engine) as session:
        assert session.exec(select(Retro)).one().phase == "actions"
    (results,) = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if "Voting results" in m.text]
    shown = blocks_text(results)
    assert shown.index("*1.* 3 votes") < shown.index("Slow CI")
    assert "*2.* 2 votes · *#3* Flaky tests" in shown
    assert "*3.* 1 vote · *#4* Cache dependencies" in shown
    assert "*4.* 0 votes · *#5* Split the suite" in shown  # alone on 0 votes: not a tie

    # Voting closed: ballots no longer change anything.
    ballot = ballot_for(bot, "UCAROL")
    bot.slack.click("UCAROL", message=ballot, action_id="vote")
    bot.settle()
    assert "Voting for *Release 2.4* is closed" in bot.fake.responses[-1].body["text"]

    # Only the facilitator notes root causes.
    root = f"root:{item_id(bot, 'Slow CI')}"
    bot.slack.click("UBOB", message=results, action_id="result_menu", option=root)
    bot.settle()
    assert "Only the facilitator" in view_text(list(bot.fake.views.values())[-1])
    bot.slack.click(FACILITATOR, message=results, action_id="result_menu", option=root)
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    bot.slack.submit(FACILITATOR, view_id, {"root_cause": "Why slow? No cache. Why? Nobody owns CI."})
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert "- Slow CI (3 votes)\n  - Root cause: Why slow? No cache. Why? Nobody owns CI." in report


def test_equal_counts_share_a_place(bot: Bot) -> None:
    kickoff = to_voting(bot)
    click(bot, "UALICE", "vote", "Slow CI")
    click(bot, "UBOB", "vote", "Flaky tests")
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    (results,) = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if "Voting results" in m.text]
    shown = blocks_text(results)
    assert "*=1.* 1 vote · *#2* Slow CI" in shown
    assert "*=1.* 1 vote · *#3* Flaky tests" in shown
    assert "*=3.* 0 votes · *#4* Cache dependencies" in shown


def test_voting_closes_by_itself(bot: Bot) -> None:
    kickoff = to_voting(bot)
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
    assert retro.voting_deadline is not None
    bot.restart()
    bot.clock.now = retro.voting_deadline
    assert job_id(JobKind.CLOSE_VOTING, retro.team_id, retro.id) in bot.run_due_jobs()
    with Session(bot.engine) as session:
        assert session.exec(select(Retro)).one().phase == "actions"
    results = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if "Voting results" in m.text]
    assert len(results) == 1


def test_three_hundred_items_fit_in_slacks_limits(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
        for n in range(300):
            category = ("went_well", "went_wrong", "to_improve")[n % 3]
            text = f"Item {n:03d}: " + "a long explanation with <special> & *chars* " * 20
            session.add(
                Item(
                    team_id=retro.team_id,
                    retro_id=retro.id,
                    category=category,
                    text=text[:1000],
                    author_id="UBOB",
                    source="survey",
                    created_at=datetime(2026, 11, 23, tzinfo=UTC),
                )
            )
        session.commit()
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    digest = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if "What came in" in m.text]
    assert len(digest) > 1  # split over several messages
    shown = "\n".join(blocks_text(m) for m in digest)
    for number in range(1, 301):
        assert f"*#{number}* " in shown
    assert "<special>" not in shown
    # Every payload passed the fake's Block Kit validation (checked when the fixture ends); ballots too:
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    ballots = [m for m in bot.fake.dms_to("UCAROL") if "Your ballot" in m.text]
    assert len(ballots) >= 5  # 200 items on the ballot, at most 45 per message
    assert all(len(m.blocks) <= 50 for m in ballots + digest)
