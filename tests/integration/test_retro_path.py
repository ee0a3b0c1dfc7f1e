"""The first complete path: /retro new → kickoff and survey DMs → surveys → status → close → report."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import Item, Participant, Retro
from tests.conftest import START, Bot
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    PEOPLE,
    blocks_text,
    close_retro,
    invitation_to,
    open_survey,
    start_retro,
    started_note,
    team,
    ts,
    view_text,
)


def test_a_facilitator_and_three_participants_run_a_retro_to_the_report(bot: Bot) -> None:
    team(bot)
    fake = bot.fake

    # /retro new opens the modal with the title from the command text.
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "new Release 2.4")
    assert reply.status == 200
    assert reply.body == ""
    bot.settle()
    modal = list(fake.views.values())[-1]
    title_block = next(b for b in modal["blocks"] if b["block_id"] == "title")
    assert title_block["element"]["initial_value"] == "Release 2.4"
    deadline = bot.clock() + timedelta(days=2)
    assert bot.slack.submit(FACILITATOR, modal["id"], {"deadline": ts(deadline)}).body == ""

    # Kickoff in the channel: title, deadline in each reader's zone, the Prime Directive, the survey button.
    bot.settle()
    (kickoff,) = fake.in_channel(CHANNEL)
    shown = blocks_text(kickoff)
    assert "Release 2.4" in shown
    assert f"<!date^{ts(deadline)}^" in shown
    assert "Prime Directive" in shown
    assert "everyone did the best job" in shown
    # Every human in the channel was invited, bots were not.
    for person in PEOPLE:
        assert f"<@{person}>" in shown
        assert "Release 2.4" in blocks_text(invitation_to(fake, person))
    assert not fake.dms_to("UDEPLOYBOT")
    # Besides her invitation, the facilitator has one "started" note, its progress updated in place.
    assert len(fake.dms_to(FACILITATOR)) == 2
    note = started_note(fake)
    assert "survey sent to 4 participants." in note.text
    updated = [
        c
        for c in fake.calls_to("chat.update")
        if (c.params["channel"], c.params["ts"]) == (note.channel, note.ts)
    ]
    assert updated, "the note was posted once and then updated, not posted again"

    # Three participants answer from their DMs; Dan does not.
    answers = {
        "UALICE": {"cat_went_well": "Canary deploy caught the bug\nGood docs", "smoothness": "8"},
        "UBOB": {
            "cat_went_wrong": "Rollback took 40 minutes",
            "cat_to_improve": "Automate rollback",
            "smoothness": "5",
        },
        "UCAROL": {"cat_went_well": "Pairing on the migration", "surprise": "How fast the fix shipped"},
    }
    for person, values in answers.items():
        view_id = open_survey(bot, person, invitation_to(fake, person))
        assert fake.views[view_id]["callback_id"] == "survey_submit"
        reply = bot.slack.submit(person, view_id, values)
        assert reply.json["response_action"] == "update"
        assert "saved" in view_text(reply.json["view"])

    # /retro status shows who answered, the items and the time left.
    status, _ = bot.slack.command("UDAN", CHANNEL, "status")
    assert "3 of 4" in status.text
    assert "What went well: *3*" in status.text
    assert "What went wrong: *1*" in status.text
    assert "2 days left" in status.text

    # Only the facilitator can close.
    refused, _ = bot.slack.command("UBOB", CHANNEL, "close")
    assert "Only the facilitator" in refused.text
    close_retro(bot)

    bot.settle()
    (upload,) = [u for u in fake.uploads.values() if u.channel == CHANNEL]
    report = upload.content.decode()
    assert upload.filename == "retrospective.md"
    assert report.startswith("# Retrospective: Release 2.4")
    assert "| Responses | 3 of 4 (75%) |" in report
    assert "6.5/10" in report
    for item in [
        "Canary deploy caught the bug",
        "Good docs",
        "Rollback took 40 minutes",
        "Automate rollback",
        "Pairing on the migration",
        "How fast the fix shipped",
    ]:
        assert f"- {item}" in report
    assert "No action items yet" in report
    # The summary sits in the kickoff's thread.
    (summary,) = fake.in_channel(CHANNEL, thread_ts=kickoff.ts)
    assert "3 of 4 people answered" in blocks_text(summary)

    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
        assert retro.phase == "completed"
        assert retro.report_file_id == upload.id
        assert len(session.exec(select(Participant)).all()) == 4
        assert len(session.exec(select(Item)).all()) == 5


def test_the_survey_reopens_with_the_answers_for_editing(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    dm = invitation_to(bot.fake, "UBOB")
    first = open_survey(bot, "UBOB", dm)
    bot.slack.submit("UBOB", first, {"cat_went_wrong": "Flaky tests\nSlow CI", "smoothness": "4"})

    again = open_survey(bot, "UBOB", dm)
    blocks = {b.get("block_id"): b for b in bot.fake.views[again]["blocks"]}
    assert blocks["cat_went_wrong"]["element"]["initial_value"] == "Flaky tests\nSlow CI"
    assert blocks["smoothness"]["element"]["initial_option"]["value"] == "4"

    bot.slack.submit("UBOB", again, {"cat_went_wrong": "Slow CI"})
    with Session(bot.engine) as session:
        texts = [i.text for i in session.exec(select(Item)).all()]
    assert texts == ["Slow CI"]


def test_the_survey_is_closed_after_close(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    dm = invitation_to(bot.fake, "UCAROL")
    pending = open_survey(bot, "UCAROL", dm)
    close_retro(bot)
    bot.settle()

    # A modal left open is refused inline; nothing is stored.
    reply = bot.slack.submit("UCAROL", pending, {"cat_went_well": "Late thought"})
    assert reply.json["response_action"] == "errors"
    refusal = next(iter(reply.json["errors"].values()))
    assert f"collection for “Release 2.4” closed at {START:%Y-%m-%d %H:%M} UTC" in refusal
    assert "please tell alice" in refusal
    # Opening it again shows a notice instead of the form.
    notice = bot.fake.views[open_survey(bot, "UCAROL", dm)]
    assert "closed" in view_text(notice) and "<@UALICE>" in view_text(notice)
    with Session(bot.engine) as session:
        assert session.exec(select(Item)).all() == []


def test_someone_not_invited_is_refused_at_the_kickoff_until_the_facilitator_invites_them(bot: Bot) -> None:
    """Issue 12: the kickoff's survey button is for the retro's people; Dan is told how to get in, is invited
    with `/retro invite` (once, though the command is sent twice), and then answers."""
    team(bot)
    kickoff = start_retro(bot, values={"participants": ["UBOB", "UCAROL"]})
    assert not bot.fake.dms_to("UDAN")
    view_id = open_survey(bot, "UDAN", kickoff)
    notice = view_text(bot.fake.views[view_id])
    assert "Only the facilitator and the participants of" in notice and "/retro invite" in notice
    refused, _ = bot.slack.command("UBOB", CHANNEL, "invite <@UDAN|dan>")
    assert "Only the facilitator" in refused.text
    for _ in range(2):
        reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "invite <@UDAN|dan> <@UBOB|bob>")
        assert reply.status == 200
        bot.settle()
    invitation = invitation_to(bot.fake, "UDAN")  # exactly one
    first, second = [m.text for m in bot.fake.ephemerals_to(FACILITATOR) if "already in" in m.text]
    assert first == "Invited <@UDAN> to *Release 2.4*; <@UBOB> was already in."
    assert second == "I invited nobody new; <@UDAN> and <@UBOB> were already in."
    view_id = open_survey(bot, "UDAN", invitation)
    bot.slack.submit("UDAN", view_id, {"cat_to_improve": "Write a runbook"})
    status, _ = bot.slack.command("UDAN", CHANNEL, "status")
    assert "1 of 3" in status.text  # Bob, Carol and Dan


def test_cancel_ends_the_retro_with_a_reason_on_record(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    refused, _ = bot.slack.command("UBOB", CHANNEL, "cancel too busy")
    assert "Only the facilitator" in refused.text
    no_reason, _ = bot.slack.command(FACILITATOR, CHANNEL, "cancel")
    assert "Say why" in no_reason.text
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "cancel The release was rolled back entirely")
    assert "is cancelled" in reply.text
    bot.settle()
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
    assert (retro.phase, retro.cancel_reason) == ("cancelled", "The release was rolled back entirely")
    assert retro.closed_at is not None
    assert [j.id for j in bot.scheduler.get_jobs()] == []  # no deadline, nudges or follow-up left
    (notice,) = bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)
    assert "cancelled *Release 2.4*: The release was rolled back entirely" in notice.text
    # The channel is free for the next retro.
    start_retro(bot, title="Release 2.4 (again)")
