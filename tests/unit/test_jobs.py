"""Scheduled jobs are stored by reference: renaming or moving the function orphans every job already in a
database. Every job stores the one reference `bot.jobs:due`; these tests restore each kind from a real
APScheduler job store, as a restarted process does, and cancel jobs by their exact ids."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from apscheduler.job import Job as StoredJob
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy import Engine, event, text
from sqlmodel import Session, col, select

import bot.jobs
from bot.jobs import Job, JobKind, job_id
from bot.scheduler import JOB_TABLE, ApsJobs, build_scheduler
from bot.services import Services
from bot.services.timers import Timers
from bot.tasks import TASKS
from storage.db import holds_turn
from storage.models import (
    ActionItem,
    Delivery,
    Escalation,
    Participant,
    Retro,
    RetroPlan,
    RetroSchedule,
    Turn,
)
from tests.conftest import FakeClock
from tests.factories import make_retro
from tests.recording import RecordingJobs

# What databases in the field hold. Changing it needs a migration of the stored jobs.
STORED_REFERENCE = "bot.jobs:due"
STORED_KWARGS = ("kind", "team_id", "job", "run_at", "args")
TEAM = "T1"

# The service method each kind's task calls: a job only queues it, a worker runs it.
TASK_OF = {
    JobKind.CLOSE_COLLECTION: "deadlines.close_at_deadline",
    JobKind.NUDGE: "deadlines.nudge",
    JobKind.TURN_START: "round_robin.turn_start_due",
    JobKind.TURN_TIMEOUT: "round_robin.turn_timeout_due",
    JobKind.CLOSE_VOTING: "voting.close",
    JobKind.ACTION_REMINDER: "action_item_notices.remind",
    JobKind.FOLLOWUP: "action_item_notices.followup",
    JobKind.PLAN_START: "plans.due",
    JobKind.PLAN_REMINDER: "plans.remind",
    JobKind.SCHEDULE_DUE: "schedules.due",
    JobKind.ESCALATION_DIGEST: "escalations.digest",
}
# Stored keys the services name otherwise (a stored job outlives a rename in the code): key -> keyword.
SERVICE_KEYWORD = {"action_id": "action_item_id"}


@pytest.fixture
def scheduler_factory(engine: Engine) -> Iterator[Callable[[], BackgroundScheduler]]:
    """Schedulers on the test's database, as `Runtime` builds them; started paused, so no job runs."""
    started: list[BackgroundScheduler] = []

    def start() -> BackgroundScheduler:
        scheduler = build_scheduler(engine)
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def store_state(engine: Engine, clock: FakeClock) -> None:
    """Retros and an action item whose state implies a job of every kind."""
    with Session(engine) as session:
        collecting = make_retro(session, channel_id="C1", deadline=clock() + timedelta(days=3))
        discussing = make_retro(session, channel_id="C2", phase="discussing")
        voting = make_retro(
            session, channel_id="C3", phase="voting", voting_deadline=clock() + timedelta(days=1)
        )
        assert collecting.id and discussing.id and voting.id
        session.add(Participant(team_id=TEAM, retro_id=collecting.id, user_id="U1", tz="Europe/Paris"))
        session.add(
            Turn(
                team_id=TEAM,
                retro_id=discussing.id,
                position=1,
                user_id="U1",
                status="active",
                starts_at=clock(),
                due_at=clock() + timedelta(hours=4),
            )
        )
        session.add(
            ActionItem(
                team_id=TEAM,
                retro_id=collecting.id,
                text="Fix CI",
                owner_id="U2",
                owner_tz="Asia/Tokyo",
                due_date=clock().date() + timedelta(days=2),
                created_at=clock(),
            )
        )
        session.add(
            RetroPlan(
                team_id=TEAM,
                channel_id="C4",
                source="release",
                release_version="2.0.0",
                facilitator_id="U1",
                planned_start=clock() + timedelta(days=7),
                created_at=clock(),
                updated_at=clock(),
            )
        )
        session.add(
            RetroPlan(
                team_id=TEAM,
                channel_id="C6",
                source="cadence",
                facilitator_id="U1",
                planned_start=clock() - timedelta(hours=2),
                status="waiting",
                reminders=1,
                reminded_at=clock() - timedelta(hours=1),
                created_at=clock(),
                updated_at=clock(),
            )
        )
        session.add(
            RetroSchedule(
                team_id=TEAM,
                channel_id="C5",
                created_by="U1",
                facilitator_id="U1",
                updated_at=clock(),
                cadence="weekly",
                next_at=clock() + timedelta(days=9),
            )
        )
        session.add(
            Escalation(
                team_id=TEAM,
                channel_id="C5",
                target_channel_id="CBOARD",
                set_by="U1",
                next_at=clock() + timedelta(days=4),
                updated_at=clock(),
            )
        )
        session.commit()


