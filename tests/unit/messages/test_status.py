"""`/retro status`."""

from __future__ import annotations

from bot.domain import RetroStats
from messages import status
from tests.blockkit import assert_valid_message, mrkdwn_text
from tests.factories import NOW, make_retro
from tests.unit.messages.samples import DEADLINE, ESCAPED_EVIL, EVIL, assert_escaped


def test_status_message() -> None:
    stats = RetroStats(
        invited=4, responded=3, counts={"went_well": 2, "went_wrong": 1}, average_smoothness=6.5
    )
    message = status.status_message(retro=make_retro(None, title=EVIL), stats=stats, now=NOW)
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert_escaped(text)
    assert_escaped(message.text)
    assert text.startswith(f"*{ESCAPED_EVIL}* · phase: *collecting*\nAnswers until <!date^")
    assert f"{DEADLINE} (2 days left)" in text
    assert "*Responded*\n3 of 4" in text and "*Smoothness*\n6.5/10" in text
    assert (
        "*Items so far* (3)\n:white_check_mark: What went well: *2*\n:x: What went wrong: *1*\n"
        ":bulb: What to improve: *0*"
    ) in text
    assert "Facilitator: <@UFAC>" in text
    assert message.text == f"{ESCAPED_EVIL}: 3 of 4 responded, 3 items."
