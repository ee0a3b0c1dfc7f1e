"""Reading the due dates people type: 2026-12-04, today, tomorrow, in 2 weeks, next friday, Dec 20,
20 December, end of month, with or without `due`, `by` or `on` before them.

`dateparser` reads them (preferring the future, relative to the person's today); it is imported when a
date is first read, not with this module: it takes a while to import and the CLI starts without it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

_LEAD = re.compile(r"^(?:due|by|on|until|before)\b\s*(?:(?:by|on)\b\s*)?")
_ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
# What a date can be written with; anything else ("{{ 7*7 }}", "<maybe>") is not a date, although
# dateparser, being lenient, finds one in it.
_DATE_CHARACTERS = re.compile(r"[\w\s\-/.,']+")
_NOT_DATES = frozenset({"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"})
_MONTH_END = frozenset({"end of month", "end of the month", "month end", "eom"})
_WEEKDAY = re.compile(r"(?:next\s+)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*")


class UnreadableDate(ValueError):
    """The message quotes what was typed and says what would work."""


def parse_due(text: str, *, today: date) -> date:
    """A due date from what a person typed, relative to `today` (in their time zone). Never in the past."""
    typed = _LEAD.sub("", " ".join(text.strip().lower().split()))
    found = _parse(typed, today) if typed else None
    if found is None:
        raise UnreadableDate(
            f"I can't read “{text.strip()}” as a date. "
            "Try 2026-12-04, tomorrow, in 2 weeks, next friday, Dec 20 or end of month."
        )
    if found < today:
        raise UnreadableDate(
            f"“{text.strip()}” is in the past ({found.isoformat()}). Pick today or a later date."
        )
    return found


def _parse(typed: str, today: date) -> date | None:
    if _ISO.fullmatch(typed):  # strictly year-month-day (dateparser would read 2026-13-01 as 13 January)
        try:
            return date(*(int(part) for part in typed.split("-")))
        except ValueError:
            return None
    if typed in _MONTH_END:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if not _DATE_CHARACTERS.fullmatch(typed) or typed.isdigit() or typed in _NOT_DATES:
        return None
    import dateparser

    base = datetime.combine(today, time(12))
    found = dateparser.parse(
        typed,
        languages=["en"],
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if found is None:
        return None
    if _WEEKDAY.fullmatch(typed) and found.date() > today + timedelta(days=7):
        # "friday" (or "next friday") on a Friday is a week away, not two: dateparser skips one too many.
        return found.date() - timedelta(days=7)
    return found.date()
