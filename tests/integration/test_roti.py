"""ROTI (issue 15): at the close every participant is asked "Was this retro worth your time?"; ratings are
anonymous (a keyed hash, a random id, the close as their time), changeable, refused from outsiders, and the
report and `/retro history` show the average and the trend."""

from __future__ import annotations

from sqlmodel import Session, select

from messages import roti
from storage.models import Retro, RotiRating
from tests.conftest import Bot
from tests.fakeslack import PostedMessage
from tests.integration.helpers import CHANNEL, FACILITATOR, PEOPLE, close_retro, start_retro, team


def question(bot: Bot, user: str) -> PostedMessage:
    (asked,) = [m for m in bot.fake.dms_to(user) if m.text.startswith("Was ")]
    return asked


def rate(bot: Bot, user: str, score: int) -> None:
    reply, _ = bot.slack.click(user, message=question(bot, user), action_id=f"{roti.ROTI_ACTION}_{score}")
    assert reply.status == 200
    bot.settle()


def test_participants_rate_the_retro_anonymously_and_the_report_and_history_show_it(bot: Bot) -> None:
    team(bot)
    start_retro(bot, title="Release 2.4")
    bot.slack.message("UBOB", "DUBOB", "- Rollback took 40 minutes")
    bot.settle()
    close_retro(bot)
    bot.settle()
    for person in PEOPLE:  # everyone invited is asked, once
        assert question(bot, person).text == "Was Release 2.4 worth your time?"
    rate(bot, "UBOB", 2)
    rate(bot, "UBOB", 4)  # changed: one rating per person
    rate(bot, "UCAROL", 5)
    assert "you rated *Release 2.4* 5 of 5" in str(bot.fake.responses[-1].body["blocks"])
    bot.fake.add_user("UOUT", "outsider")
    outsider = PostedMessage(
        channel="DUOUT", ts="9.9", text="", blocks=question(bot, "UBOB").blocks, thread_ts=None
    )
    bot.slack.click("UOUT", message=outsider, action_id=f"{roti.ROTI_ACTION}_1")
    bot.settle()
    assert "Only the retro's participants" in bot.fake.responses[-1].body["text"]

    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
        ratings = session.exec(select(RotiRating)).all()
    assert sorted(r.score for r in ratings) == [4, 5]
    assert {r.created_at for r in ratings} == {retro.closed_at}  # never when they clicked
    stored = str([r.model_dump() for r in ratings])
    assert not any(person in stored for person in [*PEOPLE, FACILITATOR])

    # The report, uploaded again, and the history show the average.
    bot.slack.command("UCAROL", CHANNEL, "report")
    bot.settle()
    report = list(bot.fake.uploads.values())[-1].content.decode()
    assert "## Worth the time?" in report and "This retro: **4.5 of 5** from 2 ratings" in report
    assert "| Release 2.4 |" in report.split("## Worth the time?")[1]
    reply, _ = bot.slack.command("UCAROL", CHANNEL, "history")
    assert "worth the time 4.5/5 (2 ratings)" in str(reply.json)
