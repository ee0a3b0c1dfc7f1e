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
    assert_escaped(linked)


def test_the_texts_around_closing_and_cancelling_escape_the_title() -> None:
    retro = make_retro(None, title=EVIL)
    assert (
        closing.cancelled_reply_text(retro=retro)
        == f"*{ESCAPED_EVIL}* is cancelled. The reason is on record."
    )
    assert closing.may_close(retro=retro) == f"can close *{ESCAPED_EVIL}*"
    assert closing.may_cancel(retro=retro) == f"can cancel *{ESCAPED_EVIL}*"
    assert closing.was_cancelled_text(retro=retro) == (
        f"*{ESCAPED_EVIL}* was cancelled. Start the next one with `/retro new`."
    )
    assert closing.already_closed_text(retro=retro) == (
        f"*{ESCAPED_EVIL}* is already closed and its report is in the channel. Start the next one with `/retro new`."
    )
    assert closing.report_requested_text(retro=retro) == f"Uploading the report of *{ESCAPED_EVIL}*…"
    assert closing.report_what(retro=retro) == (
        f"the report of *{ESCAPED_EVIL}* (run `/retro close` again to retry)"
    )
    # A file's title is plain text: not escaped.
    assert closing.report_title(retro=retro) == f"Retrospective: {EVIL}"
    assert closing.summary_what(channel_id="C9") == (
        "the summary for <#C9> (invite me there with `/invite @Rearview`)"
    )


def test_the_close_modal_fields_map_to_its_blocks() -> None:
    view = closing.close_modal(retro=make_retro(None))
    assert set(closing.FIELDS.values()) <= {b.get("block_id") for b in view["blocks"]}
