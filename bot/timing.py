"""When to nudge someone: near the ideal moment, but not at night in their own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

QUIET_START = time(20, 0)
QUIET_END = time(8, 0)
EVENING = time(19, 30)  # the last comfortable slot before the quiet hours
MARGIN = timedelta(minutes=30)  # a reminder that lands right at the deadline is useless


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the database, too long
        return ZoneInfo("UTC")


def is_quiet(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).time()
    return local >= QUIET_START or local < QUIET_END


def nudge_time(*, ideal: datetime, deadline: datetime, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment to send a reminder meant for `ideal`; None when it is already too late to matter.

    Outside 20:00–08:00 local time: the next morning if that is still well before the deadline,
    otherwise the evening before if that has not passed; only when both fail, the night itself.
    """
    if ideal < now or ideal >= deadline - MARGIN:
        return None
    if not is_quiet(ideal, tz):
        return ideal
    local = ideal.astimezone(tz)
    morning_day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    morning = datetime.combine(morning_day, QUIET_END, tzinfo=tz)
    if morning <= deadline - MARGIN:
        return morning
    evening_day = local.date() if local.time() >= QUIET_START else local.date() - timedelta(days=1)
    evening = datetime.combine(evening_day, EVENING, tzinfo=tz)
    if evening >= now:
        return evening
    return ideal


WORK_START = time(9, 0)
WORK_END = time(17, 0)


def next_daytime(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` if it is outside the quiet hours in `tz`, otherwise the next 08:00 there."""
    if not is_quiet(moment, tz):
        return moment
    local = moment.astimezone(tz)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=tz)


def add_working_hours(start: datetime, hours: float, tz: ZoneInfo) -> datetime:
    """The moment `hours` of working time (Monday to Friday, 09:00–17:00 local) after `start`."""
    remaining = timedelta(hours=hours)
    local = start.astimezone(tz)
    while True:
        day_start = datetime.combine(local.date(), WORK_START, tzinfo=tz)
        day_end = datetime.combine(local.date(), WORK_END, tzinfo=tz)
        if local.weekday() >= 5 or local >= day_end:
            local = datetime.combine(local.date() + timedelta(days=1), WORK_START, tzinfo=tz)
            continue
        local = max(local, day_start)
        available = day_end - local
        if remaining <= available:
            return local + remaining
        remaining -= available
        local = datetime.combine(local.date() + timedelta(days=1), WORK_START, tzinfo=tz)
