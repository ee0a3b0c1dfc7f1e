"""retrospective.md, byte for byte: a full retro and one with missing data (golden files)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Unpack

from sqlalchemy import Engine
from sqlmodel import Session

from bot.services.reports import build_report
from storage.db import unit_of_work
from storage.models import ActionItem, Comment, Item, Participant, Response, Retro, Vote
from tests.factories import RetroFields, make_retro

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _retro(session: Session, **overrides: Unpack[RetroFields]) -> Retro:
    """A completed retro run by alice; every test here gives its title and dates."""
    fields: RetroFields = {
        "facilitator_id": "UALICE",
        "facilitator_name": "alice",
        "phase": "completed",
        "anonymity": "optional",
    }
    fields.update(overrides)
    return make_retro(session, **fields)


def _people(session: Session, retro: Retro, answered: dict[str, bool]) -> None:
    for user, did in answered.items():
        session.add(
            Participant(
                team_id="T1",
                retro_id=retro.id,
                user_id=f"U{user.upper()}",
                display_name=user,
                responded_at=retro.created_at + timedelta(hours=5) if did else None,
            )
        )


def build_full(engine: Engine) -> Retro:
    with unit_of_work(engine) as session:
        earlier = _retro(
            session, title="Release 2.3", deadline=T0, created_at=T0 - timedelta(days=3), closed_at=T0
        )
        _people(session, earlier, {"alice": True, "bob": True, "carol": False})
        session.add(Response(team_id="T1", retro_id=earlier.id, author_id="UALICE", smoothness=5))
        session.add(
            Item(
                team_id="T1",
                retro_id=earlier.id,
                category="went_wrong",
                text="Flaky tests",
                source="survey",
                created_at=T0,
            )
        )
        session.add(
            Item(
                team_id="T1",
                retro_id=earlier.id,
                category="went_wrong",
                text="Rollback took 35 minutes",
                source="survey",
                created_at=T0,
            )
        )
        done = ActionItem(
            team_id="T1",
            retro_id=earlier.id,
            text="Quarantine flaky tests",
            owner_id="UBOB",
            owner_name="bob",
            due_date=date(2026, 11, 10),
            status="done",
            created_at=T0,
            closed_at=datetime(2026, 11, 9, tzinfo=UTC),
        )
        carried = ActionItem(
            team_id="T1",
            retro_id=earlier.id,
            text="Document the rollback",
            owner_id="UCAROL",
            owner_name="carol",
            due_date=date(2026, 11, 12),
            status="carried",
            created_at=T0,
        )
        session.add_all([done, carried])

        start = T0 + timedelta(days=14)
        retro = _retro(
            session,
            title="Release 2.4 <beta>",
            deadline=start + timedelta(days=2),
            created_at=start,
            closed_at=start + timedelta(days=4),
            custom_questions=["Was the checklist useful?"],
            release_version="2.4.0",
            deploy_date=date(2026, 11, 15),
            release_scope="Checkout redesign | new payment provider",
            incidents="One P2: checkout errors for 20 minutes",
            rollbacks="None",
            hotfixes=None,
            release_notes="Deploy took 48 min (planned 20)",
        )
        rid = retro.id
        _people(session, retro, {"alice": True, "bob": True, "carol": True, "dan": False})
        session.add_all(
            [
                # Ids are random (storage/ids.py): these fix the order the answers are listed in.
                Response(id=1, team_id="T1", retro_id=rid, author_id="UALICE", smoothness=8, answers=["Yes"]),
                Response(
                    id=2,
                    team_id="T1",
                    retro_id=rid,
                    author_id="UBOB",
                    smoothness=6,
                    surprise="How fast the fix shipped",
                    answers=[None],
                ),
                Response(
                    id=3,
                    team_id="T1",
                    retro_id=rid,
                    author_hash="ab" * 32,
                    smoothness=6,
                    answers=["Mostly, step 4 is unclear"],
                ),
            ]
        )
        texts = [
            ("went_well", "Canary deploy caught the bug", 1),
            ("went_wrong", "Rollback took 40 minutes", 2),
            ("went_wrong", "Alerts were *noisy* [again]", 3),
            ("to_improve", "Automate the rollback", 4),
        ]
        items = []
        for category, text, number in texts:
            item = Item(
                team_id="T1",
                retro_id=rid,
                category=category,
                text=text,
                source="survey",
                created_at=start,
                number=number,
            )
            session.add(item)
            items.append(item)
        session.commit()
        items[1].root_cause = "Why slow? Manual steps. Why? No script."
        session.add(items[1])
        session.add(
            Comment(
                team_id="T1",
                retro_id=rid,
                item_id=items[1].id,
                text="We need one click",
                author_id="UBOB",
                created_at=start,
            )
        )
        for voter, item in (
            ("v1", items[1]),
            ("v2", items[1]),
            ("v3", items[3]),
            ("v1", items[3]),
            ("v2", items[2]),
        ):
            session.add(Vote(team_id="T1", retro_id=rid, item_id=item.id, voter_hash=voter, created_at=start))
        session.add(
            ActionItem(
                team_id="T1",
                retro_id=rid,
                text="Script the rollback",
                owner_id="UBOB",
                owner_name="bob",
                due_date=date(2026, 12, 4),
                priority="high",
                link="https://wiki.example/rollback",
                source_item_id=items[1].id,
                status="open",
                created_at=start,
            )
        )
        session.commit()
        return retro


def build_missing(engine: Engine) -> Retro:
    with unit_of_work(engine) as session:
        retro = _retro(
            session,
            title="Sprint 12",
            deadline=T0 + timedelta(days=2),
            created_at=T0,
            closed_at=None,
            phase="collecting",
        )
        _people(session, retro, {"alice": False, "bob": False})
        session.commit()
        return retro


def stored(session: Session, retro: Retro) -> Retro:
    """The retro as a fresh session reads it back, the way the report command finds it."""
    found = session.get(Retro, retro.id)
    assert found is not None
    return found


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review the file"
    assert text == path.read_text()


def test_full_retro(engine: Engine) -> None:
    retro = build_full(engine)
    with unit_of_work(engine) as session:
        check("full_retro.md", build_report(session, stored(session, retro)))


def test_retro_with_missing_data(engine: Engine) -> None:
    retro = build_missing(engine)
    with unit_of_work(engine) as session:
        check("missing_data.md", build_report(session, stored(session, retro)))
