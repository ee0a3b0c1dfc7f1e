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


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Texts as teams write them: a part of the product, what went wrong with what, for whom and when, now and
# then with a ticket: "Billing worker silently corrupted carts for enterprise during the cutover (OPS-4821)". Each
# part comes from its own list, so problems are mostly distinct (seven to nine key words, billions of
# combinations), as a large organisation's are; some are chronic and come back in every retro, reworded
# (`_CHRONIC`), which is what recurring-problem matching is for. Drawn from the seed: every run sees the same.
_DOMAINS = _words(
    "checkout payments search login billing invoice notification email signup onboarding pricing cart coupon "
    "shipping inventory warehouse tax refund subscription catalog recommendation analytics reporting audit "
    "permission session profile avatar upload thumbnail pdf export import webhook partner affiliate loyalty "
    "review rating chat support ticketing calendar booking scheduling routing geocoding map translation "
    "currency fraud identity kyc ledger payout settlement dispute chargeback marketing campaign newsletter "
    "survey feedback experiment feature metrics logging tracing alerting backup archive retention gdpr consent "
    "cookie banner landing homepage footer sitemap seo crawler indexer feed timeline comment reaction "
    "bookmark playlist video transcoder streaming player subtitle download offline sync"
)
_KINDS = _words(
    "service api worker job cron queue consumer producer cache database replica schema migration dashboard page "
    "widget form modal sdk client gateway proxy cluster pipeline build script config template importer"
)
_VERBS = _words(
    "dropped duplicated corrupted delayed rejected mislabelled truncated leaked throttled miscounted reordered "
    "stalled overwrote ignored misrouted overcharged expired locked exposed froze "
    "lost skipped garbled resent blocked capped halved inflated orphaned"
)
_OBJECTS = _words(
    "invoices orders refunds emails receipts sessions tokens passwords uploads events messages "
    "payouts coupons carts profiles avatars exports imports webhooks retries alerts "
    "notifications translations prices discounts addresses labels shipments parcels bookings slots reminders "
    "subscriptions renewals trials licenses seats quotas credits balances ledgers statements disputes "
    "reviews ratings comments likes bookmarks playlists videos subtitles thumbnails downloads backups"
)
_FOR = _words(
    "enterprise mobile eu apac trial legacy wholesale students nonprofits resellers admins guests contractors "
    "tablets android ios desktop sandbox premium marketplace franchise government healthcare education retail "
    "logistics media gaming fintech insurance travel hospitality automotive energy telecom agencies startups "
    "internal"
)
_WHEN = _words(
    "cutover weekend holidays launch demo audit migration freeze rollout outage failover upgrade handover "
    "hackathon offsite quarter peak benchmark pentest nightshift incident canary beta rehearsal "
    "backfill reindex rebrand"
)
_HOW = _words(
    "silently repeatedly randomly partially intermittently quietly suddenly permanently wrongly twice "
    "occasionally constantly briefly nightly weekly accidentally unexpectedly gradually sporadically again"
)
_PREPOSITIONS = ("during the", "after the", "before the", "in the")
_CHRONIC = (
    "Flaky end to end tests on the checkout service",
    "Deploys to staging keep failing on expired certificates",
    "Code reviews wait days before anyone picks them up",
    "On call pages for the noisy disk alerts",
    "Sprint scope grows after planning",
    "Nobody owns the nightly reports job",
    "Release notes written at the last minute",
    "Database migrations lock the orders table",
    "Onboarding docs are out of date",
    "Standups run over thirty minutes",
    "Mobile builds break on Xcode updates",
    "Hotfixes skip the review checklist",
)
_CHRONIC_TAILS = ("again", "this sprint too", "twice this time", "still", "and it hurt the release", "")
_WELL = (
    "Pairing on the {part} went smoothly",
    "Great teamwork on the {part}",
    "The {part} shipped on time",
    "Fast feedback from QA on the {part}",
    "Good call to cut scope on the {part}",
)
_CHRONIC_SHARE = 0.02  # problems that are a chronic one, reworded


def database(root: Path, name: str = "bench.db") -> tuple[str, Engine]:
    url = f"sqlite:///{root / name}"
    upgrade(url)
    return url, make_engine(url)


def _text(rng: random.Random, category: str) -> str:
    part = f"{rng.choice(_DOMAINS)} {rng.choice(_KINDS)}"
    if category == "went_well":
        return rng.choice(_WELL).format(part=part)
    if rng.random() < _CHRONIC_SHARE:
        return f"{rng.choice(_CHRONIC)} {rng.choice(_CHRONIC_TAILS)}".strip()
    text = (
        f"{part.capitalize()} {rng.choice(_HOW)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} for {rng.choice(_FOR)}"
        f" {rng.choice(_PREPOSITIONS)} {rng.choice(_WHEN)}"
    )
    if rng.random() < 0.3:
        text += f" ({rng.choice(('OPS', 'INC', 'BUG'))}-{rng.randint(100, 9999)})"
    return text


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
                "text": _text(rng, categories[n % 3]),
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
