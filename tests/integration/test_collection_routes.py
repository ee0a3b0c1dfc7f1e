"""Every way to add an item: survey, Add item, kickoff-thread replies and DMs; release outcome; formats."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Item, Retro
from tests.blockkit import mrkdwn_text
from tests.conftest import Bot
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    blocks_text,
    close_retro,
    invitation_to,
    items,
    open_survey,
    start_retro,
    team,
    view_text,
)


def test_release_outcome_is_shown_in_the_kickoff_and_gaps_in_the_report(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(
        bot,
        values={
            "release_version": "2.4.0",
            "release_deploy_date": "2026-11-20",
            "release_incidents": "One P2: checkout errors for 20 minutes",
            "release_notes": "Deploy took 48 min (planned 20)",
        },
    )
    shown = mrkdwn_text(kickoff.blocks)
    assert "*Version:* 2.4.0" in shown and "*Deploy date:* 2026-11-20" in shown
    assert "*Incidents:* One P2: checkout errors for 20 minutes" in shown
    assert "*Rollbacks:* _not given_" in shown
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert "| Deploy date | 2026-11-20 |" in report
    assert "| Rollbacks | _missing_ |" in report
    assert "Gaps: Scope, Rollbacks, Hotfixes not recorded." in report


def test_the_format_and_custom_questions_shape_survey_status_and_report(bot: Bot) -> None:
    team(bot)
    start_retro(
        bot,
        values={
            "format": "start_stop_continue",
            "questions": "Was the checklist useful?\nWhat would you automate?",
        },
    )
    view_id = open_survey(bot, "UBOB", invitation_to(bot.fake, "UBOB"))
    ids = [b.get("block_id") for b in bot.fake.views[view_id]["blocks"]]
    assert [i for i in ids if i and i.startswith("cat_")] == ["cat_start", "cat_stop", "cat_continue"]
    assert "Was the checklist useful?" in view_text(bot.fake.views[view_id])
    bot.slack.submit("UBOB", view_id, {"cat_stop": "Friday deploys", "custom_1": "The smoke tests"})
    status, _ = bot.slack.command("UBOB", CHANNEL, "status")
    assert "Stop: *1*" in status.text and "Continue: *0*" in status.text
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert "## Stop\n\n- Friday deploys" in report
    assert "## What would you automate?\n\n- The smoke tests" in report


def test_add_item_from_the_kickoff(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    before = len(bot.fake.views)
    bot.slack.click("UDAN", message=kickoff, action_id="item_add_open")
    bot.settle()
    assert len(bot.fake.views) == before + 1
    view_id = list(bot.fake.views)[-1]

    empty = bot.slack.submit("UDAN", view_id, {"item_category": "went_wrong", "item_text": "   "})
    assert empty.json["errors"] == {"item_text": "Write something: an item cannot be empty."}
    long = bot.slack.submit("UDAN", view_id, {"item_category": "went_wrong", "item_text": "x" * 1001})
    assert "1,001 characters" in long.json["errors"]["item_text"]
    assert items(bot) == []

    done = bot.slack.submit("UDAN", view_id, {"item_category": "went_wrong", "item_text": "Staging was down"})
    assert done.json["response_action"] == "update"
    assert "Added to *What went wrong*" in view_text(done.json["view"])
    assert items(bot) == [("went_wrong", "Staging was down", "UDAN", "modal")]


def test_thread_replies_become_items_and_are_confirmed(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    reply, ts = bot.slack.message(
        "UBOB",
        CHANNEL,
        "+ Canary caught it\n- Rollback was manual\n* Automate rollback\n&gt; Add a runbook",
        thread_ts=kickoff.ts,
    )
    assert reply.status == 200
    bot.settle()
    assert items(bot) == [
        ("went_well", "Canary caught it", "UBOB", "thread"),
        ("went_wrong", "Rollback was manual", "UBOB", "thread"),
        ("to_improve", "Automate rollback", "UBOB", "thread"),
        ("to_improve", "Add a runbook", "UBOB", "thread"),
    ]
    assert (CHANNEL, ts, "white_check_mark") in bot.fake.reactions
    # Slack retries an event it thinks we missed: nothing is added twice.
    event_id = "EvRETRY1"
    bot.slack.message("UCAROL", CHANNEL, "+ Pairing", thread_ts=kickoff.ts, event_id=event_id, ts="1.1")
    bot.slack.message(
        "UCAROL", CHANNEL, "+ Pairing", thread_ts=kickoff.ts, event_id=event_id, ts="1.1", retry_num=1
    )
    bot.settle()
    assert [i for i in items(bot) if i[2] == "UCAROL"] == [("went_well", "Pairing", "UCAROL", "thread")]


def test_an_unclassified_reply_asks_for_the_category_and_loses_nothing(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", CHANNEL, "the on-call handover was confusing", thread_ts=kickoff.ts)
    bot.settle()
    assert items(bot) == []
    (ask,) = bot.fake.ephemerals_to("UBOB")
    assert (ask.channel, ask.thread_ts) == (CHANNEL, kickoff.ts)
    assert "the on-call handover was confusing" in blocks_text(ask)
    bot.slack.click("UBOB", message=ask, action_id="item_pick:went_wrong")
    bot.settle()
    assert items(bot) == [("went_wrong", "the on-call handover was confusing", "UBOB", "thread")]
    assert "Added to *What went wrong*" in bot.fake.responses[-1].body["text"]


def test_thread_replies_cannot_be_anonymous(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", CHANNEL, "anon - the deadline was unrealistic", thread_ts=kickoff.ts)
    bot.settle()
    assert items(bot) == []
    assert "can't be anonymous" in bot.fake.ephemerals_to("UBOB")[0].text


def test_replies_elsewhere_and_from_bots_are_ignored(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", CHANNEL, "+ not in the kickoff thread")
    bot.slack.message("UBOB", CHANNEL, "+ another thread", thread_ts="1700000000.999999")
    bot.slack.message("UBOB", CHANNEL, "+ edited", subtype="message_changed")
    bot.settle()
    assert items(bot) == []
    assert bot.fake.reactions == []


def test_dms_add_items_to_the_persons_retro(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UCAROL", "DUCAROL", "- Alerts were noisy\n+ Good pairing")
    bot.settle()
    assert items(bot) == [
        ("went_wrong", "Alerts were noisy", "UCAROL", "dm"),
        ("went_well", "Good pairing", "UCAROL", "dm"),
    ]
    assert "Added 2 items to *Release 2.4*" in bot.fake.dms_to("UCAROL")[-1].text


def test_a_dm_from_someone_in_two_retros_asks_which(bot: Bot) -> None:
    team(bot)
    start_retro(bot, title="Release 2.4")
    bot.fake.add_channel("CMOBILE", "mobile", ["UALICE", "UBOB"])
    bot.slack.command(FACILITATOR, "CMOBILE", "new Mobile sprint 9")
    bot.settle()
    bot.slack.submit(FACILITATOR, list(bot.fake.views)[-1], {})
    bot.settle()
    bot.slack.message("UBOB", "DUBOB", "- Flaky emulator")
    bot.settle()
    picker = bot.fake.dms_to("UBOB")[-1]
    assert "Which one" in blocks_text(picker)
    with Session(bot.engine) as session:
        mobile = session.exec(select(Retro).where(Retro.channel_id == "CMOBILE")).one()
    bot.slack.click("UBOB", message=picker, action_id=f"retro_pick:{mobile.id}")
    bot.settle()
    with Session(bot.engine) as session:
        (stored,) = session.exec(select(Item)).all()
    assert (stored.retro_id, stored.text) == (mobile.id, "Flaky emulator")


def test_a_dm_from_someone_in_no_retro_is_answered(bot: Bot) -> None:
    team(bot)
    bot.slack.message("UBOB", "DUBOB", "+ hello")
    bot.settle()
    assert "not part of any retro" in bot.fake.dms_to("UBOB")[-1].text


def test_a_too_long_thread_line_is_refused_and_nothing_is_stored(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", CHANNEL, "+ fine\n- " + "x" * 1001, thread_ts=kickoff.ts)
    bot.settle()
    assert items(bot) == []  # all or nothing: the good line waits for the corrected message
    answer = bot.fake.ephemerals_to("UBOB")[-1].text
    assert "1,001 characters" in answer and "Nothing was saved" in answer
    assert bot.fake.reactions == []


def test_old_event_keys_are_pruned(bot: Bot) -> None:
    from storage.models import ProcessedEvent

    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", CHANNEL, "+ one", thread_ts=kickoff.ts)
    bot.settle()
    bot.clock.advance(days=8)
    bot.services.items.first_delivery(team_id="T0TEAM", raw_keys=["fresh"])
    with Session(bot.engine) as session:
        assert len(session.exec(select(ProcessedEvent)).all()) == 1
