"""Due dates as people type them."""

from __future__ import annotations

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


@pytest.mark.parametrize("typed", ["soonish", "2026-13-01", "next fortnight", "in many weeks", "fridays"])
def test_unreadable_dates_quote_what_was_typed(typed: str) -> None:
    with pytest.raises(UnreadableDate, match=f"“{typed}”"):
        parse_due(typed, today=MONDAY)


def test_dates_in_the_past_are_refused() -> None:
    with pytest.raises(UnreadableDate, match=r"“2026-11-20” is in the past"):
        parse_due("2026-11-20", today=MONDAY)


def test_month_ends_are_clamped() -> None:
    assert parse_due("in 1 month", today=date(2027, 1, 31)) == date(2027, 2, 28)
