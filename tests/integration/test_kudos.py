"""Kudos (issue 15) over HTTP: a shout-out in the survey (named, or anonymous about its giver), edited with
the survey; at the close the kickoff thread gets one message listing them, and the report a "Kudos" section.
Who is thanked is always named."""

from __future__ import annotations

from sqlmodel import Session, select

from messages import kudos
from storage.models import Kudos
from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, close_retro, invitation_to, open_survey, start_retro, team


def test_survey_kudos_go_to_the_thread_and_the_report_at_the_close(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bob = open_survey(bot, "UBOB", invitation_to(bot.fake, "UBOB"))
    refused = bot.slack.submit("UBOB", bob, {kudos.KUDOS_USER_BLOCK: "UBOB", kudos.KUDOS_TEXT_BLOCK: "Me"})
    assert refused.json["errors"] == {
        kudos.KUDOS_USER_BLOCK: "Kudos are for someone else: pick who you want to thank."
    }
    bot.slack.submit(
        "UBOB", bob, {kudos.KUDOS_USER_BLOCK: "UCAROL", kudos.KUDOS_TEXT_BLOCK: "Fixed *CI* <!channel>"}
    )
    again = open_survey(bot, "UBOB", invitation_to(bot.fake, "UBOB"))  # reopened: the shout-out is there
    shown = {b.get("block_id"): b for b in bot.fake.views[again]["blocks"]}
    assert shown[kudos.KUDOS_USER_BLOCK]["element"]["initial_user"] == "UCAROL"
    bot.slack.submit(
        "UBOB", again, {kudos.KUDOS_USER_BLOCK: "UDAN", kudos.KUDOS_TEXT_BLOCK: "Ran the rollback"}
    )
    dan = open_survey(bot, "UDAN", invitation_to(bot.fake, "UDAN"))
    bot.slack.submit("UDAN", dan, {kudos.KUDOS_USER_BLOCK: "UCAROL", kudos.KUDOS_TEXT_BLOCK: "Great notes",
                                   "anonymous": ["anonymous"]})  # fmt: skip
    with Session(bot.engine) as session:
        given = session.exec(select(Kudos)).all()
    assert sorted((k.to_user_id, k.text, k.from_user_id) for k in given) == [
        ("UCAROL", "Great notes", None),  # Dan chose to stay anonymous
        ("UDAN", "Ran the rollback", "UBOB"),  # Bob's edit replaced his first shout-out
    ]

    close_retro(bot)
    bot.settle()
    (thread,) = [
        m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if m.text.startswith("Kudos from")
    ]
    text = str(thread.blocks)
    assert "<@UDAN>: Ran the rollback _(<@UBOB>)_" in text and "<@UCAROL>: Great notes _(someone)_" in text
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert "## Kudos" in report and "**dan**: Ran the rollback _(from bob)_" in report
    assert "**carol**: Great notes _(from anonymous)_" in report
