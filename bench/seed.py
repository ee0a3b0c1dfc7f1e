"""Seed a migrated SQLite file database fast: bulk inserts of the storage models' rows, no services."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from storage.db import make_engine, upgrade
from storage.ids import random_ids
from storage.models import ActionItem, Item, Participant, Response, Retro
from tests.fakeslack import TEAM_ID

TEAM = TEAM_ID  # the workspace the fake Slack signs requests for
CHANNEL = "C1"
FACILITATOR = "U0000"
NOW = datetime(2026, 11, 23, 9, 17, 43, tzinfo=UTC)

# A small vocabulary, so that texts of different retros share words (what recurring-problem matching finds).
_WORDS = [
    "deploy",
    "pipeline",
    "flaky",
    "tests",
    "review",
    "slow",
    "staging",
    "database",
    "migration",
    "rollback",
    "alert",
    "pager",
    "noisy",
    "release",
    "notes",
    "hotfix",
    "cache",
    "timeout",
    "retry",
    "queue",
    "backlog",
    "scope",
    "sprint",
    "estimate",
    "handover",
    "onboarding",
    "docs",
    "api",
    "schema",
    "latency",
    "memory",
    "leak",
    "build",
    "broke",
    "merge",
    "conflict",
    "ownership",
    "unclear",
    "meeting",
    "planning",
    "customer",
    "bug",
    "regression",
    "monitoring",
    "dashboard",
    "config",
    "secrets",
    "rotation",
    "vendor",
    "outage",
    "incident",
    "postmortem",
    "feature",
    "flag",
    "cleanup",
    "refactor",
    "dependency",
    "upgrade",
    "security",
    "audit",
    "access",
    "permissions",
]


def database(root: Path, name: str = "bench.db") -> tuple[str, Engine]:
    url = f"sqlite:///{root / name}"
    upgrade(url)
    return url, make_engine(url)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 9))).capitalize()


def retro(
    engine: Engine,
    *,
    items: int,
    people: int = 12,
    closed: bool = False,
    days_ago: int = 0,
    seed: int = 1,
) -> int:
    """A retro in C1 with `people` participants (each answered) and `items` items in its three
    categories; closed ones are in the past. Returns its id."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
    created = NOW - timedelta(days=days_ago)
    members = [f"U{n:04d}" for n in range(people)]
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(Retro.__table__).values(  # type: ignore[attr-defined]
                team_id=TEAM,
                channel_id=CHANNEL,
                facilitator_id=FACILITATOR,
                facilitator_name="facilitator",
                title=f"Sprint {seed}",
                format="well_wrong_improve",
                phase="completed" if closed else "collecting",
                deadline=created + timedelta(days=2),
                created_at=created,
                closed_at=created + timedelta(days=2) if closed else None,
                anonymity="optional",
                custom_questions=[],
                manual_reminders=0,
                round_robin_scope="everyone",
                turn_hours=24,
                votes_per_person=3,
                followup_weeks=0,
            )
        ).inserted_primary_key
        assert inserted is not None
        retro_id = int(inserted[0])
        conn.execute(
            insert(Participant.__table__),  # type: ignore[attr-defined]
            [{"team_id": TEAM, "retro_id": retro_id, "user_id": m} for m in members],
        )
        conn.execute(
            insert(Response.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": i,
                    "team_id": TEAM,
                    "retro_id": retro_id,
                    "author_id": m,
                    "answers": [],
                    "smoothness": rng.randint(1, 10),
                }
                for i, m in zip(random_ids(people), members, strict=True)
            ],
        )
        categories = ("went_well", "went_wrong", "to_improve")
        rows: list[dict[str, Any]] = [
            {
                "id": i,
                "team_id": TEAM,
                "retro_id": retro_id,
                "category": categories[n % 3],
                "text": _text(rng),
                "author_id": members[n % people],
                "source": "survey",
                "created_at": created,
                "number": n + 1 if closed else None,
            }
            for n, i in enumerate(random_ids(items))
        ]
        if rows:
            conn.execute(insert(Item.__table__), rows)  # type: ignore[attr-defined]
    return int(retro_id)


def action_items(engine: Engine, *, retro_id: int, owner: str, count: int) -> None:
    """`count` open action items owned by `owner`, due over the coming weeks."""
    today = NOW.date()
    with engine.begin() as conn:
        conn.execute(
            insert(ActionItem.__table__),  # type: ignore[attr-defined]
            [
                {
                    "team_id": TEAM,
                    "retro_id": retro_id,
                    "text": f"Follow up on thing {n}",
                    "owner_id": owner,
                    "owner_name": "owner",
                    "due_date": today + timedelta(days=n % 40) if n % 3 else None,
                    "priority": "medium",
                    "created_by": FACILITATOR,
                    "status": "open",
                    "created_at": NOW,
                }
                for n in range(count)
            ],
        )


__all__ = ["CHANNEL", "NOW", "TEAM", "action_items", "database", "date", "retro"]
