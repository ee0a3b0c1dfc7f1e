from tests.integration.test_crash import *
def test_dbg(bot):
    team(bot)
    bot.crash_at("chat.postMessage", when=lambda p: str(p.get("text", "")).startswith("Retrospective started"))
    start_retro_request(bot, FACILITATOR)
    bot.settle()
    print(bot.fake.crashes)
    for c in bot.fake.calls_to("chat.postMessage"): print(repr(c.params.get("text"))[:60])
    assert 0
