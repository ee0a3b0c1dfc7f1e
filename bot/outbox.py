"""The outbox: Slack side effects recorded as intents, in the same transaction as the change that causes
them. The dispatcher (bot/dispatcher.py) carries them out; nothing here talks to Slack.

Each intent has a key, unique per workspace: adding the same key twice adds it once, so a step that runs
again after a crash cannot queue a message twice. Intents in one lane (a channel, a person's DM) go out
one at a time in the order they were added.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from itertools import groupby
from typing import Any

from sqlalchemy import case, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.clock import Clock
from storage.models import Delivery, Retro


class Kind(StrEnum):
    POST = "post"  # chat.postMessage
    EPHEMERAL = "ephemeral"  # chat.postEphemeral
    TELL = "tell"  # ephemeral in a channel, else a DM
    UPDATE = "update"  # chat.update
    HOME = "home"  # views.publish, drawn when it is sent
    RESPOND = "respond"  # a response_url
    REACT = "react"  # reactions.add
    UPLOAD = "upload"  # files.upload
    UPDATE_VIEW = "update_view"  # views.update
    TASK = "task"  # a step of work run by a worker (bot/tasks.py), not a Slack call


class Priority(IntEnum):
    URGENT = 1  # what a person is waiting for: answers, their turn, their invitation
    NORMAL = 5
    LOW = 8  # Home tabs, progress notes


class Purpose(StrEnum):
    """What the dispatcher records once such a delivery is sent or has failed (bot/dispatcher.py)."""

    KICKOFF = "kickoff"
    INVITE = "invite"
    SUMMARY = "summary"
    REPORT = "report"
    NUDGE = "nudge"
    NOTICE = "notice"
    STARTED = "started"


def kickoff_key(retro_id: int) -> str:
    return f"kickoff:{retro_id}"


def started_key(retro_id: int) -> str:
    return f"started:{retro_id}"


@dataclass(frozen=True)
class Outbox:
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

    # ------------------------------------------------------------ the usual messages

    def post(
        self,
        session: Session,
        *,
        team_id: str,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        key: str | None = None,
        thread_ts: str | None = None,
        parent_key: str | None = None,
        reply_to_parent: bool = True,
        priority: int = Priority.NORMAL,
        purpose: Purpose | None = None,
        retro_id: int | None = None,
        report_to: str | None = None,
        extra: dict[str, Any] | None = None,
        what: str | None = None,
    ) -> str:
        """A message; with `parent_key` it waits until that delivery is sent and, if `reply_to_parent`, goes
        in its thread (elsewhere, e.g. a DM, it only waits)."""
        payload: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks, "thread_ts": thread_ts}
        if what:
            payload["what"] = what
        if parent_key is not None and reply_to_parent:
            payload["thread_of_parent"] = True
        payload.update(extra or {})
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.POST,
            payload=payload,
            key=key,
            lane=f"conv:{channel}",
            parent_key=parent_key,
            priority=priority,
            purpose=purpose,
            retro_id=retro_id,
            report_to=report_to,
        )

    def in_thread(
        self,
        session: Session,
        retro: Retro,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        key: str | None = None,
        priority: int = Priority.NORMAL,
    ) -> str:
        """A post in the retro's kickoff thread, after the kickoff itself; a failure is told to the facilitator."""
        return self.post(
            session,
            team_id=retro.team_id,
            channel=retro.channel_id,
            text=text,
            blocks=blocks,
            key=key,
            thread_ts=retro.kickoff_ts,
            parent_key=None if retro.kickoff_ts else kickoff_key(retro.id),
            priority=priority,
            retro_id=retro.id,
            report_to=retro.facilitator_id,
        )

    def tell(
        self,
        session: Session,
        *,
        team_id: str,
        user: str,
        channel: str | None,
        text: str,
        key: str | None = None,
        retro_id: int | None = None,
    ) -> str:
        """Ephemeral in the channel when possible, otherwise a DM."""
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.TELL,
            payload={"user": user, "channel": channel, "text": text},
            key=key,
            lane=f"conv:{user}",
            priority=Priority.URGENT,
            retro_id=retro_id,
        )

    def ephemeral(
        self,
        session: Session,
        *,
        team_id: str,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.EPHEMERAL,
            payload={
                "channel": channel,
                "user": user,
                "text": text,
                "blocks": blocks,
                "thread_ts": thread_ts,
            },
            priority=Priority.URGENT,
        )

    def respond(
        self,
        session: Session,
        *,
        team_id: str,
        response_url: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        replace_original: bool = True,
    ) -> str:
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.RESPOND,
            payload={
                "response_url": response_url,
                "text": text,
                "blocks": blocks,
                "replace_original": replace_original,
            },
            # Answers to one message's buttons go in order: the last one is what it shows.
            lane=f"url:{response_url[-60:]}",
            priority=Priority.URGENT,
        )

    def update(
        self,
        session: Session,
        *,
        team_id: str,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict[str, Any]],
        key: str,
    ) -> None:
        self.again(
            session,
            team_id=team_id,
            kind=Kind.UPDATE,
            key=key,
            payload={"channel": channel, "ts": ts, "text": text, "blocks": blocks},
            lane=f"conv:{channel}",
            priority=Priority.NORMAL,
        )

    def update_view(self, session: Session, *, team_id: str, view_id: str, view: dict[str, Any]) -> str:
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.UPDATE_VIEW,
            payload={"view_id": view_id, "view": view},
            lane=f"view:{view_id}",
            priority=Priority.URGENT,
        )

    def react(self, session: Session, *, team_id: str, channel: str, ts: str, name: str) -> str:
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.REACT,
            payload={"channel": channel, "ts": ts, "name": name},
            key=f"react:{channel}:{ts}:{name}",
            priority=Priority.URGENT,
        )

    def home(self, session: Session, *, team_id: str, user_id: str) -> None:
        """Redraw a person's Home tab from what is stored when it is sent."""
        self.again(
            session,
            team_id=team_id,
            kind=Kind.HOME,
            key=f"home:{user_id}",
            payload={"user_id": user_id, "render": "home"},
            lane=f"home:{user_id}",
        )

    def upload(
        self,
        session: Session,
        *,
        team_id: str,
        channel: str,
        filename: str,
        content: str,
        title: str,
        initial_comment: str,
        key: str | None = None,
        purpose: Purpose | None = None,
        retro_id: int | None = None,
        report_to: str | None = None,
        binary: bool = False,
        what: str | None = None,
    ) -> str:
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.UPLOAD,
            payload={
                "channel": channel,
                "filename": filename,
                "content": content,
                "binary": binary,
                "title": title,
                "initial_comment": initial_comment,
                "what": what,
            },
            key=key,
            lane=f"conv:{channel}",
            purpose=purpose,
            retro_id=retro_id,
            report_to=report_to,
        )

    def task(
        self,
        session: Session,
        *,
        team_id: str,
        name: str,
        args: dict[str, Any],
        key: str,
        lane: str | None = None,
        retro_id: int | None = None,
    ) -> str:
        """A step of work for a worker (bot/tasks.py): what a job or a listener hands over."""
        return self.add(
            session,
            team_id=team_id,
            kind=Kind.TASK,
            payload={"name": name, "args": args},
            key=key,
            lane=lane,
            priority=Priority.URGENT,
            retro_id=retro_id,
        )


