"""Every scheduled job, called through its stored reference as the scheduler does, does its work exactly once:
not before its time, and not again when it fires twice (a retried job, or one re-created on start-up)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Unpack

import pytest
from apscheduler.util import ref_to_obj
from sqlalchemy import Engine
from sqlmodel import Session

from bot import jobs
from bot.services import Services
from storage.models import ActionItem, Item, Participant, Retro, Turn
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import RetroFields, make_retro
from tests.recording import RecordingGateway

TEAM = "T1"


@pytest.fixture
def bound(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setattr(jobs, "_services", services)
    return services


def job(name: str) -> Callable[..., None]:
    """The function a stored job calls: resolved from its reference, as APScheduler does."""
    func: Callable[..., None] = ref_to_obj(f"bot.jobs:{name}")
    return func


def store_retro(engine: Engine, clock: FakeClock, **fields: Unpack[RetroFields]) -> Retro:
    base: RetroFields = {
        "kickoff_ts": "1.1",
        "deadline": clock() + timedelta(hours=1),
        "created_at": clock(),
        "anonymity": "named",
    }
    with Session(engine) as session:
        retro = make_retro(session, **(base | fields))
        assert retro.id is not None
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
        session.refresh(retro)
        return retro


def phase(engine: Engine, retro_id: int | None) -> str:
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        return retro.phase


def thread(gateway: RecordingGateway) -> list[str]:
    return [m["text"] for m in gateway.messages_to("C1") if m["thread_ts"] == "1.1"]


def test_the_deadline_closes_collection_once(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock)
    close = job("close_collection")
    close(TEAM, retro.id)  # an old job after the deadline moved later: a newer one is in charge
    assert phase(engine, retro.id) == "collecting"
    assert gateway.sent == []
    clock.advance(hours=1)
    close("T2", retro.id)  # another workspace's id is not this retro
    assert gateway.sent == []
    close(TEAM, retro.id)
    assert phase(engine, retro.id) == "discussing"
    assert any("Flaky deploys" in mrkdwn_text(m["blocks"]) for m in gateway.messages_to("C1"))
    sent = len(gateway.sent)
    close(TEAM, retro.id)
    assert len(gateway.sent) == sent


def test_a_nudge_reaches_someone_who_has_not_answered_once(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, title="Q3 <launch>")
    with Session(engine) as session:
        answered = session.get(Participant, 2)
        assert answered is not None and answered.user_id == "U2"
        answered.responded_at = clock()
        session.add(answered)
        session.commit()
    nudge = job("nudge")
    nudge(TEAM, retro.id, "U1", "24h")
    nudge(TEAM, retro.id, "U1", "24h")
    nudge(TEAM, retro.id, "U2", "24h")
    nudge(TEAM, retro.id, "U3", "24h")  # not invited
    (reminder,) = gateway.messages_to("U1")
    assert reminder["text"].startswith("Reminder: Q3 &lt;launch&gt; closes <!date^")
    assert ":wave: A reminder: the retrospective *Q3 &lt;launch&gt;* in <#C1>" in mrkdwn_text(
        reminder["blocks"]
    )
    nudge(TEAM, retro.id, "U1", "2h")  # the other reminder is another one
    assert len(gateway.messages_to("U1")) == 2
    clock.advance(hours=1)
    nudge(TEAM, retro.id, "U1", "manual-1")  # at the deadline it is too late
    assert len(gateway.messages_to("U1")) == 2
    assert gateway.messages_to("U2") == []


def test_a_nudge_after_collection_ended_is_not_sent(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="discussing")
    job("nudge")(TEAM, retro.id, "U1", "24h")
    job("nudge")(TEAM, 999, "U1", "24h")
    assert gateway.sent == []


def store_turns(engine: Engine, retro: Retro, *turns: Turn) -> list[int]:
    with Session(engine) as session:
        for turn in turns:
            session.add(turn)
        session.commit()
        return [t.id or 0 for t in turns]


def turn_status(engine: Engine, turn_id: int) -> str:
    with Session(engine) as session:
        turn = session.get(Turn, turn_id)
        assert turn is not None
        return turn.status


def test_a_scheduled_turn_starts_in_the_morning_once(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="discussing", title="Q3 <launch>")
    assert retro.id is not None
    (turn_id,) = store_turns(
        engine,
        retro,
        Turn(
            team_id=TEAM,
            retro_id=retro.id,
            position=1,
            user_id="U1",
            status="scheduled",
            starts_at=clock() + timedelta(hours=1),
        ),
    )
    start = job("start_turn")
    start(TEAM, retro.id, turn_id)  # an old job: the turn was moved to later
    assert turn_status(engine, turn_id) == "scheduled"
    assert gateway.sent == []
    clock.advance(hours=1)
    start(TEAM, retro.id, turn_id)
    assert turn_status(engine, turn_id) == "active"
    (prompt,) = gateway.messages_to("U1")
    assert ":speech_balloon: Your turn in *Q3 &lt;launch&gt;*" in mrkdwn_text(prompt["blocks"])
    assert len(thread(gateway)) == 1
    start(TEAM, retro.id, turn_id)
    assert len(gateway.messages_to("U1")) == 1
    assert len(thread(gateway)) == 1


def test_a_turn_does_not_start_while_the_round_robin_is_paused(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="discussing", paused_at=clock())
    assert retro.id is not None
    (turn_id,) = store_turns(
        engine,
        retro,
        Turn(
            team_id=TEAM, retro_id=retro.id, position=1, user_id="U1", status="scheduled", starts_at=clock()
        ),
    )
    job("start_turn")(TEAM, retro.id, turn_id)
    assert turn_status(engine, turn_id) == "scheduled"
    assert gateway.sent == []


def test_a_turn_times_out_once_and_the_next_one_begins(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="discussing")
    assert retro.id is not None
    first, second = store_turns(
        engine,
        retro,
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
    end = job("end_turn")
    end(TEAM, retro.id, first)  # an old job: the turn got more time
    assert turn_status(engine, first) == "active"
    assert gateway.sent == []
    clock.advance(hours=1)
    end(TEAM, retro.id, first)
    assert (turn_status(engine, first), turn_status(engine, second)) == ("timed_out", "active")
    assert len(gateway.messages_to("U2")) == 1
    sent = len(gateway.sent)
    end(TEAM, retro.id, first)
    assert len(gateway.sent) == sent
    assert turn_status(engine, second) == "active"


def test_a_paused_turn_does_not_time_out(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="discussing", paused_at=clock())
    assert retro.id is not None
    (turn_id,) = store_turns(
        engine,
        retro,
        Turn(team_id=TEAM, retro_id=retro.id, position=1, user_id="U1", status="active", due_at=clock()),
    )
    job("end_turn")(TEAM, retro.id, turn_id)
    assert turn_status(engine, turn_id) == "active"
    assert gateway.sent == []


def test_voting_closes_once_with_the_results(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="voting", voting_deadline=clock())
    close = job("close_voting")
    close(TEAM, retro.id)
    assert phase(engine, retro.id) == "actions"
    results = thread(gateway)
    assert results and "Voting results" in results[0]
    sent = len(gateway.sent)
    close(TEAM, retro.id)
    assert len(gateway.sent) == sent


def store_action(engine: Engine, retro: Retro, clock: FakeClock, due: date, **fields: Any) -> int:
    assert retro.id is not None
    with Session(engine) as session:
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
        assert action.id is not None
        return action.id


def test_an_action_reminder_is_sent_once_per_kind_and_due_date(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="completed")
    due = clock().date()
    action_id = store_action(engine, retro, clock, due)
    remind = job("action_reminder")
    remind(TEAM, action_id, f"due:{due.isoformat()}")
    remind(TEAM, action_id, f"due:{due.isoformat()}")
    remind(TEAM, action_id, f"due:{(due - timedelta(days=1)).isoformat()}")  # the due date has moved since
    remind("T2", action_id, f"due:{due.isoformat()}")
    (reminder,) = gateway.messages_to("U2")
    assert ">Fix the &lt;flaky&gt; test" in mrkdwn_text(reminder["blocks"])
    remind(TEAM, action_id, f"overdue:{due.isoformat()}")
    assert len(gateway.messages_to("U2")) == 2
    # The facilitator hears about an overdue item, once.
    assert len(gateway.messages_to("UFAC")) == 1
    assert "<@U2>'s action item is overdue" in gateway.messages_to("UFAC")[0]["text"]


def test_no_reminder_for_a_finished_action_item(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="completed")
    due = clock().date()
    action_id = store_action(engine, retro, clock, due, status="done")
    job("action_reminder")(TEAM, action_id, f"due:{due.isoformat()}")
    assert gateway.sent == []


def test_the_follow_up_asks_owners_and_posts_its_summary_once(
    bound: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro = store_retro(engine, clock, phase="completed", title="Q3 <launch>")
    store_action(engine, retro, clock, clock().date() + timedelta(days=3))
    store_action(engine, retro, clock, clock().date(), status="done")
    followup = job("followup")
    followup(TEAM, retro.id)
    followup(TEAM, retro.id)
    (summary,) = gateway.messages_to("C1")
    assert ":mag: *Follow-up on Q3 &lt;launch&gt;*: 2 action items" in mrkdwn_text(summary["blocks"])
    (ask,) = gateway.messages_to("U2")
    assert ask["text"] == "Follow-up: how is Fix the &lt;flaky&gt; test going?"
