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
from sqlmodel import Session, func, select

from bot.errors import DomainError
from bot.services import Services
from storage.models import Item, Vote
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

T = TypeVar("T")
N = 8


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
    at_once(N, lambda _: services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=items[0]))
    assert count(engine, Vote, retro_id=retro_id) == 1
    at_once(N, lambda _: services.voting.unvote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=items[0]))
    assert count(engine, Vote, retro_id=retro_id) == 0
