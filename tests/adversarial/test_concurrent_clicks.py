"""The same click many times at once: through the real services, on SQLite and PostgreSQL, with real threads.

Every state-changing button or submission is pressed N times together; the state ends as one press leaves
it, and nothing is sent twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from bot.domain import ItemSource, Phase
from bot.errors import DomainError
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.items import Added
from bot.services.surveys import SurveyAnswers, SurveySubmitted
from bot.services.timers import Timers
from storage.models import ActionItem, Comment, Delivery, Item, Participant, Response, Retro, Turn, Vote
from tests.conftest import FakeClock
from tests.factories import add_participants, make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

T = TypeVar("T")
N = 8
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def services(engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    return build_services(engine, clock, gateway, jobs)


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


def at_once(n: int, click: Callable[[int], T]) -> list[T | Exception]:
    """Run `click(i)` in n threads released together; each result, or the domain error it raised."""
    start = threading.Barrier(n)
    results: list[T | Exception] = [RuntimeError("did not run")] * n

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = click(i)
        except DomainError as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a click never finished"
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not unexpected, unexpected
    return results


def count(engine: Engine, model: Any, **where: Any) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.exec(query).one())


# ---------------------------------------------------------------- voting


@pytest.fixture
def voting(engine: Engine, clock: FakeClock) -> tuple[int, list[int]]:
    with Session(engine) as session:
        retro = make_retro(
            session,
            phase="voting",
            votes_per_person=3,
            voting_deadline=clock() + timedelta(days=1),
            created_at=clock(),
        )
        items = [
            make_item(session, retro_id=retro.id, category="went_wrong", text=f"Item {n}", number=n)
            for n in range(1, 11)
        ]
        add_participants(session, retro.id, "U1")
        return retro.id, [i.id for i in items]


def test_ten_votes_at_once_keep_the_limit(
    services: Services, engine: Engine, voting: tuple[int, list[int]]
) -> None:
    retro_id, items = voting
    results = at_once(
        10, lambda i: services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=items[i])
    )
    assert count(engine, Vote, retro_id=retro_id) == 3
    assert sum(isinstance(r, DomainError) for r in results) == 7


def test_the_same_vote_clicked_at_once_counts_once(
    services: Services, engine: Engine, voting: tuple[int, list[int]]
) -> None:
    retro_id, items = voting
    at_once(
        N, lambda _: services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=items[0])
    )
    assert count(engine, Vote, retro_id=retro_id) == 1
    at_once(
        N, lambda _: services.voting.unvote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=items[0])
    )
    assert count(engine, Vote, retro_id=retro_id) == 0


# ---------------------------------------------------------------- submissions
# Slack's view id names one submission of one modal: Submit pressed twice, or sent again, carries the same.


def test_the_survey_submitted_at_once_stores_one_set_of_answers(services: Services, engine: Engine) -> None:
    """Re-submitting replaces this person's answers: at once, the last one wins, whole (no duplicates, no
    IntegrityError on the one response per person)."""
    with Session(engine) as session:
        retro_id = make_retro(session).id
    answers = SurveyAnswers(
        items={"went_well": "Fast review\nPairing", "went_wrong": "Flaky CI"}, smoothness=7, surprise=None
    )
    # The facilitator, who has no participant row yet: their first answer makes one, once.
    results = at_once(
        N, lambda _: services.surveys.submit(team_id="T1", retro_id=retro_id, user_id="UFAC", answers=answers)
    )
    assert all(isinstance(r, SurveySubmitted) and r.item_count == 3 for r in results)
    assert count(engine, Item, retro_id=retro_id) == 3
    assert count(engine, Response, retro_id=retro_id) == 1
    assert count(engine, Participant, retro_id=retro_id, user_id="UFAC") == 1


def test_the_same_add_item_modal_submitted_at_once_stores_one_item(
    services: Services, engine: Engine
) -> None:
    with Session(engine) as session:
        retro_id = make_retro(session, anonymity="anonymous").id
        session.add(Participant(team_id="T1", retro_id=retro_id, user_id="U1"))
        session.commit()

    def add(view_id: str) -> Added:
        return services.items.add(
            team_id="T1",
            retro_id=retro_id,
            user_id="U1",
            entries=[("went_well", "Fast review")],
            wants_anonymous=False,
            source=ItemSource.MODAL,
            view_id=view_id,
        )

    results = at_once(N, lambda _: add("V1"))
    assert all(isinstance(r, Added) and r.anonymous for r in results)  # each gets the same answer
    assert count(engine, Item, retro_id=retro_id) == 1
    add("V1")  # later, again: still one
    assert count(engine, Item, retro_id=retro_id) == 1
    add("V2")  # another modal is another item
    assert count(engine, Item, retro_id=retro_id) == 2


@pytest.fixture
def turn(engine: Engine, clock: FakeClock) -> tuple[int, int]:
    """A discussing retro whose first of two turns (U1's) is running, with one item to comment on."""
    with Session(engine, expire_on_commit=False) as session:
        retro = make_retro(session, phase="discussing", kickoff_ts="1.1")
        make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
        first = Turn(
            team_id="T1", retro_id=retro.id, position=1, user_id="U1", status="active", due_at=clock() + HOUR
        )
        session.add_all([first, Turn(team_id="T1", retro_id=retro.id, position=2, user_id="U2")])
        session.commit()
        return retro.id, first.id


@pytest.mark.parametrize("answer", ["comment", "add"])
def test_the_same_turn_modal_submitted_at_once_answers_once(
    services: Services, engine: Engine, gateway: RecordingGateway, turn: tuple[int, int], answer: str
) -> None:
    retro_id, turn_id = turn

    def submit(_: int) -> None:
        if answer == "comment":
            services.turns.comment(
                team_id="T1", turn_id=turn_id, user_id="U1", item_number=1, text="Again", view_id="V1"
            )
        else:
            services.turns.add(
                team_id="T1", turn_id=turn_id, user_id="U1", category="went_well", text="New", view_id="V1"
            )

    results = at_once(N, submit)
    assert results == [None] * N  # no "that turn has passed" for the same modal
    assert count(engine, Comment, retro_id=retro_id) == (1 if answer == "comment" else 0)
    assert count(engine, Item, retro_id=retro_id) == (1 if answer == "comment" else 2)
    with Session(engine) as session:
        statuses = session.exec(
            select(Turn.status).where(Turn.retro_id == retro_id).order_by(col(Turn.position))
        )
        assert list(statuses) == ["answered", "active"]
    assert len(gateway.messages_to("U2")) == 1  # the next person is prompted once


@pytest.fixture
def action_item(engine: Engine, clock: FakeClock, gateway: RecordingGateway) -> tuple[int, int]:
    gateway.human("U2", "nina")
    with Session(engine, expire_on_commit=False) as session:
        retro = make_retro(session, phase="closed", facilitator_id="UF")
        stored = ActionItem(
            team_id="T1",
            retro_id=retro.id,
            text="Fix CI",
            owner_id="U2",
            due_date=clock().date() + DAY * 7,
            created_at=clock(),
        )
        session.add(stored)
        session.commit()
        return retro.id, stored.id


def test_the_same_action_item_modal_submitted_at_once_creates_one(
    services: Services, engine: Engine, gateway: RecordingGateway, action_item: tuple[int, int]
) -> None:
    retro_id, _ = action_item
    draft = ActionItemDraft(
        team_id="T1",
        retro_id=retro_id,
        created_by="UF",
        text="Pair on QA",
        owner_id="U2",
        due_text=None,
        view_id="V1",
    )
    results = at_once(N, lambda _: services.action_items.create(draft))
    assert sum(r is not None for r in results) == 1
    assert count(engine, ActionItem, retro_id=retro_id) == 2
    assert sum("Pair on QA" in m["text"] for m in gateway.messages_to("U2")) == 1


def test_the_root_cause_submitted_at_once_is_one_note(
    services: Services, engine: Engine, voting: tuple[int, list[int]]
) -> None:
    """An update: the same note again leaves the same note."""
    _retro_id, items = voting
    at_once(
        N,
        lambda _: services.voting.set_root_cause(team_id="T1", item_id=items[0], user_id="UFAC", text="Load"),
    )
    with Session(engine) as session:
        assert [i.root_cause for i in session.exec(select(Item).where(Item.root_cause != None))] == ["Load"]  # noqa: E711


@pytest.mark.parametrize("change", ["done", "cannot", "due"])
def test_an_action_item_changed_at_once_changes_once(
    services: Services,
    engine: Engine,
    gateway: RecordingGateway,
    clock: FakeClock,
    action_item: tuple[int, int],
    change: str,
) -> None:
    _, action_id = action_item
    progress = services.action_item_progress
    due = clock().date() + DAY * 9

    def click(_: int) -> object:
        if change == "done":
            return progress.complete(team_id="T1", action_item_id=action_id, user_id="U2")
        if change == "cannot":
            return progress.cannot_do(team_id="T1", action_item_id=action_id, user_id="U2", reason="No time")
        return progress.change_due(team_id="T1", action_item_id=action_id, user_id="U2", due=due)

    at_once(N, click)
    with Session(engine) as session:
        stored = session.get(ActionItem, action_id)
        assert stored is not None
        expected = {
            "done": ("done", stored.due_date),
            "cannot": ("dropped", stored.due_date),
            "due": ("open", due),
        }
        assert (stored.status, stored.due_date) == expected[change]
    told = [m for m in gateway.messages_to("UF") if "No time" in m["text"]]
    assert len(told) == (1 if change == "cannot" else 0)


# ---------------------------------------------------------------- the round-robin


def intents(engine: Engine, prefix: str = "") -> list[str]:
    """The outbox's intents (their keys), those whose key starts with `prefix`."""
    with Session(engine) as session:
        keys = session.exec(select(Delivery.key).where(col(Delivery.key).startswith(prefix)))
        return sorted(keys)


def thread_posts(engine: Engine, text: str) -> int:
    """Intents that post `text` (a fragment of it) in the retro's channel."""
    with Session(engine) as session:
        return sum(
            d.payload.get("channel") == "C1" and text in str(d.payload.get("text", ""))
            for d in session.exec(select(Delivery))
        )


def test_the_pass_button_clicked_at_once_passes_once(
    services: Services, engine: Engine, gateway: RecordingGateway, turn: tuple[int, int]
) -> None:
    retro_id, turn_id = turn
    results = at_once(
        N,
        lambda _: services.turns.pass_turn(
            team_id="T1", turn_id=turn_id, user_id="U1", response_url="https://hooks.example/1"
        ),
    )
    assert results.count(None) == 1  # the others hear that the turn has passed
    with Session(engine) as session:
        statuses = session.exec(
            select(Turn.status).where(Turn.retro_id == retro_id).order_by(col(Turn.position))
        )
        assert list(statuses) == ["passed", "active"]
    assert len(gateway.messages_to("U2")) == 1  # the next person is prompted once
    assert len([kind for kind, _ in gateway.sent if kind == "response"]) == 1  # one "thanks"
    assert intents(engine, f"turn:{turn_id}:done") == [f"turn:{turn_id}:done"]


@pytest.fixture
def last_turn(engine: Engine, clock: FakeClock) -> int:
    """A discussing retro whose last turn (U1's) is running: skipping it ends the round."""
    with Session(engine, expire_on_commit=False) as session:
        retro = make_retro(session, phase="discussing", kickoff_ts="1.1")
        add_participants(session, retro.id, "U1")
        session.add(
            Turn(
                team_id="T1",
                retro_id=retro.id,
                position=1,
                user_id="U1",
                status="active",
                due_at=clock() + HOUR,
            )
        )
        session.commit()
        return retro.id


def test_retro_skip_at_once_skips_once(
    services: Services, engine: Engine, jobs: RecordingJobs, last_turn: int
) -> None:
    results = at_once(N, lambda _: services.facilitation.skip(team_id="T1", channel_id="C1", user_id="UFAC"))
    assert "U1" in results
    assert all(r == "U1" or isinstance(r, DomainError) for r in results)
    with Session(engine) as session:
        assert list(session.exec(select(Turn.status).where(Turn.retro_id == last_turn))) == ["skipped"]
    assert len(intents(engine, "turn:")) == 1  # one "turn done" in the thread
    assert intents(engine, f"round_done:{last_turn}") == [f"round_done:{last_turn}"]


def test_retro_pause_and_resume_at_once_change_once(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs, turn: tuple[int, int]
) -> None:
    retro_id, turn_id = turn
    paused = at_once(N, lambda _: services.facilitation.pause(team_id="T1", channel_id="C1", user_id="UFAC"))
    assert paused.count(None) == 1
    assert thread_posts(engine, "paused") == 1
    with Session(engine) as session:
        stored = session.get(Turn, turn_id)
        assert stored is not None and stored.remaining_seconds == 3600
    clock.advance(minutes=5)
    resumed = at_once(
        N, lambda _: services.facilitation.resume(team_id="T1", channel_id="C1", user_id="UFAC")
    )
    assert resumed.count(None) == 1
    assert thread_posts(engine, "continues") == 1
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        stored = session.get(Turn, turn_id)
        assert retro is not None and retro.paused_at is None
        assert stored is not None and stored.due_at is not None
        assert stored.due_at.replace(tzinfo=None) == (clock() + HOUR).replace(tzinfo=None)
    assert sorted(jobs.jobs) == sorted(j.id for j in Timers.turn(retro, stored))


# ---------------------------------------------------------------- the kickoff's earlier action items


@pytest.fixture
def earlier_item(engine: Engine, clock: FakeClock) -> tuple[int, int]:
    """The channel's previous retro left an open action item; this retro's kickoff lists it."""
    with Session(engine, expire_on_commit=False) as session:
        previous = make_retro(
            session, phase="completed", created_at=clock() - DAY * 14, closed_at=clock() - DAY * 13
        )
        stored = ActionItem(
            team_id="T1",
            retro_id=previous.id,
            text="Fix CI",
            owner_id="U2",
            due_date=clock().date() + DAY * 7,
            created_at=clock() - DAY * 14,
        )
        session.add(stored)
        retro = make_retro(session, kickoff_ts="1.1")
        session.commit()
        return retro.id, stored.id


@pytest.mark.parametrize("decision", ["carry", "done", "drop"])
def test_an_earlier_action_item_decided_at_once_is_decided_once(
    services: Services, engine: Engine, jobs: RecordingJobs, earlier_item: tuple[int, int], decision: str
) -> None:
    retro_id, action_id = earlier_item
    results = at_once(
        N,
        lambda _: services.action_item_carryover.decide_previous(
            team_id="T1", retro_id=retro_id, action_item_id=action_id, user_id="UFAC", decision=decision
        ),
    )
    assert results.count(None) == 1  # the others hear it is decided already
    with Session(engine) as session:
        earlier = session.get(ActionItem, action_id)
        assert earlier is not None
        assert earlier.status == {"carry": "carried", "done": "done", "drop": "dropped"}[decision]
        carried = session.exec(select(ActionItem).where(ActionItem.retro_id == retro_id)).all()
        assert len(carried) == (1 if decision == "carry" else 0)
    assert intents(engine, "redraw:kickoff:") == [f"redraw:kickoff:{retro_id}"]


def test_two_earlier_items_decided_at_once_both_show_in_the_redrawn_kickoff(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs, earlier_item: tuple[int, int]
) -> None:
    """Each decision redraws the kickoff from what is stored: taking turns on the retro, the last redraw
    shows both (a regression: at once, each saw only its own and one was lost from the kickoff)."""
    retro_id, first = earlier_item
    with Session(engine) as session:
        earlier = session.get(ActionItem, first)
        assert earlier is not None
        second = ActionItem(team_id="T1", retro_id=earlier.retro_id, text="Write the runbook", owner_id="U3",
                            due_date=earlier.due_date, created_at=earlier.created_at)  # fmt: skip
        session.add(second)
        session.commit()
        second_id = second.id
    decisions = [(first, "carry"), (second_id, "drop")]
    at_once(
        2,
        lambda n: services.action_item_carryover.decide_previous(
            team_id="T1", retro_id=retro_id, action_item_id=decisions[n][0], user_id="UFAC",
            decision=decisions[n][1],
        ),
    )  # fmt: skip
    with Session(engine) as session:
        (redraw,) = session.exec(select(Delivery).where(Delivery.key == f"redraw:kickoff:{retro_id}")).all()
    shown = str(redraw.payload["blocks"])
    assert "_carried over_" in shown and "_dropped_" in shown


# ---------------------------------------------------------------- my items


@pytest.fixture
def own_item(engine: Engine) -> int:
    with Session(engine) as session:
        retro = make_retro(session)
        return make_item(
            session, retro_id=retro.id, category="went_wrong", text="Flaky CI", author_id="U1"
        ).id


@pytest.mark.parametrize("change", ["edit", "delete", "both"])
def test_my_item_edited_or_deleted_at_once(
    services: Services, engine: Engine, own_item: int, change: str
) -> None:
    def click(i: int) -> object:
        if change == "edit" or (change == "both" and i % 2):
            return services.items.edit(
                team_id="T1", item_id=own_item, user_id="U1", category="went_well", text="Fast CI"
            )
        return services.items.delete(team_id="T1", item_id=own_item, user_id="U1")

    results = at_once(N, click)
    with Session(engine) as session:
        stored = session.get(Item, own_item)
    if change == "edit":
        assert stored is not None and (stored.category, stored.text) == ("went_well", "Fast CI")
        assert not any(isinstance(r, DomainError) for r in results)
    else:
        assert stored is None
        deleted = [
            r
            for i, r in enumerate(results)
            if not isinstance(r, DomainError) and not (change == "both" and i % 2)
        ]
        assert len(deleted) == 1  # one delete did it; the others hear the item is gone


# ---------------------------------------------------------------- closing and the deadline


class TickingClock(FakeClock):
    """Every reading is a millisecond later than the one before, as requests at once each see their own
    time: keys made of the time do not merge what was done twice."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(milliseconds=1)
            return self.now


@pytest.fixture
def ticking(engine: Engine, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    return build_services(engine, TickingClock(), gateway, jobs)


def test_the_close_modal_submitted_at_once_closes_and_publishes_once(
    ticking: Services, engine: Engine, gateway: RecordingGateway
) -> None:
    with Session(engine) as session:
        retro_id = make_retro(session, phase="actions", kickoff_ts="1.1").id

    def submit(_: int) -> int:
        return ticking.closing.close_by_id(
            team_id="T1", retro_id=retro_id, user_id="UFAC", share_with="C9", view_id="V1"
        )

    at_once(N, submit)
    assert len(intents(engine, f"publish:{retro_id}:")) == 1
    assert len(intents(engine, f"share:{retro_id}:")) == 1
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.phase == "completed"
    assert len([p for kind, p in gateway.sent if kind == "file"]) == 1  # one retrospective.md
    assert submit(0) == retro_id  # the same modal later, its report out: quietly nothing ("already closed")
    assert len(intents(engine, f"publish:{retro_id}:")) == 1


def test_retro_close_again_at_once_publishes_once(
    ticking: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    """`/retro close` on a closed retro publishes its report again (it may not have got out): at once, once."""
    with Session(engine) as session:
        retro_id = make_retro(session, phase="completed", kickoff_ts="1.1", closed_at=clock()).id

    def close(_: int) -> object:
        return ticking.closing.start_close(team_id="T1", channel_id="C1", user_id="UFAC")

    at_once(N, close)
    assert len(intents(engine, f"publish:{retro_id}:")) == 1
    assert len([p for kind, p in gateway.sent if kind == "file"]) == 1


def test_the_extend_modal_submitted_at_once_moves_the_deadline_once(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    with Session(engine) as session:
        retro_id = make_retro(session, kickoff_ts="1.1").id
    deadline = clock() + DAY * 3
    results = at_once(
        N,
        lambda _: services.deadlines.extend(
            team_id="T1", retro_id=retro_id, user_id="UFAC", deadline=deadline
        ),
    )
    assert all(isinstance(r, Retro) for r in results)
    assert thread_posts(engine, "moved the deadline") == 1  # one announcement
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.deadline.replace(tzinfo=None) == deadline.replace(tzinfo=None)
    assert any(job.run_at == deadline for job in jobs.jobs.values())


@pytest.mark.parametrize("phase", ["collecting", "discussing", "voting"])
def test_retro_next_at_once_moves_on_one_step(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs, phase: str
) -> None:
    """Each `/retro next` moves on from the phase it found: those that found the same phase (the command
    sent again while the first was still moving the retro on) make one step between them."""
    with Session(engine) as session:
        retro = make_retro(
            session,
            phase=phase,
            kickoff_ts="1.1",
            voting_deadline=clock() + DAY if phase == "voting" else None,
        )
        add_participants(session, retro.id, "U1", "U2")
        make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
        if phase == "discussing":
            session.add(Turn(team_id="T1", retro_id=retro.id, position=1, user_id="U1", status="active"))
            session.commit()
        retro_id = retro.id
    results = at_once(
        N, lambda _: services.facilitation.step(team_id="T1", retro_id=retro_id, seen=Phase(phase))
    )
    assert results.count(True) == 1  # the others found it moved on already
    following = {"collecting": "discussing", "discussing": "voting", "voting": "actions"}[phase]
    with Session(engine) as session:
        stored = session.get(Retro, retro_id)
        assert stored is not None and stored.phase == following
    announced = {"collecting": "intro:", "discussing": "voting:", "voting": "results:"}[phase]
    assert len(intents(engine, f"{announced}{retro_id}")) == 1
