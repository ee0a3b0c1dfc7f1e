"""Slack's edge cases through the signed HTTP path: where `/retro new` cannot work, the person is told
before filling in the modal."""

from __future__ import annotations

from tests.conftest import Bot
from tests.fakeslack import BOT_USER_ID
from tests.integration.helpers import FACILITATOR, PEOPLE, team


def test_new_in_a_channel_without_the_bot_says_how_to_invite_it(bot: Bot) -> None:
    team(bot)
    bot.fake.add_channel("CLOBBY", "lobby", [*PEOPLE], bot_is_member=False)
    reply, _ = bot.slack.command(FACILITATOR, "CLOBBY", "new Release 2.5")
    assert reply.status == 200
    bot.settle()
    assert bot.fake.views == {}  # no 19-field modal that fails after its submit
    (answer,) = bot.fake.responses
    assert "/invite @Rearview" in answer.body["text"] and "<#CLOBBY>" in answer.body["text"]


def test_new_in_a_private_channel_without_the_bot_says_how_to_invite_it(bot: Bot) -> None:
    team(bot)
    bot.fake.add_channel("CSECRET", "secret", [*PEOPLE], is_private=True, bot_is_member=False)
    bot.slack.command(FACILITATOR, "CSECRET", "new")
    bot.settle()
    assert bot.fake.views == {}
    assert "/invite @Rearview" in bot.fake.responses[-1].body["text"]


def test_new_in_a_group_dm_is_refused_clearly(bot: Bot) -> None:
    team(bot)
    bot.fake.add_channel(
        "GMPIM", "mpdm-alice--bob--rearview-1", [*PEOPLE[:2], BOT_USER_ID], is_private=True, is_mpim=True
    )
    reply, _ = bot.slack.command(FACILITATOR, "GMPIM", "new")
    assert "group DM" in reply.text and "/invite @Rearview" in reply.text
    bot.settle()
    assert bot.fake.views == {}


def test_new_where_the_bot_is_opens_the_modal(bot: Bot) -> None:
    team(bot)
    bot.fake.add_channel("CPRIV", "private-team", [*PEOPLE, BOT_USER_ID], is_private=True)
    bot.slack.command(FACILITATOR, "CPRIV", "new")
    bot.settle()
    assert len(bot.fake.views) == 1 and bot.fake.responses == []
