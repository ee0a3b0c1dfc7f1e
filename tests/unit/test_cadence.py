"""Cadence arithmetic: local wall-clock times across daylight-saving changes, and the facilitator rota."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.cadence import Cadence, Slot, next_occurrence, rotate

BERLIN_MONDAY_10 = Slot(
    cadence=Cadence.WEEKLY,
    weekday=0,
    at=time(10, 0),
    tz="Europe/Berlin",
    every_weeks=2,
    anchor=date(2026, 10, 5),
)


def test_a_two_week_cadence_keeps_its_local_time_across_the_autumn_change() -> None:
    first = next_occurrence(BERLIN_MONDAY_10, datetime(2026, 10, 10, tzinfo=UTC))
    second = next_occurrence(BERLIN_MONDAY_10, first)
    assert first == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert second == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 10:00 CET, after the change on Oct 25


def test_the_weeks_count_from_the_anchor_not_from_today() -> None:
    # Oct 12 is an off week for a cadence anchored on Oct 5: the next is Oct 19 even asked on Oct 11.
    assert next_occurrence(BERLIN_MONDAY_10, datetime(2026, 10, 11, 23, tzinfo=UTC)).date() == date(
        2026, 10, 19
    )
    # Asked just after a start, the next is two weeks on; just before, it is that start.
    assert next_occurrence(BERLIN_MONDAY_10, datetime(2026, 10, 19, 8, 0, 1, tzinfo=UTC)).date() == date(
        2026, 11, 2
    )
    assert next_occurrence(BERLIN_MONDAY_10, datetime(2026, 10, 19, 7, 59, tzinfo=UTC)).date() == date(
        2026, 10, 19
    )


def test_the_spring_change_in_new_york() -> None:
    slot = Slot(cadence=Cadence.WEEKLY, weekday=6, at=time(9, 30), tz="America/New_York", every_weeks=1)
    before = next_occurrence(slot, datetime(2026, 3, 2, tzinfo=UTC))  # Sunday Mar 8 is the change
    assert before == datetime(2026, 3, 8, 13, 30, tzinfo=UTC)  # 09:30 EDT
    assert next_occurrence(slot, datetime(2026, 3, 1, tzinfo=UTC)) == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def test_monthly_is_the_first_weekday_of_each_month() -> None:
    slot = Slot(cadence=Cadence.MONTHLY, weekday=3, at=time(15, 0), tz="Asia/Tokyo")
    first = next_occurrence(slot, datetime(2026, 11, 21, tzinfo=UTC))
    assert first == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # Thursday Dec 3, 15:00 JST
    assert next_occurrence(slot, first) == datetime(2027, 1, 7, 6, 0, tzinfo=UTC)


def test_the_rotation_skips_whoever_cannot_and_names_the_next() -> None:
    people = ["UANA", "UBEN", "UCAT", "UDAN"]
    gone = {"UBEN"}
    turns = []
    start = 0
    for _ in range(4):
        rotation = rotate(people, start, lambda u: u not in gone)
        assert rotation is not None
        turns.append((rotation.facilitator, rotation.next_facilitator))
        start = rotation.next_index
    assert turns == [("UANA", "UCAT"), ("UCAT", "UDAN"), ("UDAN", "UANA"), ("UANA", "UCAT")]
    assert rotate(people, 0, lambda u: False) is None
    assert rotate([], 0, lambda u: True) is None