def expected_jobs(services: Services, engine: Engine, clock: FakeClock) -> list[Job]:
    """What the timers derive from the stored state, plus a turn waiting for the morning."""
    timers = services.timers
    with Session(engine) as session:
        found: list[Job] = []
        for retro in session.exec(select(Retro).order_by(col(Retro.id))):
            found += timers.expected_for_retro(session, retro)
            if retro.phase == "discussing":
                waiting = Turn(
                    id=99,
                    team_id=TEAM,
                    retro_id=retro.id,
                    position=2,
                    user_id="U2",
                    status="scheduled",
                    starts_at=clock() + timedelta(hours=20),
                )
                found += Timers.turn(retro, waiting)
        for action in session.exec(select(ActionItem)):
            found += timers.action_item(action)
        for plan in session.exec(select(RetroPlan)):
            found += timers.plan(plan)
        for schedule in session.exec(select(RetroSchedule)):
            found += timers.schedule_due(schedule)
        for escalation in session.exec(select(Escalation)):
            found += timers.escalation(escalation)
    return found


def stored_kwargs(job: Job) -> dict[str, Any]:
    return {
        "kind": str(job.kind),
        "team_id": job.team_id,
        "job": job.id,
        "run_at": job.run_at.isoformat(),
        "args": job.args,
    }


