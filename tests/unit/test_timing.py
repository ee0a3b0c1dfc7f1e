"""Nudges land at sensible local hours, unless that would miss the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.timing import nudge_time, zone

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def local(moment: datetime | None, tz: str) -> str:
    assert moment is not None
    return moment.astimezone(zone(tz)).strftime("%a %H:%M")


@pytest.mark.parametrize(
    ("tz", "ideal_utc", "expected_local"),
    [
        # Berlin (UTC+1): 14:00 UTC is 15:00 local, fine as it is.
        ("Europe/Berlin", datetime(2026, 11, 24, 14, tzinfo=UTC), "Tue 15:00"),
        # Tokyo (UTC+9): 14:00 UTC is 23:00 local → the next morning at 08:00.
        ("Asia/Tokyo", datetime(2026, 11, 24, 14, tzinfo=UTC), "Wed 08:00"),
        # New York (UTC-5): 04:00 UTC is 23:00 the evening before → 08:00 that morning.
        ("America/New_York", datetime(2026, 11, 24, 4, tzinfo=UTC), "Tue 08:00"),
    ],
)
def test_quiet_hours_move_to_the_next_morning(tz: str, ideal_utc: datetime, expected_local: str) -> None:
    deadline = ideal_utc + timedelta(hours=24)
    assert local(nudge_time(ideal=ideal_utc, deadline=deadline, now=NOW, tz=zone(tz)), tz) == expected_local


def test_the_evening_before_when_the_morning_is_too_late() -> None:
    # Deadline 08:15 Tokyo; the 2 h reminder would be 06:15 → 19:30 the evening before.
    deadline = datetime(2026, 11, 25, 8, 15, tzinfo=zone("Asia/Tokyo"))
    sent = nudge_time(ideal=deadline - timedelta(hours=2), deadline=deadline, now=NOW, tz=zone("Asia/Tokyo"))
    assert local(sent, "Asia/Tokyo") == "Tue 19:30"


def test_the_night_itself_only_when_nothing_else_is_left() -> None:
    tz = zone("Asia/Tokyo")
    deadline = datetime(2026, 11, 25, 3, 0, tzinfo=tz)
    now = datetime(2026, 11, 24, 22, 0, tzinfo=tz)
    sent = nudge_time(ideal=deadline - timedelta(hours=2), deadline=deadline, now=now, tz=tz)
    assert local(sent, "Asia/Tokyo") == "Wed 01:00"


def test_too_late_reminders_are_skipped() -> None:
    deadline = NOW + timedelta(hours=10)
    assert (
        nudge_time(ideal=deadline - timedelta(hours=24), deadline=deadline, now=NOW, tz=zone("UTC")) is None
    )


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus") == zone("UTC")
    # Names the zone database has as folders or cannot be files: an OSError, not "not found".
    assert zone("America") == zone("UTC")
    assert zone("x" * 300) == zone("UTC")


def test_working_hours_skip_evenings_and_weekends() -> None:
    from bot.timing import add_working_hours

    berlin = zone("Europe/Berlin")
    # Friday 15:00 Berlin + 4 working hours = Monday 11:00 Berlin.
    start = datetime(2026, 11, 27, 15, 0, tzinfo=berlin)
    assert add_working_hours(start, 4, berlin) == datetime(2026, 11, 30, 11, 0, tzinfo=berlin)
    # Before the working day starts, the clock starts at 09:00.
    early = datetime(2026, 11, 24, 7, 30, tzinfo=berlin)
    assert add_working_hours(early, 4, berlin) == datetime(2026, 11, 24, 13, 0, tzinfo=berlin)
    # Within the day.
    assert add_working_hours(datetime(2026, 11, 24, 10, 0, tzinfo=berlin), 2, berlin).hour == 12


def test_turns_start_in_the_persons_daytime() -> None:
    from bot.timing import next_daytime

    tokyo = zone("Asia/Tokyo")
    night = datetime(2026, 11, 24, 23, 30, tzinfo=tokyo)
    assert next_daytime(night, tokyo) == datetime(2026, 11, 25, 8, 0, tzinfo=tokyo)
    afternoon = datetime(2026, 11, 24, 15, 0, tzinfo=tokyo)
    assert next_daytime(afternoon, tokyo) == afternoon
