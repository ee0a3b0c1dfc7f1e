"""The outbox's writer: intents become rows of the `delivery` table in the caller's session, once per key,
written together when batched, and the running dispatcher is told after the commit.

Each intent has a key, unique per workspace: adding the same key twice adds it once, so a step that runs
again after a crash cannot queue a message twice. The intents of one kind are built by bot/outbox.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from bot.clock import Clock
from bot.intents import Kind, Priority, Purpose
from storage import deliveries


@dataclass(frozen=True)
class OutboxWriter:
    """Adds intents to a caller's session; they commit (or roll back) with it."""

    clock: Clock

    def add(
        self,
        session: Session,
        *,
        team_id: str,
        kind: Kind,
        payload: dict[str, Any],
        key: str | None = None,
        lane: str | None = None,
        parent_key: str | None = None,
        priority: int = Priority.NORMAL,
        purpose: Purpose | None = None,
        retro_id: int | None = None,
        report_to: str | None = None,
        delay: timedelta = timedelta(0),
    ) -> str:
        """Queue one intent (once per key) and return its key."""
        key = key or f"once:{uuid.uuid4().hex}"
        values = self._row(
            team_id, key, kind, payload, lane, parent_key, priority, retro_id, report_to, delay
        )
        values["purpose"] = str(purpose) if purpose else None
        _write(session, "add", values)
        return key

    def again(
        self,
        session: Session,
        *,
        team_id: str,
        kind: Kind,
        key: str,
        payload: dict[str, Any],
        lane: str | None = None,
        parent_key: str | None = None,
        priority: int = Priority.LOW,
        retro_id: int | None = None,
        report_to: str | None = None,
        delay: timedelta = timedelta(0),
    ) -> None:
        """Queue a delivery that shows current state (a Home tab, a progress note): asking again while one
        is waiting adds nothing; asking while one is being sent makes it go once more afterwards."""
        values = self._row(
            team_id, key, kind, payload, lane, parent_key, priority, retro_id, report_to, delay
        )
        _write(session, "again", values)

    def _row(
        self,
        team_id: str,
        key: str,
        kind: Kind,
        payload: dict[str, Any],
        lane: str | None,
        parent_key: str | None,
        priority: int,
        retro_id: int | None,
        report_to: str | None,
        delay: timedelta,
    ) -> dict[str, Any]:
        now = self.clock()
        return {
            "team_id": team_id,
            "key": key,
            "kind": str(kind),
            "lane": lane,
            "parent_key": parent_key,
            "priority": int(priority),
            "purpose": None,
            "payload": payload,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now + delay,
            "generation": 0,
            "unsure": False,
            "retro_id": retro_id,
            "report_to": report_to,
            "created_at": now,
        }

    @staticmethod
    @contextmanager
    def batch(session: Session) -> Iterator[None]:
        """Intents added inside are written together when it ends, a statement per run of the same kind
        in the order they were added (a fan-out: two statements, not two per person)."""
        if _BATCH in session.info:
            yield  # already batching: the outer one writes
            return
        session.info[_BATCH] = []
        try:
            yield
            _flush(session, session.info[_BATCH])
        finally:
            session.info.pop(_BATCH, None)


_BATCH = "outbox_batch"


def _write(session: Session, how: str, values: dict[str, Any]) -> None:
    """`add`: once per key; `again`: once more if it is already there (see Outbox.again)."""
    pending = session.info.get(_BATCH)
    if pending is not None:
        pending.append((how, values))
    else:
        _flush(session, [(how, values)])


def _flush(session: Session, rows: list[tuple[str, dict[str, Any]]]) -> None:
    for how, run in groupby(rows, key=lambda row: row[0]):
        by_key: dict[str, dict[str, Any]] = {}
        for _how, values in run:
            # One row per key in a statement (PostgreSQL refuses to update a row twice in one): the first
            # of an `add` wins, as it would one by one; the last of an `again`.
            if how == "again" or values["key"] not in by_key:
                by_key[values["key"]] = values
        deliveries.write(session, how=how, rows=list(by_key.values()))
    if rows:
        _wake_after_commit(session)


# Set by the running dispatcher: told after a commit that queued work, so it need not wait for its poll.
_listeners: list[Any] = []


def on_new_work(callback: Any) -> None:
    _listeners.append(callback)


def forget(callback: Any) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def _wake_after_commit(session: Session) -> None:
    if session.info.get("outbox_wake"):
        return
    session.info["outbox_wake"] = True

    def wake(_session: Session) -> None:
        session.info.pop("outbox_wake", None)
        for callback in list(_listeners):
            callback()

    event.listen(session, "after_commit", wake, once=True)


def now_plus(clock: Clock, seconds: float) -> datetime:
    return clock() + timedelta(seconds=seconds)