@dataclass
class CallRecorder:
    """Stands in for Services: records which service method a task calls, with what."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, service: str) -> Any:
        recorder = self

        class Service:
            def __getattr__(self, method: str) -> Callable[..., None]:
                return lambda **kwargs: recorder.calls.append((f"{service}.{method}", kwargs))

        return Service()


def tasks(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).where(Delivery.kind == "task").order_by(col(Delivery.id))))


def test_every_kind_is_restored_from_the_job_store_and_queues_its_task(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    scheduler_factory: Callable[[], BackgroundScheduler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_state(engine, clock)
    found = expected_jobs(services, engine, clock)
    by_kind = {job.kind: job for job in found}
    assert set(by_kind) == set(JobKind), "each kind needs a job here, restored below"
    assert set(TASK_OF) == set(JobKind) and set(JobKind) <= set(TASKS)

    # Scheduled by the production adapter into the real job store, then the process goes away.
    scheduler = scheduler_factory()
    for job in found:
        ApsJobs(scheduler, engine).schedule(job)
    scheduler.shutdown(wait=False)

    # A new process reads the same table: every job unpickles, by the one pinned reference.
    restored: dict[str, StoredJob] = {j.id: j for j in scheduler_factory().get_jobs()}
    assert set(restored) == {job.id for job in found}
    assert ApsJobs(scheduler, engine).existing() == set(restored)
    monkeypatch.setattr(bot.jobs, "_services", services)
    for kind, job in by_kind.items():
        stored = restored[job.id]
        assert stored.func_ref == STORED_REFERENCE, kind
        assert stored.func is ref_to_obj(STORED_REFERENCE) is bot.jobs.due
        assert stored.args == ()
        assert tuple(stored.kwargs) == STORED_KWARGS
        assert stored.kwargs == stored_kwargs(job), kind
        assert isinstance(stored.trigger, DateTrigger) and stored.trigger.run_date == job.run_at
        # Ids only: nothing in a stored job can go stale.
        assert all(isinstance(v, int | str) for v in stored.kwargs["args"].values()), kind

        # Fired as APScheduler fires it (twice: a retry queues nothing more), it queues one task.
        before = len(tasks(engine))
        stored.func(*stored.args, **stored.kwargs)
        stored.func(*stored.args, **stored.kwargs)
        queued = tasks(engine)[before:]
        assert len(queued) == 1, kind
        (task,) = queued
        assert task.team_id == TEAM and task.state == "pending"
        assert task.payload == {"name": str(kind), "args": job.args}
        assert task.key == f"job:{job.id}{job.run_at.isoformat()}"
        # ... and that task calls its service with exactly what the job stored.
        recorder = CallRecorder()
        TASKS[task.payload["name"]](cast(Services, recorder), task.team_id, task.payload["args"])
        called_with = {SERVICE_KEYWORD.get(key, key): value for key, value in job.args.items()}
        assert recorder.calls == [(TASK_OF[kind], {"team_id": TEAM, **called_with})], kind
    assert set(SERVICE_KEYWORD) <= set(by_kind[JobKind.ACTION_REMINDER].args), "the stored key stays"


def test_a_job_moved_to_a_new_time_fires_again(
    services: Services, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.jobs, "_services", services)
    job = Job(JobKind.FOLLOWUP, TEAM, (1,), clock(), {"retro_id": 1})
    moved = Job(JobKind.FOLLOWUP, TEAM, (1,), clock() + timedelta(days=1), {"retro_id": 1})
    assert moved.id == job.id
    for fired in (job, moved):
        bot.jobs.due(**stored_kwargs(fired))
    assert [t.key for t in tasks(engine)] == [
        f"job:{job.id}{job.run_at.isoformat()}",
        f"job:{job.id}{moved.run_at.isoformat()}",
    ]


def test_a_kind_this_version_does_not_know_fails_loudly_and_queues_nothing(
    services: Services, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.jobs, "_services", services)
    due: Callable[..., None] = ref_to_obj(STORED_REFERENCE)
    with pytest.raises(ValueError, match="start_turn"):
        due(
            kind="start_turn",
            team_id=TEAM,
            job="start_turn:T1:1:2:",
            run_at="2026-11-23T09:00:00+00:00",
            args={},
        )
    assert tasks(engine) == []


def test_a_job_before_the_services_are_bound_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.jobs, "_services", None)
    due: Callable[..., None] = ref_to_obj(STORED_REFERENCE)
    job = Job(JobKind.FOLLOWUP, "T0TEAM", (1,), datetime(2026, 11, 23, 9, tzinfo=UTC), {"retro_id": 1})
    with pytest.raises(RuntimeError, match=r"^jobs ran before the services were bound$"):
        due(**stored_kwargs(job))


# ---------------------------------------------------------------- cancelling by exact id

RETRO_IDS = (1, 10, 11, 100)  # without a terminator, "…:1" is a prefix of the ids of 10, 11 and 100
ACTION_IDS = (1, 10)


@dataclass
class Stored:
    retros: dict[int, Retro]
    turns: dict[int, tuple[int, int]]  # retro id -> (scheduled turn, active turn)
    actions: dict[int, ActionItem]


def store_neighbours(engine: Engine, clock: FakeClock) -> Stored:
    """Retros 1, 10, 11 and 100, each with a participant and two open turns; action items 1 and 10."""
    stored = Stored({}, {}, {})
    with Session(engine, expire_on_commit=False) as session:
        for n, retro_id in enumerate(RETRO_IDS):
            retro = make_retro(
                session,
                id=retro_id,
                channel_id=f"C{retro_id}",
                deadline=clock() + timedelta(days=3),
                voting_deadline=clock() + timedelta(days=5),
            )
            session.add(Participant(team_id=TEAM, retro_id=retro_id, user_id="U1", tz="UTC"))
            scheduled = Turn(
                id=2 * n + 1,
                team_id=TEAM,
                retro_id=retro_id,
                position=1,
                user_id="U1",
                status="scheduled",
                starts_at=clock() + timedelta(days=4),
            )
            active = Turn(
                id=2 * n + 2,
                team_id=TEAM,
                retro_id=retro_id,
                position=2,
                user_id="U2",
                status="active",
                due_at=clock() + timedelta(days=4),
            )
            session.add_all([scheduled, active])
            stored.retros[retro_id] = retro
            stored.turns[retro_id] = (scheduled.id, active.id)
        session.flush()
        for action_id in ACTION_IDS:
            action = ActionItem(
                id=action_id,
                team_id=TEAM,
                retro_id=1,
                text=f"Action {action_id}",
                owner_id="U1",
                due_date=date(2026, 12, 2),
                created_at=clock(),
            )
            session.add(action)
            stored.actions[action_id] = action
        session.commit()
    return stored


def every_job_of(timers: Timers, engine: Engine, retro: Retro, turns: tuple[int, int]) -> list[Job]:
    """The jobs of every phase of one retro, as the timers build them."""
    with Session(engine) as session:
        found = timers.collection(session, retro)
        turn_rows = {t.id: t for t in session.exec(select(Turn).where(Turn.retro_id == retro.id))}
    assert {j.kind for j in found} == {JobKind.CLOSE_COLLECTION, JobKind.NUDGE}
    discussing = Retro.model_validate({**retro.model_dump(), "phase": "discussing"})
    voting = Retro.model_validate({**retro.model_dump(), "phase": "voting"})
    for turn_id in turns:
        found += Timers.turn(discussing, turn_rows[turn_id])
    found += Timers.voting(voting) + Timers.followup(retro)
    assert {j.kind for j in found} == set(JobKind) - {
        JobKind.ACTION_REMINDER,
        JobKind.PLAN_START,
        JobKind.PLAN_REMINDER,
        JobKind.SCHEDULE_DUE,
        JobKind.ESCALATION_DIGEST,
    }
    return found


def test_cancelling_one_retros_or_action_items_jobs_leaves_every_other_ones(
    services: Services, engine: Engine, clock: FakeClock, scheduler_factory: Callable[[], BackgroundScheduler]
) -> None:
    stored = store_neighbours(engine, clock)
    aps = ApsJobs(scheduler_factory(), engine)
    timers = Timers(engine=engine, jobs=aps, clock=clock)
    of_retro = {r: every_job_of(timers, engine, stored.retros[r], stored.turns[r]) for r in RETRO_IDS}
    of_action = {a: timers.action_item(stored.actions[a]) for a in ACTION_IDS}
    assert all(len(found) == 3 for found in of_action.values())
    for found in [*of_retro.values(), *of_action.values()]:
        timers.schedule(found)
    ids = {r: {j.id for j in found} for r, found in of_retro.items()}
    action_item_ids = {a: {j.id for j in found} for a, found in of_action.items()}
    everything = set().union(*ids.values(), *action_item_ids.values())
    assert aps.existing() == everything
    # No two jobs share an id.
    assert len(everything) == sum(len(v) for v in [*ids.values(), *action_item_ids.values()])

    # What the services cancel covers every job the timers build for that retro.
    retro = stored.retros[1]
    cancel_ids = (
        Timers.collection_ids(retro, [Participant(team_id=TEAM, retro_id=1, user_id="U1", tz="UTC")])
        + Timers.voting_ids(retro)
        + [i for t in stored.turns[1] for i in Timers.turn_ids(retro, t)]
        + Timers.followup_ids(retro)
    )
    assert ids[1] <= set(cancel_ids)

    # Closing retro 1: every job of it but the follow-up goes; retros 10, 11 and 100 keep all of theirs.
    with Session(engine) as session:
        timers.cancel(timers.retro_ids(session, retro))
    followup_1 = job_id(JobKind.FOLLOWUP, TEAM, 1)
    assert aps.existing() == everything - ids[1] | {followup_1}
    timers.cancel(Timers.followup_ids(retro))
    assert aps.existing() == everything - ids[1]
    for other in RETRO_IDS[1:]:
        assert ids[other] <= aps.existing(), other

    # One action item's reminders go; the other's stay.
    timers.cancel(Timers.action_item_ids(stored.actions[1]))
    assert aps.existing() == everything - ids[1] - action_item_ids[1]
    assert action_item_ids[10] <= aps.existing()

    # What is left still restores from the store, every job by the one reference.
    left = scheduler_factory().get_jobs()
    assert {j.id for j in left} == everything - ids[1] - action_item_ids[1]
    assert {j.func_ref for j in left} == {STORED_REFERENCE}


def test_a_retros_steps_and_an_action_items_notices_each_take_turns_and_nudges_wait_for_nobody() -> None:
    assert bot.jobs.lane_of(JobKind.CLOSE_VOTING, {"retro_id": 3}) == "retro:3"
    # Fired together after a downtime, "due tomorrow" goes before "overdue".
    assert bot.jobs.lane_of(JobKind.ACTION_REMINDER, {"action_id": 7, "kind": "due:2026-11-30"}) == "action:7"
    assert bot.jobs.lane_of(JobKind.NUDGE, {"retro_id": 3, "reminder": "2h", "zone": "UTC"}) is None


def test_a_scheduler_call_inside_a_sqlite_transaction_is_refused(engine: Engine) -> None:
    """The guard behind every unit test's recorded jobs: the job store writes through a connection of its
    own, so a call from inside one of the application's SQLite transactions would wait on its lock."""
    jobs = RecordingJobs(engine=engine)
    with Session(engine) as session:
        session.exec(select(Retro)).all()
        if engine.dialect.name == "sqlite":
            with pytest.raises(AssertionError, match="inside a database transaction"):
                jobs.cancel(["x:"])
    jobs.cancel(["x:"])  # after it: fine
    assert not holds_turn(engine)


