"""The close modal, the close summary and the notes around closing and starting."""

from __future__ import annotations

import json

from bot.domain import RetroStats
from messages import closing, kickoff
from tests.blockkit import assert_valid_message, assert_valid_view, input_blocks, mrkdwn_text
from tests.factories import make_retro
from tests.unit.messages.samples import ESCAPED_EVIL, EVIL, assert_escaped


def test_close_modal_asks_for_an_optional_stakeholder_channel() -> None:
    view = closing.close_modal(retro=make_retro(None, title=EVIL))
    assert_valid_view(view)
    assert view["callback_id"] == "retro_close"
    assert (view["title"]["text"], view["submit"]["text"]) == ("Close the retro", "Close and publish")
    assert json.loads(view["private_metadata"]) == {"retro_id": 7}
    text = mrkdwn_text(view)
    assert_escaped(text)
    assert text.startswith(f"Closing *{ESCAPED_EVIL}* posts a summary in its thread")
    (channel,) = input_blocks(view)
    assert channel["block_id"] == "stakeholder_channel" and channel["optional"] is True
    assert channel["element"]["type"] == "conversations_select"
    assert channel["element"]["action_id"] == "value"


def test_close_summary_and_notices() -> None:
    stats = RetroStats(invited=2, responded=0, counts={}, average_smoothness=None)
    summary = closing.close_summary_message(retro=make_retro(None, title=EVIL), stats=stats)
    assert_valid_message(summary.blocks)
    text = mrkdwn_text(summary.blocks)
    assert_escaped(text)
    assert (
        f":checkered_flag: *{ESCAPED_EVIL}* is closed. 0 of 2 people answered; smoothness no ratings." in text
    )
    assert ":white_check_mark: What went well: 0 · :x: What went wrong: 0 · :bulb: What to improve: 0" in text
    assert summary.text == f"{ESCAPED_EVIL} is closed."

    evil = make_retro(None, title=EVIL)
    linked = kickoff.already_open_text(
        retro=make_retro(None, title=EVIL, kickoff_permalink="https://acme.slack.com/archives/C1/p1")
    )
    assert linked.startswith(
        f"This channel already has an open retro: <https://acme.slack.com/archives/C1/p1|{ESCAPED_EVIL}>, "
        "run by <@UFAC>. Close it with `/retro close`"
    )
    assert kickoff.already_open_text(retro=evil).startswith(
        f"This channel already has an open retro: *{ESCAPED_EVIL}*, run by <@UFAC>."
    )
    assert closing.report_comment(retro=evil) == (
        f"Report for the retrospective *{ESCAPED_EVIL}*, facilitated by <@UFAC>."
    )
    failed = closing.publish_failed_text(retro=evil, error="<boom>")
    assert failed.startswith(
        f"*{ESCAPED_EVIL}* is closed, but I couldn't publish its report (`&lt;boom&gt;`)."
    )
    assert "<boom>" not in failed
    started = kickoff.start_report_text(retro=evil, invited=["U1"], failed=[("U2", "user_not_found")])
    assert started.splitlines() == [
        f"*{ESCAPED_EVIL}* has started: survey sent to 1 participant.",
        "I could not reach these people, so they got no survey:",
        "• <@U2>: `user_not_found`",
        "They can still answer with the *Fill in the survey* button on the kickoff message.",
    ]
    for text in (linked, failed, started):
        assert_escaped(text)
