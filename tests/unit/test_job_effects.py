"""Every scheduled job, fired through its stored reference (`bot.jobs:due`) as the scheduler fires it, does
its work exactly once: not before its time, not when the state says it no longer should, and not again when
it fires twice (a retried job, one re-created on start-up, or one moved to a later time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Unpack

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.jobs import Job, JobKind, job_id
from bot.services import Services
from bot.services.timers import Timers
from storage.models import ActionItem, Delivery, Item, Participant, Retro, Turn
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import RetroFields, make_retro
from tests.recording import RecordingGateway, RecordingJobs

TEAM = "T1"
Fire = Callable[[Job], None]


@pytest.fixture
def fire(fire: Fire, gateway: RecordingGateway) -> Fire:
    """The conftest's `fire`, then the task it queued is carried out at once, as an idle worker would."""

    def fire_and_run(job: Job) -> None:
        fire(job)
        gateway.sent  # noqa: B018 - reading the transcript delivers what is due

    return fire_and_run


def store_retro(engine: Engine, clock: FakeClock, **fields: Unpack[RetroFields]) -> Retro:
    base: RetroFields = {
        "kickoff_ts": "1.1",
        "deadline": clock() + timedelta(hours=1),
        "created_at": clock(),
        "anonymity": "named",
    }
    with Session(engine, expire_on_commit=False) as session:
        retro = make_retro(session, **(base | fields))
        for user_id in ("U1", "U2"):
            session.add(Participant(team_id=TEAM, retro_id=retro.id, user_id=user_id, tz="UTC"))
        session.add(
            Item(
                team_id=TEAM,
                retro_id=retro.id,
                category="went_wrong",
                text="Flaky deploys",
                author_id="U1",
                source="survey",
                created_at=clock(),
                number=1,
            )
        )
        session.commit()
        return retro


def load(engine: Engine, retro_id: int | None) -> Retro:
    with Session(engine, expire_on_commit=False) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        return retro


def update(engine: Engine, model: type[Any], row_id: int | None, **fields: Any) -> None:
    with Session(engine) as session:
        row = session.get(model, row_id)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def phase(engine: Engine, retro_id: int | None) -> str:
    return load(engine, retro_id).phase


def thread(gateway: RecordingGateway) -> list[str]:
    return [m["text"] for m in gateway.messages_to("C1") if m["thread_ts"] == "1.1"]


def at_its_time(clock: FakeClock, job: Job) -> Job:
    clock.now = max(clock.now, job.run_at)
    return job


def later_copy(job: Job, **delta: float) -> Job:
    """The same job moved to a later time (rescheduled, or re-created with another time): fires again."""
    return replace(job, run_at=job.run_at + timedelta(**delta))


def elsewhere(job: Job) -> Job:
    """The same ids in another workspace."""
    return replace(job, team_id="T2")


# ---------------------------------------------------------------- collection


def test_the_deadline_closes_collection_once(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Fire,
) -> None:
    retro = store_retro(engine, clock)
    services.deadlines.schedule(team_id=TEAM, retro_id=retro.id)
    close_id = job_id(JobKind.CLOSE_COLLECTION, TEAM, retro.id)
    old = jobs.jobs[close_id]
    assert old.run_at == retro.deadline
    # The deadline moves an hour later: a new job is in charge, the old one may still fire.
    update(engine, Retro, retro.id, deadline=retro.deadline + timedelta(hours=1))
    services.deadlines.schedule(team_id=TEAM, retro_id=retro.id)
    close = jobs.jobs[close_id]
    assert close.run_at == retro.deadline + timedelta(hours=1)

    fire(at_its_time(clock, old))
    assert phase(engine, retro.id) == "collecting"
    assert gateway.sent == []
    fire(elsewhere(at_its_time(clock, close)))  # another workspace's id is not this retro
    assert phase(engine, retro.id) == "collecting"
    assert gateway.sent == []

    fire(close)
    assert phase(engine, retro.id) == "discussing"
    assert any("Flaky deploys" in mrkdwn_text(m["blocks"]) for m in gateway.messages_to("C1"))
    sent = len(gateway.sent)
    fire(close)
    fire(later_copy(close, minutes=5))
    assert len(gateway.sent) == sent
    # Nothing re-creates it: the state no longer implies it.
    with Session(engine) as session:
        assert services.timers.collection(session, load(engine, retro.id)) == []


