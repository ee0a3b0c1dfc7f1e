"""DeadlineService: who may remind and move the deadline, the limits of a new deadline, nudges once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Unpack

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import InvalidInput, NoRetroHere, NotFacilitator
from bot.jobs import Job, JobKind, job_id
from bot.services import Services
from bot.timing import nudge_time, zone
from messages.deadlines import reminding_text
from storage.models import Nudge, Participant, Retro
from tests.conftest import FakeClock
from tests.factories import RetroFields, make_retro
from tests.recording import RecordingGateway, RecordingJobs


def open_retro(engine: Engine, clock: FakeClock, *people: str, **fields: Unpack[RetroFields]) -> int:
    base: RetroFields = {
        "title": "Q3 <launch>",
        "kickoff_ts": "1.1",
        "deadline": clock() + timedelta(days=2),
        "created_at": clock(),
    }
    with Session(engine) as session:
        retro = make_retro(session, **(base | fields))
        for user_id in people:
            session.add(Participant(team_id="T1", retro_id=retro.id, user_id=user_id, tz="UTC"))
        session.commit()
        return retro.id


def deadline_of(engine: Engine, retro_id: int) -> datetime:
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        return retro.deadline


def test_only_the_facilitator_reminds_and_moves_the_deadline(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id = open_retro(engine, clock, "U1", "U2")
    deadlines = services.deadlines
    where = {"team_id": "T1", "channel_id": "C1", "user_id": "U1"}
    remind = "Only the facilitator, <@UFAC>, can send reminders for *Q3 &lt;launch&gt;*."
    move = "Only the facilitator, <@UFAC>, can change the deadline for *Q3 &lt;launch&gt;*."
    with pytest.raises(NotFacilitator) as refused:
        deadlines.remind_now(**where)
    assert refused.value.message == remind
    with pytest.raises(NotFacilitator) as refused:
        deadlines.check_extend(**where)
    assert refused.value.message == move
    later = clock() + timedelta(days=5)
    with pytest.raises(NotFacilitator) as refused:
        deadlines.extend(team_id="T1", retro_id=retro_id, user_id="U1", deadline=later)
    assert refused.value.message == move
    # Nobody was reminded and nothing moved.
    assert gateway.sent == []
    assert deadline_of(engine, retro_id) == clock() + timedelta(days=2)
    with Session(engine) as session:
        assert session.exec(select(Nudge)).all() == []
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.manual_reminders == 0


def test_the_facilitator_reminds_those_who_have_not_answered(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    open_retro(engine, clock, "U1", "U2", "U3", "U4")
    with Session(engine) as session:
        answered = session.exec(select(Participant).where(Participant.user_id == "U2")).one()
        answered.responded_at = clock()
        session.add(answered)
        session.commit()
    gateway.failures[("chat.postMessage", "U3")] = "user_not_found"
    gateway.failures[("chat.postMessage", "U4")] = "account_inactive"
    deadlines = services.deadlines
    reminding = deadlines.remind_now(team_id="T1", channel_id="C1", user_id="UFAC")
    told = reminding_text(queued=reminding.queued, pending=reminding.pending)
    # Answered at once; who could not be reached is told later, in one message.
    assert told == (
        "Reminding 3 of 3 people who have not answered yet. If I can't reach someone, I'll tell you."
    )
    (nudge,) = gateway.messages_to("U1")
    assert nudge["text"].startswith("Reminder: Q3 &lt;launch&gt; closes")
    assert gateway.messages_to("U2") == []
    clock.advance(seconds=5)
    (failures,) = gateway.ephemerals_to("UFAC")
    assert failures == (
        "I couldn't deliver everything:\n"
        "• a reminder to <@U3>: `user_not_found`\n"
        "• a reminder to <@U4>: `account_inactive`"
    )
    # A second reminder is a new one; the first is on record with its failure.
    deadlines.remind_now(team_id="T1", channel_id="C1", user_id="UFAC")
    assert len(gateway.messages_to("U1")) == 2
    clock.advance(seconds=5)
    assert len(gateway.ephemerals_to("UFAC")) == 2
    with Session(engine) as session:
        sent = sorted((n.user_id, n.reminder, n.error) for n in session.exec(select(Nudge)).all())
    assert sent == [
        ("U1", "manual-1", None),
        ("U1", "manual-2", None),
        ("U3", "manual-1", "user_not_found"),
        ("U3", "manual-2", "user_not_found"),
        ("U4", "manual-1", "account_inactive"),
        ("U4", "manual-2", "account_inactive"),
    ]


def test_everyone_answered_means_nobody_to_remind(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    open_retro(engine, clock)
    reminding = services.deadlines.remind_now(team_id="T1", channel_id="C1", user_id="UFAC")
    told = reminding_text(queued=reminding.queued, pending=reminding.pending)
    assert told == "Everyone has answered already: nobody to remind."
    assert gateway.sent == []


def test_reminders_and_extensions_need_a_collecting_retro(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = open_retro(engine, clock, "U1", phase="discussing")
    deadlines = services.deadlines
    with pytest.raises(NoRetroHere) as refused:
        deadlines.remind_now(team_id="T1", channel_id="C1", user_id="UFAC")
    assert refused.value.message == "*Q3 &lt;launch&gt;* is no longer collecting answers."
    with pytest.raises(NoRetroHere) as refused:
        deadlines.check_extend(team_id="T1", channel_id="C1", user_id="UFAC")
    assert refused.value.message.startswith("Collection for *Q3 &lt;launch&gt;* is over (phase: discussing)")
    with pytest.raises(InvalidInput) as invalid:
        deadlines.extend(
            team_id="T1", retro_id=retro_id, user_id="UFAC", deadline=clock() + timedelta(days=3)
        )
    assert invalid.value.errors == {"deadline": "Collection is over; the deadline can no longer change."}
    with pytest.raises(NoRetroHere) as refused:
        deadlines.remind_now(team_id="T1", channel_id="C2", user_id="UFAC")
    assert refused.value.message == (
        "There is no open retro in this channel. Start one with `/retro new [title]`."
    )


@pytest.mark.parametrize(
    ("after", "accepted"),
    [
        (timedelta(minutes=10), True),
        (timedelta(minutes=10) - timedelta(seconds=1), False),
        (timedelta(days=90), True),
        (timedelta(days=90, seconds=1), False),
        (None, False),
    ],
)
def test_a_new_deadline_is_at_least_ten_minutes_and_at_most_ninety_days_away(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    after: timedelta | None,
    accepted: bool,
) -> None:
    retro_id = open_retro(engine, clock, "U1")
    deadline = None if after is None else clock() + after
    extend = services.deadlines.extend
    if not accepted:
        with pytest.raises(InvalidInput) as invalid:
            extend(team_id="T1", retro_id=retro_id, user_id="UFAC", deadline=deadline)
        too_far = after is not None and after > timedelta(days=1)
        assert invalid.value.errors == {
            "deadline": "Pick a time within the next 90 days."
            if too_far
            else "Pick a time at least 10 minutes from now."
        }
        assert deadline_of(engine, retro_id) == clock() + timedelta(days=2)
        assert gateway.sent == []
        return
    assert deadline is not None
    retro = extend(team_id="T1", retro_id=retro_id, user_id="UFAC", deadline=deadline)
    assert retro.deadline == deadline == deadline_of(engine, retro_id)
    # Announced in the kickoff thread, and the closing job follows the deadline.
    (moved,) = gateway.messages_to("C1")
    assert moved["thread_ts"] == "1.1"
    assert moved["text"].startswith(":calendar: <@UFAC> moved the deadline to *<!date^")
    assert moved["blocks"][0]["text"]["text"] == moved["text"]
    assert jobs.jobs[job_id(JobKind.CLOSE_COLLECTION, "T1", retro_id)].run_at == deadline


def test_after_the_deadline_a_reminder_reaches_nobody_and_says_so(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    open_retro(engine, clock, "U1")
    clock.advance(days=2)  # the closing job has not run yet
    reminding = services.deadlines.remind_now(team_id="T1", channel_id="C1", user_id="UFAC")
    told = reminding_text(queued=reminding.queued, pending=reminding.pending)
    assert told.startswith("Reminding 0 of 1 people who have not answered yet.")
    assert gateway.sent == []
    with Session(engine) as session:
        assert session.exec(select(Nudge)).all() == []


def test_schedule_plans_the_close_and_a_reminder_per_time_zone_of_those_waiting(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    retro_id = open_retro(engine, clock, "U1", "U2", "U3", "U4", "U5", deadline=clock() + timedelta(hours=3))
    with Session(engine) as session:
        for person in session.exec(select(Participant)):
            if person.user_id == "U1":
                person.responded_at = clock()
            person.tz = {"U4": "Asia/Tokyo", "U5": "Nowhere/Atlantis"}.get(person.user_id, person.tz)
            session.add(person)
        session.commit()
    services.deadlines.schedule(team_id="T1", retro_id=retro_id)
    # Three hours before the deadline the 24-hour reminder is too late; the 2-hour one is not. At 10:17
    # UTC it is 19:17 in Tokyo: the same moment, but its own job. An unknown zone counts as UTC.
    utc = job_id(JobKind.NUDGE, "T1", retro_id, "2h", "UTC")
    tokyo = job_id(JobKind.NUDGE, "T1", retro_id, "2h", "Asia/Tokyo")
    assert {key: job.run_at for key, job in jobs.jobs.items()} == {
        job_id(JobKind.CLOSE_COLLECTION, "T1", retro_id): clock() + timedelta(hours=3),
        utc: clock() + timedelta(hours=1),
        tokyo: clock() + timedelta(hours=1),
    }
    assert jobs.jobs[utc].args == {"retro_id": retro_id, "reminder": "2h", "zone": "UTC"}
    assert jobs.jobs[tokyo].args == {"retro_id": retro_id, "reminder": "2h", "zone": "Asia/Tokyo"}
    # Scheduling again (after a change) replaces them: still one job each.
    services.deadlines.schedule(team_id="T1", retro_id=retro_id)
    assert len(jobs.jobs) == 3


def test_a_per_person_nudge_of_an_older_version_is_kept_while_no_time_zone_job_replaces_it(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    # The 24-hour reminder's ideal moment was an hour ago, at night in Los Angeles: the older version
    # planned it for 08:00 there, still ahead. Recomputed now, it is "too late to matter": no job per
    # time zone replaces the person's own, which must then stay, or U1 is never reminded.
    deadline = clock() + timedelta(hours=23)
    retro_id = open_retro(engine, clock, "U1", deadline=deadline)
    with Session(engine) as session:
        person = session.exec(select(Participant)).one()
        person.tz = "America/Los_Angeles"
        session.add(person)
        session.commit()
    ideal = deadline - timedelta(hours=24)
    planned = nudge_time(ideal=ideal, deadline=deadline, now=ideal, tz=zone("America/Los_Angeles"))
    assert planned is not None and planned > clock()
    args = {"retro_id": retro_id, "user_id": "U1", "reminder": "24h"}
    legacy = Job(JobKind.NUDGE, "T1", (retro_id, "U1", "24h"), planned, args)
    jobs.schedule(legacy)
    # And a 2-hour one that a job for the time zone does replace.
    jobs.schedule(Job(JobKind.NUDGE, "T1", (retro_id, "U1", "2h"), planned, args | {"reminder": "2h"}))

    services.timers.reconcile()

    assert jobs.jobs.get(legacy.id) == legacy
    assert job_id(JobKind.NUDGE, "T1", retro_id, "U1", "2h") not in jobs.jobs
    assert job_id(JobKind.NUDGE, "T1", retro_id, "2h", "America/Los_Angeles") in jobs.jobs
