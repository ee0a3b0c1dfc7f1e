"""Due dates as people type them."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.dates import UnreadableDate, parse_due

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-04", date(2026, 12, 4)),
        ("today", MONDAY),
        ("Tomorrow", date(2026, 11, 24)),
        ("in 2 weeks", date(2026, 12, 7)),
        ("in 3 days", date(2026, 11, 26)),
        ("in a month", date(2026, 12, 23)),
        ("next friday", date(2026, 11, 27)),
        ("friday", date(2026, 11, 27)),
        ("next monday", date(2026, 11, 30)),  # on a Monday, "next monday" is a week away
        ("fri", date(2026, 11, 27)),
        ("next week", date(2026, 11, 30)),
    ],
)
def test_readable_dates(typed: str, expected: date) -> None:
    assert parse_due(typed, today=MONDAY) == expected


@pytest.mark.parametrize("typed", ["soonish", "2026-13-01", "in many weeks", "fridays", "someday <maybe>"])
def test_unreadable_dates_quote_what_was_typed(typed: str) -> None:
    with pytest.raises(UnreadableDate, match=f"“{typed}”"):
        parse_due(typed, today=MONDAY)


def test_dates_in_the_past_are_refused() -> None:
    with pytest.raises(UnreadableDate, match=r"“2026-11-20” is in the past"):
        parse_due("2026-11-20", today=MONDAY)


def test_month_ends_are_clamped() -> None:
    assert parse_due("in 1 month", today=date(2027, 1, 31)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("due 2026-12-20", date(2026, 12, 20)),
        ("by friday", date(2026, 11, 27)),
        ("on friday", date(2026, 11, 27)),
        ("due by Dec 20", date(2026, 12, 20)),
        ("Dec 20", date(2026, 12, 20)),
        ("20 December", date(2026, 12, 20)),
        ("december 20", date(2026, 12, 20)),
        ("end of month", date(2026, 11, 30)),
        ("by end of the month", date(2026, 11, 30)),
        ("nov 1", date(2027, 11, 1)),  # future-preferring: the next November 1st
        ("in 10 days", date(2026, 12, 3)),
    ],
)
def test_dates_as_people_type_them(typed: str, expected: date) -> None:
    assert parse_due(typed, today=MONDAY) == expected


def test_a_weekday_on_that_weekday_is_a_week_away() -> None:
    friday = date(2026, 11, 27)
    assert parse_due("friday", today=friday) == date(2026, 12, 4)
    assert parse_due("next friday", today=friday) == date(2026, 12, 4)


@pytest.mark.parametrize("typed", ["5", "one", "{{ 7*7 }}", "due", "by", "<@U1>", "Dec 20 2025"])
def test_what_is_not_a_future_date_is_refused(typed: str) -> None:
    with pytest.raises(UnreadableDate, match=f"“{re.escape(typed)}”"):
        parse_due(typed, today=MONDAY)


def test_dateparser_is_imported_only_when_a_date_is_read() -> None:
    import subprocess
    import sys

    code = "import bot.dates, bot.cli, sys; assert 'dateparser' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