def test_a_nudge_reaches_someone_who_has_not_answered_once(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Fire,
) -> None:
    retro = store_retro(engine, clock, title="Q3 <launch>", deadline=clock() + timedelta(days=3))
    with Session(engine) as session:
        answered = session.get(Participant, 2)
        assert answered is not None and answered.user_id == "U2"
        answered.responded_at = clock()
        answered.tz = "Asia/Tokyo"
        session.add(answered)
        session.commit()
    services.deadlines.schedule(team_id=TEAM, retro_id=retro.id)
    nudges = {j.parts: j for j in jobs.jobs.values() if j.kind == JobKind.NUDGE}
    # Only the zone of someone who has not answered gets reminders, one job per reminder.
    assert set(nudges) == {(retro.id, "24h", "UTC"), (retro.id, "2h", "UTC")}
    day_before, two_hours = nudges[(retro.id, "24h", "UTC")], nudges[(retro.id, "2h", "UTC")]

    # Jobs from before U2 answered, and for a zone where nobody lives, remind nobody.
    fire(at_its_time(clock, Timers.nudge(retro, "24h", "Asia/Tokyo", day_before.run_at)))
    fire(Timers.nudge(retro, "24h", "Europe/Paris", day_before.run_at))
    assert gateway.sent == []

    fire(day_before)
    fire(day_before)
    fire(later_copy(day_before, minutes=30))
    fire(elsewhere(day_before))
    (reminder,) = gateway.messages_to("U1")
    assert reminder["text"].startswith("Reminder: Q3 &lt;launch&gt; closes <!date^")
    assert ":wave: A reminder: the retrospective *Q3 &lt;launch&gt;* in <#C1>" in mrkdwn_text(
        reminder["blocks"]
    )
    # A job of a version that nudged each person on their own: not a second reminder.
    fire(
        Job(
            JobKind.NUDGE,
            TEAM,
            (retro.id, "U1", "24h"),
            day_before.run_at,
            {"retro_id": retro.id, "user_id": "U1", "reminder": "24h"},
        )
    )
    assert len(gateway.messages_to("U1")) == 1
    fire(at_its_time(clock, two_hours))  # the other reminder is another one
    fire(two_hours)
    assert len(gateway.messages_to("U1")) == 2
    assert gateway.messages_to("U2") == []
    assert gateway.messages_to("U3") == []


