"""The Home tab's builder."""

from __future__ import annotations

from datetime import date

from messages import home
from tests.blockkit import mrkdwn_text
from tests.factories import make_retro


def test_the_home_tab_lists_surveys_and_retros_with_titles_escaped() -> None:
    retro = make_retro(None, title="Q3 <launch>")
    view = home.home_view(action_items=[], surveys=[retro], facilitating=[retro], today=date(2026, 11, 23))
    assert view["type"] == "home"
    text = mrkdwn_text(view["blocks"])
    assert "_Nothing open. Nice._" in text
    assert "*Q3 &lt;launch&gt;* in <#C1>, answers until <!date^" in text
    assert "• *Q3 &lt;launch&gt;* in <#C1> · collecting" in text


def test_an_empty_home_tab_says_so() -> None:
    view = home.home_view(action_items=[], surveys=[], facilitating=[], today=date(2026, 11, 23))
    text = mrkdwn_text(view["blocks"])
    assert "_None right now._" in text
    assert "Start one with `/retro new` in a team channel." in text
