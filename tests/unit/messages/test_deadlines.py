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
