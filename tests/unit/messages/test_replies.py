"""The category picker for unprefixed replies."""

from __future__ import annotations

import json

from messages import replies
from tests.blockkit import assert_valid_message, buttons, mrkdwn_text
from tests.factories import make_retro
from tests.unit.messages.samples import ESCAPED_EVIL, EVIL


def test_category_picker_carries_the_text_in_its_buttons() -> None:
    message = replies.category_picker(
        retro=make_retro(None, title=EVIL), text=EVIL, anonymous=True, source="dm"
    )
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert text == f"Which category is this for *{ESCAPED_EVIL}*?\n>{ESCAPED_EVIL}"
    picks = [(action_id, json.loads(value), label) for action_id, value, label in buttons(message.blocks)]
    payload = {"r": 7, "t": EVIL, "a": True, "s": "dm"}
    assert picks == [
        ("item_pick:went_well", {**payload, "c": "went_well"}, "What went well"),
        ("item_pick:went_wrong", {**payload, "c": "went_wrong"}, "What went wrong"),
        ("item_pick:to_improve", {**payload, "c": "to_improve"}, "What to improve"),
    ]


def test_the_answers_to_items_sent_as_messages() -> None:
    retro = make_retro(None, title="Q3 <launch>")
    assert replies.added_text(retro=retro, count=2, anonymous=True) == (
        ":white_check_mark: Added 2 items anonymously to *Q3 &lt;launch&gt;*."
    )
    assert replies.added_to_category_text(retro=retro, category_label="A & B") == (
        ":white_check_mark: Added to *A &amp; B* in *Q3 &lt;launch&gt;*."
    )
    assert replies.fix_and_resend_text(problem="Too long.") == (
        "I couldn't add that: Too long. Nothing was saved; please send it again."
    )
