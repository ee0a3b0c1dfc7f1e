"""`/retro history` and `/retro report <which>`'s texts."""

from __future__ import annotations

from messages import history
from tests.blockkit import assert_valid_message
from tests.factories import make_retro
from tests.unit.messages.samples import ESCAPED_EVIL, EVIL


def test_no_match_escapes_what_was_asked_for() -> None:
    assert history.no_match_text(which=EVIL) == (
        f"No retro in this channel matches “{ESCAPED_EVIL}”. `/retro history` lists them with their numbers."
    )


def test_history_of_an_empty_channel() -> None:
    message = history.history_message(channel_id="C1", retros=[], metrics={})
    assert message.text == "No retros in <#C1> yet. Start one with `/retro new [title]`."


def test_history_lists_cancelled_retros_with_their_reason_escaped() -> None:
    retro = make_retro(None, title=EVIL, phase="cancelled", cancel_reason=EVIL)
    message = history.history_message(channel_id="C1", retros=[retro], metrics={})
    assert_valid_message(message.blocks)
    assert f"*#7 {ESCAPED_EVIL}*" in str(message.blocks)
    assert f"cancelled: {ESCAPED_EVIL}" in str(message.blocks)