def describe(delivery: Delivery) -> str:
    """What a delivery was, for the person told that it failed."""
    payload = delivery.payload
    if payload.get("what"):
        return str(payload["what"])
    target = str(payload.get("channel") or payload.get("user") or payload.get("user_id") or "")
    where = f"<@{target}>" if target.startswith(("U", "W")) else f"<#{target}>" if target else "Slack"
    if (delivery.kind == Kind.POST and payload.get("thread_of_parent")) or payload.get("thread_ts"):
        return "a message in the retro's thread"
    return {"post": f"a message to {where}", "home": f"the Home tab of {where}"}.get(
        delivery.kind, f"a {delivery.kind} for {where}"
    )


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
        session.execute(_statement(session, how), list(by_key.values()))
    if rows:
        _wake_after_commit(session)


def _statement(session: Session, how: str) -> Any:
    table = Delivery.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if how == "add":
        return insert.on_conflict_do_nothing()
    state = table.c.state
    return insert.on_conflict_do_update(
        index_elements=["team_id", "key"],
        set_={
            "generation": table.c.generation + 1,
            "payload": insert.excluded.payload,
            "state": case((state == "sending", "sending"), else_="pending"),
            "attempts": case((state == "pending", table.c.attempts), else_=0),
            "next_attempt_at": case(
                (state == "pending", table.c.next_attempt_at), else_=insert.excluded.next_attempt_at
            ),
            "last_error": None,
        },
    )


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
