"""A full asynchronous round-robin: five people in five time zones, every way a turn can end."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.jobs import JobKind, job_id
from bot.timing import zone
from storage.models import Comment, Item, Retro, Turn
from tests.conftest import Bot
from tests.fakeslack import PostedMessage
from tests.integration.helpers import CHANNEL, FACILITATOR, blocks_text, start_retro, team, view_text
from tests.slackclient import Reply

ZONES = {
    "UALICE": "Europe/Berlin",
    "UBOB": "America/New_York",
    "UCAROL": "Asia/Tokyo",
    "UDAN": "Australia/Sydney",
    "UERIN": "America/Los_Angeles",
}


def five(bot: Bot) -> PostedMessage:
    team(bot)
    bot.fake.add_user("UERIN", "erin", tz="America/Los_Angeles")
    bot.fake.channels[CHANNEL].members.append("UERIN")
    kickoff = start_retro(bot)
    for person, text in (("UBOB", "- Rollback took 40 minutes"), ("UCAROL", "+ Canary caught the bug")):
        bot.slack.message(person, f"D{person}", text)
    bot.settle()
    return kickoff


def turns(bot: Bot) -> list[Turn]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Turn).order_by(col(Turn.position))).all())


def current(bot: Bot) -> Turn:
    (turn,) = [t for t in turns(bot) if t.status in ("active", "scheduled")]
    return turn


def wait_for_daytime(bot: Bot) -> Turn:
    """If the next person is asleep, move the clock to their morning and let the job start the turn."""
    turn = current(bot)
    if turn.status == "scheduled":
        assert turn.starts_at is not None
        local = turn.starts_at.astimezone(zone(ZONES[turn.user_id]))
        assert (local.hour, local.minute) == (8, 0), local
        bot.restart()  # the bot was redeployed overnight: the start job waits in the job store
        bot.clock.now = turn.starts_at
        assert job_id(JobKind.TURN_START, turn.team_id, turn.retro_id, turn.id) in bot.run_due_jobs()
        bot.settle()
        turn = current(bot)
    assert turn.status == "active"
    assert turn.starts_at is not None
    assert 8 <= turn.starts_at.astimezone(zone(ZONES[turn.user_id])).hour < 20  # never at night
    return turn


def acked_without_slack(bot: Bot, command: str) -> Reply:
    """The facilitator's command, answered in its ack with nothing but database writes before it: what
    it causes in Slack is left to the delivery workers."""
    mark = bot.timeline.mark()
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, command)
    assert reply.status == 200
    bot.settle()
    assert [e.method for e in bot.timeline.before_ack(mark) if e.kind == "call"] == [], command
    return reply


def prompt_for(bot: Bot, user: str) -> PostedMessage:
    return [m for m in bot.fake.dms_to(user) if "Your turn" in m.text][-1]


def test_a_full_round_robin_across_time_zones(bot: Bot) -> None:
    kickoff = five(bot)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "next")
    assert "round-robin starts" in reply.text
    bot.settle()

    thread = "\n".join(m.text + blocks_text(m) for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts))
    assert "*#1* Canary caught the bug" in thread and "*#2* Rollback took 40 minutes" in thread
    order = [t.user_id for t in turns(bot)]
    assert sorted(order) == sorted(ZONES)
    plan = dict(zip(order, ["comment", "add", "pass", "timeout", "skip"], strict=True))

    for position, person in enumerate(order, 1):
        turn = wait_for_daytime(bot)
        assert turn.user_id == person and turn.position == position
        assert f"<@{person}>, it's your turn" in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)[-1].text
        prompt = prompt_for(bot, person)
        action = plan[person]
        status, _ = bot.slack.command(person, CHANNEL, "status")
        assert f"<@{person}>'s turn until" in status.text

        if position == 2:
            # Mid-turn: the facilitator pauses, the bot restarts, time passes, then the turn resumes
            # with the same person and the same time left.
            assert turn.due_at is not None
            left = turn.due_at - bot.clock()
            paused = acked_without_slack(bot, "pause")
            assert "The round-robin is paused" in paused.text
            bot.restart()
            bot.clock.advance(hours=30)
            assert bot.run_due_jobs() == []  # a paused turn does not time out
            bot.slack.command(FACILITATOR, CHANNEL, "resume")
            bot.settle()
            resumed = current(bot)
            assert resumed.user_id == person
            assert resumed.due_at is not None and resumed.due_at - bot.clock() == left

        if action == "comment":
            bot.slack.click(person, message=prompt, action_id="turn_comment")
            bot.settle()
            view_id = list(bot.fake.views)[-1]
            reply = bot.slack.submit(
                person, view_id, {"turn_item": "2", "turn_text": "We need a one-click rollback"}
            )
            assert reply.body == ""
        elif action == "add":
            bot.slack.click(person, message=prompt, action_id="turn_add")
            bot.settle()
            view_id = list(bot.fake.views)[-1]
            bot.slack.submit(
                person, view_id, {"item_category": "to_improve", "item_text": "Rehearse the rollback"}
            )
        elif action == "pass":
            bot.slack.click(person, message=prompt, action_id="turn_pass")
        elif action == "timeout":
            restarted_due = current(bot).due_at
            bot.restart()  # the timeout job survives a restart with the same due time
            timeout = job_id(JobKind.TURN_TIMEOUT, turn.team_id, turn.retro_id, turn.id)
            (job,) = [j for j in bot.scheduler.get_jobs() if j.id == timeout]
            assert job.next_run_time == restarted_due
            assert restarted_due is not None
            bot.clock.now = restarted_due
            assert bot.run_due_jobs() == [job.id]
        elif action == "skip":
            refused, _ = bot.slack.command(person, CHANNEL, "skip")
            assert "Only the facilitator" in refused.text
            # The last turn: skipping it opens voting (ballots, Home tabs), all queued, none before the ack.
            skipped = acked_without_slack(bot, "skip")
            assert f"Skipped <@{person}>'s turn" in skipped.text
        bot.settle()

    ended = {t.user_id: t.status for t in turns(bot)}
    expected = {
        "comment": "answered",
        "add": "answered",
        "pass": "passed",
        "timeout": "timed_out",
        "skip": "skipped",
    }
    assert ended == {person: expected[action] for person, action in plan.items()}
    with Session(bot.engine) as session:
        assert [c.text for c in session.exec(select(Comment))] == ["We need a one-click rollback"]
        added = session.exec(select(Item).where(Item.source == "round_robin")).one()
        assert (added.number, added.text) == (3, "Rehearse the rollback")
        assert session.exec(select(Retro)).one().phase == "voting"
    thread_text = "\n".join(m.text for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts))
    assert "Everyone has had their turn" in thread_text
    assert "Voting is open" in thread_text
    for person in ZONES:
        assert any("Your ballot" in blocks_text(m) for m in bot.fake.dms_to(person))


def test_only_the_person_whose_turn_it_is_can_answer_and_old_buttons_say_so(bot: Bot) -> None:
    five(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    first = wait_for_daytime(bot)
    prompt = prompt_for(bot, first.user_id)
    intruder = next(p for p in ZONES if p != first.user_id)
    bot.fake.add_user(intruder, intruder.lower(), tz=ZONES[intruder])  # (already there; keeps the name)

    # Someone else pressing this turn's button is refused.
    bot.slack.click(intruder, message=prompt, action_id="turn_comment")
    bot.settle()
    assert "not yours" in view_text(list(bot.fake.views.values())[-1])

    bot.slack.click(first.user_id, message=prompt, action_id="turn_pass")
    bot.settle()
    # The same button again, after the turn is over.
    bot.slack.click(first.user_id, message=prompt, action_id="turn_comment")
    bot.settle()
    assert "That turn has passed" in view_text(list(bot.fake.views.values())[-1])
    bot.slack.click(first.user_id, message=prompt, action_id="turn_pass")
    bot.settle()
    assert "That turn has passed" in bot.fake.responses[-1].body["text"]
    assert [t.status for t in turns(bot)].count("passed") == 1


def test_respondents_only_a_custom_turn_time_and_votes_from_the_modal(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"round_robin_scope": "respondents", "turn_hours": "1", "votes_per_person": "2"})
    bot.slack.message("UBOB", "DUBOB", "- only Bob answered")
    bot.settle()
    bot.slack.command(FACILITATOR, CHANNEL, "next")
    bot.settle()
    assert [t.user_id for t in turns(bot)] == ["UBOB"]
    turn = wait_for_daytime(bot)
    assert turn.due_at is not None and turn.starts_at is not None
    # Bob's turn starts at 08:00 in New York; his one working hour runs 09:00–10:00 there.
    new_york = zone("America/New_York")
    assert turn.starts_at.astimezone(new_york).hour == 8
    assert turn.due_at.astimezone(new_york).hour == 10
    bot.slack.click("UBOB", message=prompt_for(bot, "UBOB"), action_id="turn_pass")
    bot.settle()
    ballot = [m for m in bot.fake.dms_to("UALICE") if "Your ballot" in blocks_text(m)][-1]
    assert "2 of 2" in blocks_text(ballot)


def test_items_sent_during_the_round_robin_point_to_the_turn(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "next")  # before the deadline
    bot.settle()
    bot.slack.message("UDAN", "DUDAN", "+ one more thing")
    bot.settle()
    answer = bot.fake.dms_to("UDAN")[-1].text
    assert "collection for “Release 2.4” closed, so I can't add this" in answer
    assert "You can still add it on your round-robin turn" in answer
    assert "please tell <@UALICE>" in answer