def test_a_nudge_after_collection_ended_is_not_sent(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    # Missed while the bot was down, it fires once it is back: after the deadline it is too late.
    collecting = store_retro(engine, clock, deadline=clock() + timedelta(days=3))
    with Session(engine) as session:
        (job, *_rest) = [
            j for j in services.timers.collection(session, collecting) if j.kind == JobKind.NUDGE
        ]
    clock.now = collecting.deadline
    fire(job)
    # The round-robin has begun: no reminder to answer a survey that is closed.
    discussing = store_retro(engine, clock, phase="discussing", channel_id="C2")
    with Session(engine) as session:
        assert services.timers.collection(session, discussing) == []
    fire(Timers.nudge(discussing, "24h", "UTC", clock()))
    fire(Timers.nudge(make_retro(None, id=999), "24h", "UTC", clock()))  # a retro that is gone
    assert gateway.sent == []


# ---------------------------------------------------------------- turns


def store_turns(engine: Engine, *turns: Turn) -> list[Turn]:
    with Session(engine, expire_on_commit=False) as session:
        for turn in turns:
            session.add(turn)
        session.commit()
        return list(turns)


def turn_status(engine: Engine, turn_id: int | None) -> str:
    with Session(engine) as session:
        turn = session.get(Turn, turn_id)
        assert turn is not None
        return turn.status


def turn_job(engine: Engine, retro: Retro, turn: Turn) -> Job:
    with Session(engine) as session:
        stored = session.get(Turn, turn.id)
        assert stored is not None
        (job,) = Timers.turn(load(engine, retro.id), stored)
    return job


def test_a_scheduled_turn_starts_in_the_morning_once(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Fire,
) -> None:
    retro = store_retro(engine, clock, phase="discussing", title="Q3 <launch>")
    (turn,) = store_turns(
        engine,
        Turn(
            team_id=TEAM,
            retro_id=retro.id,
            position=1,
            user_id="U1",
            status="scheduled",
            starts_at=clock() + timedelta(hours=1),
        ),
    )
    old = turn_job(engine, retro, turn)
    assert (old.kind, old.run_at) == (JobKind.TURN_START, clock() + timedelta(hours=1))
    update(engine, Turn, turn.id, starts_at=clock() + timedelta(hours=2))  # moved to later
    start = turn_job(engine, retro, turn)
    fire(at_its_time(clock, old))
    assert turn_status(engine, turn.id) == "scheduled"
    assert gateway.sent == []

    fire(at_its_time(clock, start))
    fire(start)
    fire(later_copy(start, minutes=1))
    assert turn_status(engine, turn.id) == "active"
    (prompt,) = gateway.messages_to("U1")
    assert ":speech_balloon: Your turn in *Q3 &lt;launch&gt;*" in mrkdwn_text(prompt["blocks"])
    assert len(thread(gateway)) == 1
    # The running turn's end is scheduled in its place.
    (timeout,) = jobs.jobs.values()
    assert (timeout.kind, timeout.parts) == (JobKind.TURN_TIMEOUT, (retro.id, turn.id))


def test_a_turn_does_not_start_while_the_round_robin_is_paused(
    engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    retro = store_retro(engine, clock, phase="discussing")
    (turn,) = store_turns(
        engine,
        Turn(
            team_id=TEAM, retro_id=retro.id, position=1, user_id="U1", status="scheduled", starts_at=clock()
        ),
    )
    start = turn_job(engine, retro, turn)
    update(engine, Retro, retro.id, paused_at=clock())
    assert Timers.turn(load(engine, retro.id), turn) == []  # paused: no such job is expected
    fire(start)
    assert turn_status(engine, turn.id) == "scheduled"
    assert gateway.sent == []


def test_a_turn_times_out_once_and_the_next_one_begins(
    engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    retro = store_retro(engine, clock, phase="discussing")
    first, second = store_turns(
        engine,
        Turn(
            team_id=TEAM,
            retro_id=retro.id,
            position=1,
            user_id="U1",
            status="active",
            starts_at=clock(),
            due_at=clock() + timedelta(hours=1),
        ),
        Turn(team_id=TEAM, retro_id=retro.id, position=2, user_id="U2"),
    )
    old = turn_job(engine, retro, first)
    update(engine, Turn, first.id, due_at=clock() + timedelta(hours=2))  # the turn got more time
    end = turn_job(engine, retro, first)
    assert (end.kind, end.run_at) == (JobKind.TURN_TIMEOUT, clock() + timedelta(hours=2))
    fire(at_its_time(clock, old))
    assert turn_status(engine, first.id) == "active"
    assert gateway.sent == []

    fire(at_its_time(clock, end))
    assert (turn_status(engine, first.id), turn_status(engine, second.id)) == ("timed_out", "active")
    assert len(gateway.messages_to("U2")) == 1
    sent = len(gateway.sent)
    fire(end)
    fire(later_copy(end, minutes=1))
    assert len(gateway.sent) == sent
    assert turn_status(engine, second.id) == "active"


def test_a_paused_turn_does_not_time_out(
    engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    retro = store_retro(engine, clock, phase="discussing")
    (turn,) = store_turns(
        engine,
        Turn(team_id=TEAM, retro_id=retro.id, position=1, user_id="U1", status="active", due_at=clock()),
    )
    end = turn_job(engine, retro, turn)
    update(engine, Retro, retro.id, paused_at=clock())
    fire(end)
    assert turn_status(engine, turn.id) == "active"
    assert gateway.sent == []


# ---------------------------------------------------------------- voting


def test_voting_closes_once_with_the_results(
    engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    retro = store_retro(engine, clock, phase="voting", voting_deadline=clock())
    (close,) = Timers.voting(retro)
    fire(close)
    fire(close)
    assert phase(engine, retro.id) == "actions"
    (results,) = [t for t in thread(gateway) if "Voting results" in t]
    assert results
    sent = len(gateway.sent)
    fire(later_copy(close, minutes=1))
    assert len(gateway.sent) == sent
    assert Timers.voting(load(engine, retro.id)) == []


# ---------------------------------------------------------------- action items


def store_action(engine: Engine, retro: Retro, clock: FakeClock, due: date, **fields: Any) -> ActionItem:
    with Session(engine, expire_on_commit=False) as session:
        action = ActionItem(
            team_id=TEAM,
            retro_id=retro.id,
            text="Fix the <flaky> test",
            owner_id="U2",
            due_date=due,
            created_at=clock(),
            **fields,
        )
        session.add(action)
        session.commit()
        return action


def reminders(
    services: Services, jobs: RecordingJobs, engine: Engine, action_id: int | None
) -> dict[str, Job]:
    """Schedule the item's reminders as the service does after a change, by notice."""
    with Session(engine, expire_on_commit=False) as session:
        action = session.get(ActionItem, action_id)
        assert action is not None
    services.timers.reschedule_action_item(action)  # as services do, after their transaction
    return {str(j.parts[1]): j for j in jobs.jobs.values() if j.parts[0] == action_id}


def test_an_action_reminder_is_sent_once_per_kind_and_due_date(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Fire,
) -> None:
    retro = store_retro(engine, clock, phase="completed")
    first_due = clock().date() + timedelta(days=2)  # a Wednesday
    action = store_action(engine, retro, clock, first_due)
    before_move = reminders(services, jobs, engine, action.id)
    assert set(before_move) == {"before", "due", "overdue"}
    due = first_due + timedelta(days=7)
    update(engine, ActionItem, action.id, due_date=due)  # the due date moved since
    moved = reminders(services, jobs, engine, action.id)
    assert {j.args["kind"] for j in moved.values()} == {f"{n}:{due}" for n in ("before", "due", "overdue")}
    fire(at_its_time(clock, before_move["due"]))  # fires anyway: about a date that no longer holds
    assert gateway.messages_to("U2") == []

    fire(at_its_time(clock, moved["due"]))
    fire(moved["due"])
    fire(later_copy(moved["due"], hours=1))
    fire(elsewhere(moved["due"]))
    (reminder,) = gateway.messages_to("U2")
    assert ">Fix the &lt;flaky&gt; test" in mrkdwn_text(reminder["blocks"])
    fire(at_its_time(clock, moved["overdue"]))
    fire(moved["overdue"])
    assert len(gateway.messages_to("U2")) == 2
    # The facilitator hears about an overdue item, once.
    (overdue,) = gateway.messages_to("UFAC")
    assert "<@U2>'s action item is overdue" in overdue["text"]


def test_no_reminder_for_a_finished_action_item(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    fire: Fire,
) -> None:
    retro = store_retro(engine, clock, phase="completed")
    action = store_action(engine, retro, clock, clock().date() + timedelta(days=2))
    scheduled = reminders(services, jobs, engine, action.id)
    update(engine, ActionItem, action.id, status="done")
    with Session(engine) as session:
        done = session.get(ActionItem, action.id)
        assert done is not None and services.timers.action_item(done) == []
    for job in scheduled.values():
        fire(at_its_time(clock, job))
    assert gateway.sent == []


# ---------------------------------------------------------------- follow-up


def test_the_follow_up_asks_owners_and_posts_its_summary_once(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    retro = store_retro(engine, clock, phase="completed", title="Q3 <launch>")
    store_action(engine, retro, clock, clock().date() + timedelta(days=3))
    store_action(engine, retro, clock, clock().date(), status="done")
    (followup,) = Timers.followup(retro)
    assert followup.run_at == retro.deadline + timedelta(weeks=retro.followup_weeks)
    fire(at_its_time(clock, followup))
    fire(followup)
    fire(later_copy(followup, days=1))
    (summary,) = gateway.messages_to("C1")
    assert ":mag: *Follow-up on Q3 &lt;launch&gt;*: 2 action items" in mrkdwn_text(summary["blocks"])
    (ask,) = gateway.messages_to("U2")
    assert ask["text"] == "Follow-up: how is Fix the &lt;flaky&gt; test going?"
    # Posted: a restart does not re-create it.
    assert Timers.followup(load(engine, retro.id)) == []


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_job_for_a_retro_or_item_that_is_gone_does_nothing(
    kind: JobKind, engine: Engine, clock: FakeClock, gateway: RecordingGateway, fire: Fire
) -> None:
    args: dict[str, Any] = {
        "retro_id": 999,
        "user_id": "U1",
        "reminder": "24h",
        "turn_id": 999,
        "action_id": 999,
        "plan_id": 999,
        "kind": f"due:{clock().date()}",
        "schedule_id": 999,
        "occurrence": clock().isoformat(),
        "escalation_id": 999,
        "number": 1,
        "at": clock().isoformat(),
    }
    fire(Job(kind, TEAM, (999,), datetime.fromtimestamp(0, clock().tzinfo), args))
    assert gateway.sent == []
    # Its task ran to the end (it neither failed nor waits to be tried again).
    with Session(engine) as session:
        assert [d.state for d in session.exec(select(Delivery))] == ["done"]
