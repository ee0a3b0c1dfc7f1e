"""The extend-deadline modal."""

from __future__ import annotations

import json
from datetime import timedelta

from messages import deadlines
from tests.blockkit import assert_valid_view, input_blocks, mrkdwn_text
from tests.factories import NOW, make_retro
from tests.unit.messages.samples import EVIL, assert_escaped


def test_extend_modal_offers_a_day_past_the_deadline() -> None:
    retro = make_retro(None, title=EVIL)
    view = deadlines.extend_modal(retro=retro, now=NOW)
    assert_valid_view(view)
    assert view["callback_id"] == "retro_extend"
    assert json.loads(view["private_metadata"]) == {"retro_id": 7}
    assert_escaped(mrkdwn_text(view))
    (deadline,) = input_blocks(view)
    assert (deadline["block_id"], deadline["element"]["action_id"]) == ("deadline", "value")
    assert deadline["element"]["initial_date_time"] == int((NOW + timedelta(days=3)).timestamp())
    # A deadline already past: a day from now, not a day after the past deadline.
    late = deadlines.extend_modal(retro=retro, now=NOW + timedelta(days=5))
    assert input_blocks(late)[0]["element"]["initial_date_time"] == int((NOW + timedelta(days=6)).timestamp())


def test_the_deadline_texts_escape_the_title() -> None:
    retro = make_retro(None, title="Q3 <launch>")
    assert deadlines.may_change_deadline(retro=retro) == "can change the deadline for *Q3 &lt;launch&gt;*"
    assert deadlines.may_remind(retro=retro) == "can send reminders for *Q3 &lt;launch&gt;*"
    assert (
        deadlines.not_collecting_text(retro=retro) == "*Q3 &lt;launch&gt;* is no longer collecting answers."
    )
    assert "*Q3 &lt;launch&gt;* is over (phase: collecting)" in deadlines.deadline_fixed_text(retro=retro)
    assert deadlines.reminding_text(queued=0, pending=0) == "Everyone has answered already: nobody to remind."
    assert deadlines.reminding_text(queued=1, pending=2).startswith("Reminding 1 of 2 people")
    assert deadlines.nudge_what(user_id="U1") == "a reminder to <@U1>"
