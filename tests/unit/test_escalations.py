"""Escalation: `/retro escalate` sets a channel's escalation channel; the weekly digest goes there on Monday
09:00 in the setter's time zone, counts days late on each owner's own calendar, lists problems raised in 3
or more retros, and tells each escalated item's owner and facilitator once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import InvalidInput
from bot.jobs import JobKind
from bot.services import Services
from bot.services.escalations import next_digest
from messages.escalation import change_text
from storage.models import ActionItem, Escalation
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs

Fire = object

# Sunday 22 November 2026, 12:00 UTC: Monday 01:00 in Auckland, Sunday 04:00 in Los Angeles.
SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def at_sunday_noon(clock: FakeClock) -> FakeClock:
    clock.now = SUNDAY_NOON
    return clock


def _channel_with_overdue_items(engine: Engine) -> None:
    """C1's closed retro (facilitated by UFAC) with two items due the same day, 8 days before Auckland's
    Monday: one owner in Auckland (8 days late there), one in Los Angeles (still 7 days late there)."""
    with Session(engine) as session:
        retro = make_retro(session, phase="completed", closed_at=SUNDAY_NOON - timedelta(days=20))
        due = date(2026, 11, 15)
        for owner, tz, text in (
            ("UAKL", "Pacific/Auckland", "Fix flaky CI"),
            ("ULAX", "America/Los_Angeles", "Docs"),
        ):
            session.add(ActionItem(team_id="T1", retro_id=retro.id, text=text, owner_id=owner, owner_name=owner,
                                   owner_tz=tz, due_date=due, created_at=retro.created_at))  # fmt: skip
        session.add(ActionItem(team_id="T1", retro_id=retro.id, text="Done already", owner_id="UAKL", status="done",
                               due_date=date(2026, 10, 1), created_at=retro.created_at))  # fmt: skip
        session.commit()


def test_the_digest_comes_on_monday_at_nine_in_the_setters_zone() -> None:
    # Tokyo's Monday 09:00 is Monday 00:00 UTC; New York's (winter) is 14:00 UTC.
    assert next_digest("Asia/Tokyo", SUNDAY_NOON) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert next_digest("America/New_York", SUNDAY_NOON) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    # Just past it: a week later.
    assert next_digest("Asia/Tokyo", datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 0, 0, tzinfo=UTC
    )


def test_an_escalation_is_set_shown_and_turned_off(
    services: Services,
    engine: Engine,
    jobs: RecordingJobs,
    gateway: RecordingGateway,
    at_sunday_noon: FakeClock,
) -> None:
    with Session(engine) as session:
        make_retro(session, phase="completed", closed_at=SUNDAY_NOON)
    gateway.human("UFAC", tz="Asia/Tokyo")
    escalations = services.escalations
    set_up = escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="<#CBOARD|board> 10")
    assert set_up.escalation is not None and set_up.escalation.overdue_days == 10
    gateway.sent  # noqa: B018 - the task that asks Slack for the setter's time zone
    with Session(engine) as session:
        stored = session.exec(select(Escalation)).one()
    assert (stored.target_channel_id, stored.tz, stored.next_at) == (
        "CBOARD",
        "Asia/Tokyo",
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
    )
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    assert job.run_at == stored.next_at
    shown = escalations.configure(team_id="T1", channel_id="C1", user_id="UBOB", args="")
    assert "<#CBOARD>" in change_text(shown) and "10 days overdue" in change_text(shown)

    for bad, says in (("#board", "Use `/retro escalate #channel"), ("<#CBOARD> 0", "from 1 to 90"),
                      ("<#CBOARD> soon", "from 1 to 90"), ("<#C1>", "another channel")):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args=bad)
        assert says in refused.value.message
    with Session(engine) as session:
        assert session.exec(select(Escalation)).one().overdue_days == 10  # nothing changed

    off = escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="off")
    assert off.changed and "is escalated any more" in change_text(off)
    assert not [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]


def test_the_weekly_digest_counts_days_on_each_owners_calendar_and_tells_once(
    services: Services,
    engine: Engine,
    jobs: RecordingJobs,
    gateway: RecordingGateway,
    fire: object,
    at_sunday_noon: FakeClock,
) -> None:
    _channel_with_overdue_items(engine)
    gateway.human("UFAC", tz="Europe/London")
    services.escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="<#CBOARD> 7")
    gateway.sent  # noqa: B018
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    assert job.run_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (GMT)
    # Monday 09:00 UTC: Monday 22:00 in Auckland (8 days after the 15th), Monday 01:00 in LA (8 days too).
    at_sunday_noon.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    fire(job)  # type: ignore[operator]
    (digest,) = gateway.messages_to("CBOARD")
    Block.parse_all(digest["blocks"])
    shown = str(digest["blocks"])
    assert "Fix flaky CI" in shown and "8 days late" in shown
    assert "Docs" in shown
    assert "Done already" not in shown
    told = [p for kind, p in gateway.sent if kind == "message" and p["channel"] in ("UAKL", "ULAX", "UFAC")]
    assert sorted(p["channel"] for p in told) == ["UAKL", "UFAC", "UFAC", "ULAX"]
    assert "Your action item" in next(p["text"] for p in told if p["channel"] == "UAKL")

    # A week later the same items are listed again, but nobody is told twice.
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    assert job.run_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    at_sunday_noon.now = job.run_at
    before = len(gateway.sent)
    fire(job)  # type: ignore[operator]
    later = gateway.sent[before:]
    assert [p["channel"] for kind, p in later if kind == "message"] == ["CBOARD"]


def test_an_owner_not_yet_past_the_limit_on_their_own_calendar_is_not_escalated(
    services: Services, engine: Engine, jobs: RecordingJobs, gateway: RecordingGateway, fire: object,
    at_sunday_noon: FakeClock,
) -> None:  # fmt: skip
    _channel_with_overdue_items(engine)
    gateway.human("UFAC", tz="Asia/Tokyo")
    services.escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="<#CBOARD> 7")
    gateway.sent  # noqa: B018
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    # Monday 09:00 in Tokyo = Monday 00:00 UTC: Monday 13:00 in Auckland (8 days late), but Sunday 16:00 in
    # Los Angeles (7 days late: not more than 7).
    assert job.run_at == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    at_sunday_noon.now = job.run_at
    fire(job)  # type: ignore[operator]
    (digest,) = gateway.messages_to("CBOARD")
    shown = str(digest["blocks"])
    assert "Fix flaky CI" in shown and "Docs" not in shown
    assert not [p for kind, p in gateway.sent if kind == "message" and p["channel"] == "ULAX"]


def test_problems_raised_in_three_retros_are_escalated(
    services: Services, engine: Engine, jobs: RecordingJobs, gateway: RecordingGateway, fire: object,
    at_sunday_noon: FakeClock,
) -> None:  # fmt: skip
    with Session(engine) as session:
        for weeks in (6, 4, 2):
            retro = make_retro(session, phase="completed", created_at=SUNDAY_NOON - timedelta(weeks=weeks),
                               closed_at=SUNDAY_NOON - timedelta(weeks=weeks, days=-3))  # fmt: skip
            make_item(session, retro_id=retro.id, category="went_wrong", text="Staging environment is down again",
                      number=1)  # fmt: skip
    services.escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="<#CBOARD>")
    gateway.sent  # noqa: B018
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    at_sunday_noon.now = job.run_at
    fire(job)  # type: ignore[operator]
    (digest,) = gateway.messages_to("CBOARD")
    assert "Staging environment is down again" in str(digest["blocks"])
    assert "raised in 3 of the last" in str(digest["blocks"])


def test_nothing_to_escalate_posts_nothing_and_comes_again_next_week(
    services: Services, engine: Engine, jobs: RecordingJobs, gateway: RecordingGateway, fire: object,
    at_sunday_noon: FakeClock,
) -> None:  # fmt: skip
    with Session(engine) as session:
        make_retro(session, phase="completed", closed_at=SUNDAY_NOON)
    services.escalations.configure(team_id="T1", channel_id="C1", user_id="UFAC", args="<#CBOARD>")
    gateway.sent  # noqa: B018
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    at_sunday_noon.now = job.run_at
    fire(job)  # type: ignore[operator]
    assert gateway.messages_to("CBOARD") == []
    (again,) = [j for j in jobs.jobs.values() if j.kind == JobKind.ESCALATION_DIGEST]
    assert again.run_at == job.run_at + timedelta(weeks=1)
