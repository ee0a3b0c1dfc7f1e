"""Escalation over HTTP against the fake Slack: `/retro escalate` from the facilitator, the weekly digest in
the board's channel at Monday 09:00 in the facilitator's time zone with owners in other zones, each owner
and the facilitator told once, and a `kill -9` the moment Slack took the digest."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.jobs import JobKind
from tests.conftest import Bot
from tests.fakeslack import BOT_USER_ID
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    blocks_text,
    close_retro,
    start_retro,
    stored_jobs,
    team,
)

BOARD = "CBOARD"


def escalation_notices(bot: Bot, user: str) -> list[str]:
    return [m.text for m in bot.fake.dms_to(user) if m.text.startswith(":rotating_light:")]


def test_the_weekly_digest_goes_to_the_board_once_even_after_a_crash(bot: Bot) -> None:
    team(bot)
    bot.fake.add_channel(BOARD, "release-board", [FACILITATOR, BOT_USER_ID])
    # Monday 1 March 2027 (in the future: the job store runs on real time).
    bot.clock.now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    start_retro(bot)
    close_retro(bot)
    for owner in ("<@UBOB|bob>", "<@UDAN|dan>"):  # New York, Sydney
        reply, _ = bot.slack.command(FACILITATOR, CHANNEL, f"action Automate the rollback {owner} 2027-03-02")
        assert "Automate the rollback" in reply.text, reply.text
    bot.settle()

    refused, _ = bot.slack.command("UBOB", CHANNEL, f"escalate <#{BOARD}|release-board> 3")
    assert "Only the facilitator of this channel's last retro" in refused.text
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, f"escalate <#{BOARD}|release-board> 3")
    assert f"go to <#{BOARD}> every Monday at 09:00" in reply.text, reply.text
    bot.settle()
    (job,) = stored_jobs(bot, JobKind.ESCALATION_DIGEST)
    # Alice is in Berlin: Monday 8 March at 09:00 there.
    digest_at = datetime(2027, 3, 8, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert job.next_run_time == digest_at

    bot.crash_at("chat.postMessage", when=lambda p: p.get("channel") == BOARD)
    bot.clock.now = digest_at.astimezone(UTC)
    bot.run_due_jobs()
    bot.settle()
    assert bot.crashed.is_set(), "the crash point was never reached"
    bot.restart()
    bot.settle()

    (digest,) = bot.fake.in_channel(BOARD)
    shown = blocks_text(digest)
    assert "Overdue action items (2)" in shown
    assert "<@UBOB>" in shown and "<@UDAN>" in shown and "6 days late" in shown
    assert len(escalation_notices(bot, "UBOB")) == 1 and len(escalation_notices(bot, "UDAN")) == 1
    assert len(escalation_notices(bot, FACILITATOR)) == 2  # one per item of her retro
    (job,) = stored_jobs(bot, JobKind.ESCALATION_DIGEST)
    assert job.next_run_time == datetime(2027, 3, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