def test_many_jobs_are_scheduled_in_one_transaction_as_apscheduler_would_store_them(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    scheduler_factory: Callable[[], BackgroundScheduler],
) -> None:
    store_state(engine, clock)
    found = expected_jobs(services, engine, clock)
    aps = ApsJobs(scheduler_factory(), engine)
    table = text(f"SELECT id, next_run_time, job_state FROM {JOB_TABLE} ORDER BY id")
    for job in found:  # one by one, through APScheduler's own add_job
        aps.schedule(job)
    with engine.connect() as connection:
        one_by_one = connection.execute(table).all()
        connection.execute(text(f"DELETE FROM {JOB_TABLE} WHERE id != :kept"), {"kept": found[0].id})
        connection.commit()

    commits: list[object] = []
    count = commits.append
    event.listen(engine, "commit", count)
    try:
        # One of them is there already: replaced, as add_job(replace_existing=True) does.
        Timers(engine=engine, jobs=aps, clock=clock).schedule(found)
    finally:
        event.remove(engine, "commit", count)
    assert len(commits) == 1, f"{len(found)} jobs took {len(commits)} commits"
    with engine.connect() as connection:
        assert connection.execute(table).all() == one_by_one
    assert {j.id for j in scheduler_factory().get_jobs()} == {job.id for job in found}

    aps.cancel([found[0].id, found[1].id, "never-there:"])
    assert aps.existing() == {job.id for job in found[2:]}
