"""A channel's cadence running itself: plans on the right local day across DST, a rotation that skips people
who left or were deactivated, "skip the next one", and the pause after two retros nobody answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.gateway import SlackUser
from bot.jobs import Job, JobKind
from bot.services import Services
from storage.models import Participant, RetroPlan, RetroSchedule
from tests.blockkit import buttons
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM
from tests.recording import RecordingGateway, RecordingJobs

BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = ["U1", "U2", "U3", "U4"]


@pytest.fixture
def gateway() -> RecordingGateway:
    gateway = RecordingGateway(members={CHANNEL: ["UFAC", *PEOPLE]})
    for user in ["UFAC", *PEOPLE]:
        gateway.human(user)
    return gateway


def make_schedule(engine: Engine, clock: FakeClock, services: Services, **fields: object) -> int:
    base: dict[str, object] = {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "created_by": "UFAC",
        "facilitator_id": "UFAC",
        "updated_at": clock(),
        "cadence": "weekly",
        "every_weeks": 2,
        "weekday": 0,
        "at_time": "10:00",
        "tz": "Europe/Berlin",
        "settings": {"format": "start_stop_continue", "participant_ids": []},
    }
    base.update(fields)
    with Session(engine) as session:
        schedule = RetroSchedule(**base)  # type: ignore[arg-type]
        session.add(schedule)
        session.commit()
        session.refresh(schedule)
        found = services.timers.schedule_due(schedule)
    services.timers.schedule(found)
    return schedule.id


def due_job(jobs: RecordingJobs) -> Job:
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.SCHEDULE_DUE]
    return job


def plans(engine: Engine) -> list[RetroPlan]:
    with Session(engine) as session:
        return list(session.exec(select(RetroPlan).order_by(col(RetroPlan.id))))


def run_next(
    clock: FakeClock, jobs: RecordingJobs, gateway: RecordingGateway, fire: Callable[[Job], None]
) -> Job:
    """Time comes for the cadence's job: it fires, and its task runs."""
    job = due_job(jobs)
    clock.now = max(clock.now, job.run_at)
    fire(job)
    assert gateway.sent is not None  # reading the transcript delivers the queued task
    return job


def test_a_two_week_cadence_plans_on_the_local_day_across_dst(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Callable[[Job], None],
) -> None:
    clock.now = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
    first = datetime(2026, 10, 19, 10, 0, tzinfo=BERLIN)  # CEST; the clocks go back on October 25
    make_schedule(engine, clock, services, anchor=date(2026, 10, 19), next_at=first, plan_lead_hours=24)
    assert due_job(jobs).run_at == first - timedelta(hours=24)

    job = run_next(clock, jobs, gateway, fire)
    fire(job)  # the same job firing twice (a restart) plans nothing more
    assert gateway.sent is not None
    (plan,) = plans(engine)
    assert plan.planned_start == first and plan.source == "cadence" and plan.occurrence == first
    assert plan.facilitator_id == "UFAC"
    assert [m["text"] for m in gateway.messages_to("UFAC")] == ["Retro plan: Retro Oct 19"]
    assert [j.run_at for j in jobs.jobs.values() if j.kind == JobKind.PLAN_START] == [first]

    second = datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN)  # CET: 09:00 UTC, an hour later than 08:00
    assert due_job(jobs).args["occurrence"] == second.astimezone(UTC).isoformat()
    run_next(clock, jobs, gateway, fire)
    assert [p.planned_start.astimezone(BERLIN) for p in plans(engine)] == [first, second]
    assert [p.planned_start.astimezone(UTC).hour for p in plans(engine)] == [8, 9]
    assert due_job(jobs).args["occurrence"] == datetime(2026, 11, 16, 9, 0, tzinfo=UTC).isoformat()


