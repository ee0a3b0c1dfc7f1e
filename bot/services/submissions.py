"""Modals submitted more than once: Slack's view id names one submission of one modal.

A person who double-clicks Submit, or whose network retries, sends the same view again, and two threads may
handle the two at once. The service that stores a submission records its view id in the same transaction
(`first_submission`); a second one with that id finds it and changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session

from storage import items as stored


def first_submission(session: Session, *, team_id: str, view_id: str | None, now: datetime) -> bool:
    """Record that `view_id` is stored by this transaction; False if it already was (a re-submit, or a
    concurrent one that committed first: on PostgreSQL this waits for it). No view id: always True.

    The key is a hash and its time is the hour: the row says nothing about who submitted what, or when."""
    if not view_id:
        return True
    return stored.claim_key(
        session,
        team_id=team_id,
        key_hash=_key(view_id),
        created_at=now.replace(minute=0, second=0, microsecond=0),
    )


def submitted_before(session: Session, *, team_id: str, view_id: str | None) -> bool:
    """Whether `view_id` was stored already (by a committed transaction)."""
    return bool(view_id) and stored.any_event_seen(session, team_id=team_id, key_hashes=[_key(view_id or "")])


def _key(view_id: str) -> str:
    return hashlib.sha256(f"view:{view_id}".encode()).hexdigest()
