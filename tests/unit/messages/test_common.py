"""The shared pieces: escaping user text, and the notice modal."""

from __future__ import annotations

from datetime import timedelta

from messages import common
from messages.text import escape, split_lines, time_left
from tests.blockkit import assert_valid_view, mrkdwn_text
from tests.factories import NOW
from tests.unit.messages.samples import ESCAPED_EVIL, EVIL


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape(EVIL) == ESCAPED_EVIL


def test_split_lines_drops_blanks_and_bullets() -> None:
    assert split_lines("  - first\n\n* second\n   \nthird  ") == ["first", "second", "third"]
    assert split_lines(None) == []


def test_time_left() -> None:
    assert time_left(NOW + timedelta(days=2, hours=3), NOW) == "2 days 3 hours left"
    assert time_left(NOW + timedelta(minutes=42), NOW) == "42 minutes left"
    assert time_left(NOW - timedelta(minutes=1), NOW) == "the deadline has passed"


def test_notice_modal_clips_its_title_to_slacks_24_characters() -> None:
    view = common.notice_modal(title="Collection closed for this retro", text="*" + escape(EVIL) + "*")
    assert_valid_view(view)
    assert view["title"]["text"] == "Collection closed for t…"
    assert len(view["title"]["text"]) == 24
    assert mrkdwn_text(view) == f"*{ESCAPED_EVIL}*"
    assert common.notice_modal(title="Retro closed", text="x")["title"]["text"] == "Retro closed"