def test_a_restart_recreates_the_cadence_job(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    next_at = clock() + timedelta(days=5)
    make_schedule(engine, clock, services, next_at=next_at)
    expected = due_job(jobs)
    jobs.jobs.clear()  # the process died before the job store had it
    assert services.timers.reconcile() == 1
    assert due_job(jobs) == expected
    assert services.timers.reconcile() == 0


def test_a_rotation_over_four_skips_one_who_left_and_one_deactivated(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Callable[[Job], None],
) -> None:
    make_schedule(
        engine,
        clock,
        services,
        every_weeks=1,
        next_at=datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN),
        facilitation="rotation",
        rotation=PEOPLE,
    )
    gateway.members[CHANNEL] = ["UFAC", "U1", "U3", "U4"]  # U2 left the channel
    for _ in range(4):
        run_next(clock, jobs, gateway, fire)
    assert [(p.facilitator_id, p.next_facilitator_id) for p in plans(engine)] == [
        ("U1", "U3"),
        ("U3", "U4"),
        ("U4", "U1"),
        ("U1", "U3"),
    ]
    gateway.users["U3"] = SlackUser("U3", "u3", is_bot=False, deleted=True, tz="UTC")  # deactivated
    clock.advance(days=2)  # the cached U3 is stale by now: the worker asks Slack again
    run_next(clock, jobs, gateway, fire)
    assert (plans(engine)[-1].facilitator_id, plans(engine)[-1].next_facilitator_id) == ("U4", "U1")


def test_skip_the_next_one_moves_on_without_a_plan(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Callable[[Job], None],
) -> None:
    next_at = datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN)
    schedule_id = make_schedule(engine, clock, services, every_weeks=1, next_at=next_at, skip_next=True)
    run_next(clock, jobs, gateway, fire)
    assert plans(engine) == []
    with Session(engine) as session:
        schedule = session.get(RetroSchedule, schedule_id)
        assert schedule is not None
        assert not schedule.skip_next and schedule.next_at == next_at + timedelta(weeks=1)
    run_next(clock, jobs, gateway, fire)
    assert [p.planned_start for p in plans(engine)] == [next_at + timedelta(weeks=1)]


def test_two_retros_in_a_row_without_answers_pause_the_schedule(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Callable[[Job], None],
) -> None:
    schedule_id = make_schedule(
        engine, clock, services, every_weeks=1, next_at=datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN)
    )

    def one_retro(answer: bool) -> None:
        run_next(clock, jobs, gateway, fire)
        plan = plans(engine)[-1]
        clock.now = plan.planned_start
        services.plans.due(team_id=TEAM, plan_id=plan.id)
        assert gateway.sent is not None  # the kickoff goes out and invites the channel
        retro_id = plans(engine)[-1].retro_id
        assert retro_id is not None
        if answer:
            with Session(engine) as session:
                person = session.exec(select(Participant).where(Participant.retro_id == retro_id)).first()
                assert person is not None
                person.responded_at = clock()
                session.add(person)
                session.commit()
        clock.now = plan.planned_start + timedelta(days=plan.collection_days)
        services.deadlines.close_at_deadline(team_id=TEAM, retro_id=retro_id)
        services.closing.close_by_id(team_id=TEAM, retro_id=retro_id, user_id="UFAC")

    def streak() -> tuple[int, bool]:
        with Session(engine) as session:
            schedule = session.get(RetroSchedule, schedule_id)
            assert schedule is not None
            return schedule.empty_streak, schedule.paused_at is not None

    one_retro(answer=False)
    assert streak() == (1, False)
    one_retro(answer=True)
    assert streak() == (0, False)
    one_retro(answer=False)
    one_retro(answer=False)
    assert streak() == (2, True)
    (notice,) = [m for m in gateway.messages_to(CHANNEL) if "paused" in m["text"]]
    assert [b[0] for b in buttons(notice["blocks"])] == ["schedule_resume"]
    assert not [j for j in jobs.jobs.values() if j.kind == JobKind.SCHEDULE_DUE]

    services.schedules.resume(team_id=TEAM, schedule_id=schedule_id, user_id="UFAC")
    assert streak() == (0, False)
    assert due_job(jobs).run_at >= clock()
