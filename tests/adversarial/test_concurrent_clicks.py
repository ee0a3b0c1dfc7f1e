"""The same click many times at once: through the real services, on SQLite and PostgreSQL, with real threads.

Every state-changing button or submission is pressed N times together; the state ends as one press leaves
it, and nothing is sent twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from bot.domain import ItemSource
from bot.errors import DomainError
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.items import Added
from bot.services.surveys import SurveyAnswers, SurveySubmitted
from storage.models import ActionItem, Comment, Item, Participant, Response, Turn, Vote
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
