"""The Home tab's builder."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.views import View

from messages import home
from storage.models import ActionItem
from tests.blockkit import assert_valid_view, mrkdwn_text
from tests.factories import NOW, make_retro


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


def make_action_item(_: None, *, id: int, text: str) -> ActionItem:
    return ActionItem(id=id, team_id="T1", retro_id=1, text=text, owner_id="U2", created_at=NOW)


def test_a_full_home_tab_keeps_every_section_and_says_how_many_more() -> None:
    """Slack refuses a view over 100 blocks: each section is cut with "and N more", none is dropped."""
    items = [make_action_item(None, id=n, text=f"Task {n}") for n in range(1, 61)]
    surveys = [make_retro(None, id=n, title=f"Survey {n}") for n in range(1, 61)]
    facilitating = [make_retro(None, id=n, title="Long title " * 10) for n in range(1, 81)]
    view = home.home_view(
        action_items=items, surveys=surveys, facilitating=facilitating, today=date(2026, 11, 23)
    )
    assert len(view["blocks"]) <= 100
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["Your action items", "Surveys waiting for you", "Retros you facilitate"]
    text = mrkdwn_text(view["blocks"])
    shown_items, shown_surveys = text.count("Task "), text.count("Survey ")
    assert shown_items >= 20 and shown_surveys >= 20
    assert f"…and {60 - shown_items} more." in text and f"…and {60 - shown_surveys} more." in text
    facilitated = view["blocks"][-1]["text"]["text"]
    assert len(facilitated) <= 3000
    assert f"…and {80 - facilitated.count('• ')} more." in facilitated


def test_a_home_tab_that_fits_shows_everything() -> None:
    items = [make_action_item(None, id=n, text=f"Task {n}") for n in range(1, 31)]
    surveys = [make_retro(None, id=n, title=f"Survey {n}") for n in range(1, 6)]
    view = home.home_view(action_items=items, surveys=surveys, facilitating=surveys, today=date(2026, 11, 23))
    text = mrkdwn_text(view["blocks"])
    assert text.count("Task ") == 30 and "more." not in text


def test_the_plain_dicts_are_what_slack_sdks_models_make_of_them() -> None:
    """The tab is drawn as plain dicts for speed: read back by slack_sdk's View (which validates every
    block) and drawn again, each state gives the same dict."""
    items = [make_action_item(None, id=n, text=f"Task <{n}> & *more*") for n in range(1, 61)]
    for n, item in enumerate(items):
        item.due_date = date(2026, 11, 1 + n % 28) if n % 3 else None
        item.priority = ("high", "medium", "low")[n % 3]
    surveys = [make_retro(None, id=n, title=f"Survey {n}") for n in range(1, 61)]
    for shown in (0, 1, 5, 46, 60):
        view = home.home_view(
            action_items=items[:shown], surveys=surveys[: 60 - shown], facilitating=surveys[:shown],
            today=date(2026, 11, 23),
        )  # fmt: skip
        assert_valid_view(view)
        assert View(**view).to_dict() == view
