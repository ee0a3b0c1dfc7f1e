from tests.conftest import Bot


def test_help(bot: Bot) -> None:
    reply, _ = bot.slack.command("U1", "C1", "help")
    assert reply.status == 200
    assert "/retro new" in reply.text
