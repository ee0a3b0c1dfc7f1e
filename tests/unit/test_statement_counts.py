"""The hot paths run a fixed number of SQL statements whatever the size of what they show: `/retro status`,
the Home tab and the report. A query inside a loop over items, action items or earlier retros (an N+1)
changes the count at one of the two sizes and fails here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.services import Services
from bot.services.reports import build_report
from messages.home import PAIRS
from storage.db import unit_of_work
from storage.models import ActionItem, Comment, Item, Participant, Response, Retro, Vote
from tests.conftest import FakeClock
from tests.factories import NOW, make_item, make_retro

SMALL, LARGE = 10, 200
# Earlier retros of the channel: fewer than the report looks back on (5), and more.
FEW_EARLIER, MANY_EARLIER = 1, 7

# The pinned counts: lower them when a path gets leaner, never raise them to let a loop of queries in.
STATUS_STATEMENTS = 3  # the retro, its figures (one statement), the open turn
HOME_STATEMENTS = 3  # open action items (with their total), surveys waiting (with theirs), retros run
REPORT_STATEMENTS = 12  # the retro, its figures, the previous retro, the earlier ones, then one per table
# (participants, responses, items, action items, votes, comments, ROTI ratings, kudos) for this retro and the
# earlier ones together


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _retro_with(session: Session, clock: FakeClock, *, items: int, earlier: int, **fields: Any) -> Retro:
    """A channel's retro with `items` items (each with a vote and a comment), as many participants,
    answers and action items, after `earlier` closed retros a tenth of its size; problems recur."""
    start = clock() - timedelta(days=7 * (earlier + 1))
    retros = [
        make_retro(
            session,
            title=f"Sprint {n}",
            phase="completed",
            created_at=start + timedelta(days=7 * n),
            closed_at=start + timedelta(days=7 * n + 1),
        )
        for n in range(earlier)
    ]
    retros.append(make_retro(session, title="Now", phase="voting", created_at=clock(), **fields))
    for retro in retros:
        session.add_all(
            Item(
                team_id="T1",
                retro_id=retro.id,
                category=("went_well", "went_wrong", "to_improve")[n % 3],
                text=f"Flaky deployment pipeline {n % 7} broke staging",
                source="survey",
                created_at=retro.created_at,
                number=n + 1,
            )
            for n in range(items if retro is retros[-1] else max(3, items // 10))
        )
    session.flush()  # the items before what points at them
    for retro in retros:
        for n, item in enumerate(session.exec(select(Item).where(Item.retro_id == retro.id)).all()):
            user = f"U{n}"
            session.add(
                Participant(team_id="T1", retro_id=retro.id, user_id=user, responded_at=retro.created_at)
            )
            session.add(Response(team_id="T1", retro_id=retro.id, author_id=user, smoothness=n % 10 + 1))
            session.add(
                Vote(
                    team_id="T1",
                    retro_id=retro.id,
                    item_id=item.id,
                    voter_hash=f"h{n}",
                    created_at=retro.created_at,
                )
            )
            session.add(
                Comment(
                    team_id="T1",
                    retro_id=retro.id,
                    item_id=item.id,
                    author_id=user,
                    text="+1",
                    created_at=retro.created_at,
                )
            )
            session.add(
                ActionItem(
                    team_id="T1",
                    retro_id=retro.id,
                    text=f"Fix pipeline {n}",
                    owner_id="UOWNER",
                    status=("open", "done", "carried")[n % 3],
                    due_date=date(2026, 12, 1) + timedelta(days=n),
                    created_at=retro.created_at,
                    closed_at=retro.created_at if n % 3 == 1 else None,
                )
            )
    session.commit()
    return retros[-1]


def _count(engine: Engine, run: Callable[[], object]) -> int:
    with counting(engine) as statements:
        run()
    return len(statements)


@pytest.mark.parametrize(("items", "earlier"), [(SMALL, FEW_EARLIER), (LARGE, MANY_EARLIER)])
def test_status_home_and_report_run_a_fixed_number_of_statements(
    engine: Engine, clock: FakeClock, services: Services, items: int, earlier: int
) -> None:
    with unit_of_work(engine) as session:
        retro = _retro_with(session, clock, items=items, earlier=earlier)
        # A survey waiting for UOWNER, who also runs a retro elsewhere.
        make_retro(session, channel_id="C2", facilitator_id="UOWNER", title="Elsewhere")
        session.add(Participant(team_id="T1", retro_id=retro.id, user_id="UOWNER"))
        session.commit()

    status = _count(engine, lambda: services.reports.status(team_id="T1", channel_id="C1"))

    def home() -> None:
        with unit_of_work(engine) as session:
            view = services.home.view_for(session, team_id="T1", user_id="UOWNER")
        assert "Fix pipeline 0" in str(view)

    def report() -> None:
        with unit_of_work(engine) as session:
            text = build_report(session, session.get(Retro, retro.id) or retro)
        assert "Recurring problems" in text

    assert (status, _count(engine, home), _count(engine, report)) == (
        STATUS_STATEMENTS,
        HOME_STATEMENTS,
        REPORT_STATEMENTS,
    )


def test_home_loads_no_more_action_items_than_it_shows(
    engine: Engine, clock: FakeClock, services: Services
) -> None:
    """500 open action items: the tab loads the few it shows and counts the rest in the database."""
    with unit_of_work(engine) as session:
        retro = make_retro(session, phase="completed")
        session.add_all(
            ActionItem(
                team_id="T1",
                retro_id=retro.id,
                text=f"Fix pipeline {n}",
                owner_id="UOWNER",
                due_date=date(2026, 12, 1) + timedelta(days=n),
                created_at=clock(),
            )
            for n in range(500)
        )
        session.commit()
    loaded: list[object] = []

    def record(target: object, _context: Any) -> None:
        loaded.append(target)

    event.listen(ActionItem, "load", record)
    try:
        with unit_of_work(engine) as session:
            view = services.home.view_for(session, team_id="T1", user_id="UOWNER")
    finally:
        event.remove(ActionItem, "load", record)
    shown = [b for b in view["blocks"] if b.get("block_id", "").startswith("home_action_")]
    assert len(loaded) == len(shown) == PAIRS
    assert f"…and {500 - PAIRS} more." in str(view)
    assert "Fix pipeline 0" in str(view)  # the first due


def test_a_problem_with_many_earlier_matches_lists_five_and_counts_the_rest(engine: Engine) -> None:
    """A report stays readable (and small) when a problem came up many times before: five earlier
    matches are quoted, the rest counted."""
    with Session(engine) as session:
        before = make_retro(session, channel_id="CREC", phase="completed", closed_at=NOW - timedelta(days=30))
        for n in range(7):
            make_item(session, retro_id=before.id, category="went_wrong", text=f"Flaky smoke tests again {n}")
        now = make_retro(session, channel_id="CREC", phase="completed", closed_at=NOW, created_at=NOW)
        make_item(session, retro_id=now.id, category="went_wrong", text="Flaky smoke tests")
        text = build_report(session, now)
    section = text[text.index("## Recurring problems") :].split("\n## ")[0]
    assert section.count("“Flaky smoke tests again") == 5
    assert "…and 2 more like it" in section
