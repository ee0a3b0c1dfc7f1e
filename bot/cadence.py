"""When a channel's next retro falls, and who facilitates it: pure functions of the schedule and the clock.

Times are computed as wall-clock times in the schedule's time zone and converted to UTC one occurrence at a
time, so "Monday 10:00 in Berlin" stays 10:00 across a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from bot.timing import zone


class Cadence(StrEnum):
    WEEKLY = "weekly"  # every `every_weeks` weeks on a weekday
    MONTHLY = "monthly"  # the first given weekday of each month


EVERY_WEEKS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Slot:
    """A cadence: what `next_occurrence` needs of a schedule."""

    cadence: Cadence
    weekday: int  # Monday = 0
    at: time  # wall-clock time in `tz`
    tz: str
    every_weeks: int = 1
    anchor: date | None = None  # a day on the cadence; every_weeks counts from it (weekly only)


def parse_time(text: str) -> time:
    """ "HH:MM" as stored; raises ValueError on anything else."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """`day` at `at` on the wall clock of `tz`, in UTC. A time skipped by a daylight-saving change (02:30 on
    the spring-forward night) is read with the offset before the change, so it lands an hour later on the
    wall clock; a repeated one (autumn) means its first occurrence."""
    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


def first_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def next_occurrence(slot: Slot, after: datetime) -> datetime:
    """The first start of `slot` strictly after `after` (UTC)."""
    local_today = after.astimezone(zone(slot.tz)).date()
    if slot.cadence == Cadence.MONTHLY:
        year, month = local_today.year, local_today.month
        for _ in range(14):
            start = local_to_utc(first_weekday_of_month(year, month, slot.weekday), slot.at, slot.tz)
            if start > after:
                return start
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("a month always has its first weekday")
    period = 7 * max(1, slot.every_weeks)
    anchor = slot.anchor or local_today
    anchor += timedelta(days=(slot.weekday - anchor.weekday()) % 7)  # the anchor's week, on the weekday
    # The slot on or before local_today (or the anchor itself), then step until it is after `after`.
    steps = max(0, (local_today - anchor).days // period)
    day = anchor + timedelta(days=steps * period)
    while (start := local_to_utc(day, slot.at, slot.tz)) <= after:
        day += timedelta(days=period)
    return start


@dataclass(frozen=True)
class Rotation:
    facilitator: str
    next_facilitator: str | None  # who comes after, as the kickoff announces it
    next_index: int  # where the rotation continues the time after


def rotate(people: Sequence[str], start: int, can_facilitate: Callable[[str], bool]) -> Rotation | None:
    """This time's facilitator: the first person from `start` (wrapping round) who still can (is in the
    channel and active), and the one after them. None when nobody in the rotation can."""
    if not people:
        return None
    n = len(people)
    order = [(start + k) % n for k in range(n)]
    able = [i for i in order if can_facilitate(people[i])]
    if not able:
        return None
    chosen = able[0]
    after_chosen = [(chosen + k) % n for k in range(1, n + 1)]
    following = next((people[i] for i in after_chosen if i in able), None)
    return Rotation(facilitator=people[chosen], next_facilitator=following, next_index=(chosen + 1) % n)
