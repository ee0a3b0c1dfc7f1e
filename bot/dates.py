"""Reading the due dates people type: 2026-12-04, today, tomorrow, in 2 weeks, next friday, friday."""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_IN = re.compile(r"^in\s+(\d{1,3}|a|an|one|two|three|four)\s+(day|days|week|weeks|month|months)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}


class UnreadableDate(ValueError):
    """The message quotes what was typed and says what would work."""


def parse_due(text: str, *, today: date) -> date:
    """A due date from what a person typed, relative to `today` (in their time zone). Never in the past."""
    typed = " ".join(text.strip().lower().split())
    found = _parse(typed, today)
    if found is None:
        raise UnreadableDate(
            f"I can't read “{text.strip()}” as a date. Try 2026-12-04, tomorrow, in 2 weeks or next friday."
        )
    if found < today:
        raise UnreadableDate(
            f"“{text.strip()}” is in the past ({found.isoformat()}). Pick today or a later date."
        )
    return found


def _parse(typed: str, today: date) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
        try:
            return date.fromisoformat(typed)
        except ValueError:
            return None
    if typed == "today":
        return today
    if typed == "tomorrow":
        return today + timedelta(days=1)
    if match := _IN.match(typed):
        count = int(match.group(1)) if match.group(1).isdigit() else _WORDS[match.group(1)]
        unit = match.group(2).rstrip("s")
        if unit == "day":
            return today + timedelta(days=count)
        if unit == "week":
            return today + timedelta(weeks=count)
        return _add_months(today, count)
    if typed == "next week":
        return today + timedelta(weeks=1)
    words = typed.split()
    if len(words) == 2 and words[0] in ("next", "this", "on"):
        words = words[1:]
    day = _weekday(words[0]) if len(words) == 1 else None
    if day is not None:
        ahead = (day - today.weekday()) % 7 or 7  # "friday" on a Friday means the next one
        return today + timedelta(days=ahead)
    return None


def _weekday(word: str) -> int | None:
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return number
    return None


def _add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
