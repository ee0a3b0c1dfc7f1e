"""messages.text: the escaping every piece of user text passes through, and the small texts people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from messages.text import clip, escape, slack_date, split_lines, time_left

NOW = datetime(2026, 11, 23, 9, 17, 43, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("<https://evil.example|your bank>", "&lt;https://evil.example|your bank&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("a & b", "a &amp; b"),
        # An ampersand is escaped first, so escaped text typed by someone stays what they typed.
        ("&lt;!here&gt;", "&amp;lt;!here&amp;gt;"),
        ("plain *bold* _it_", "plain *bold* _it_"),
    ],
)
def test_escape_leaves_no_control_character_for_mrkdwn(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert "<" not in escape(raw) and ">" not in escape(raw)


def test_clip_keeps_text_that_fits_and_marks_a_cut() -> None:
    assert clip("abcde", 5) == "abcde"
    assert clip("abcdef", 5) == "abcd…"
    assert clip("  ab  cdef", 6) == "  ab…"  # the cut drops trailing spaces, never leading ones
    assert len(clip("x" * 3001, 3000)) == 3000


def test_slack_date_renders_in_the_readers_zone_with_a_utc_fallback() -> None:
    assert (
        slack_date(NOW)
        == f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-23 09:17 UTC>"
    )
    assert (
        slack_date(NOW, "{date_long}") == f"<!date^{int(NOW.timestamp())}^{{date_long}}|2026-11-23 09:17 UTC>"
    )


def test_split_lines_drops_every_kind_of_bullet() -> None:
    assert split_lines("• one\n- two\n* three\n•four\n-five") == ["one", "two", "three", "•four", "-five"]
    assert split_lines("") == []


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(0), "the deadline has passed"),
        (timedelta(seconds=59), "less than a minute left"),
        (timedelta(minutes=1), "1 minute left"),
        (timedelta(minutes=2), "2 minutes left"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute left"),
        (timedelta(hours=2, minutes=2), "2 hours 2 minutes left"),
        (timedelta(days=1), "1 day left"),
        (timedelta(days=1, hours=2, minutes=5), "1 day 2 hours left"),
    ],
)
def test_time_left(left: timedelta, text: str) -> None:
    assert time_left(NOW + left, NOW) == text
