"""The App Home tab: your action items, surveys waiting for you, retros you facilitate."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import ActionItem
from tests.conftest import Bot
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    invitation_to,
    open_survey,
    start_retro,
    team,
    view_text,
)


def home_text(bot: Bot, user: str) -> str:
    return view_text(bot.fake.homes[user])


def test_opening_the_home_tab_shows_what_the_person_has_to_do(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> next friday")
    bot.settle()
    bot.fake.homes.clear()
    reply = bot.slack.open_home("UBOB")
    assert reply.status == 200
    bot.settle()
    shown = home_text(bot, "UBOB")
    assert "Automate the rollback" in shown
    assert "Release 2.4" in shown and "Open survey" in shown  # Bob has not answered yet
    bot.slack.open_home(FACILITATOR)
    bot.settle()
    assert "Retros you facilitate" in home_text(bot, FACILITATOR)
    assert "*Release 2.4* in <#CRELEASES> · collecting" in home_text(bot, FACILITATOR)


def test_the_home_tab_is_republished_when_something_in_it_changes(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    assert "Open survey" in home_text(bot, "UCAROL")  # published when the retro started
    bot.slack.submit(
        "UCAROL", open_survey(bot, "UCAROL", invitation_to(bot.fake, "UCAROL")), {"cat_went_well": "CI"}
    )
    bot.settle()
    assert "Release 2.4" not in home_text(bot, "UCAROL").split("Surveys waiting for you")[1]

    bot.slack.command(FACILITATOR, CHANNEL, "action Write the runbook <@UCAROL|carol> tomorrow")
    bot.settle()
    assert "Write the runbook" in home_text(bot, "UCAROL")
    with Session(bot.engine) as session:
        action_id = session.exec(select(ActionItem)).one().id

    # Someone else pressing Done in their own copy of the tab is refused with a small modal.
    bot.fake.homes["UBOB"] = bot.fake.homes["UCAROL"]
    bot.slack.click_in_home("UBOB", action_id="action_done", value=str(action_id))
    bot.settle()
    assert "Only the owner" in view_text(list(bot.fake.views.values())[-1])

    bot.slack.click_in_home("UCAROL", action_id="action_done", value=str(action_id))
    bot.settle()
    assert "Write the runbook" not in home_text(bot, "UCAROL")
    with Session(bot.engine) as session:
        assert session.exec(select(ActionItem)).one().status == "done"
