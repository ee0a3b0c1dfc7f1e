"""The outbox: Slack side effects recorded as intents, in the same transaction as the change that causes
them. The dispatcher (bot/dispatcher.py) carries them out; nothing here talks to Slack.

Here: the intents of each kind (a post, a DM or ephemeral, a Home tab, a task...) with their lanes and
priorities. Writing them (once per key, batched) is bot/outbox_writer.py; intents in one lane (a channel,
a person's DM) go out one at a time in the order they were added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.intents import Kind, Priority, Purpose, kickoff_key
from bot.outbox_writer import OutboxWriter
from storage.models import Retro


@dataclass(frozen=True)
class Outbox(OutboxWriter):
    """Adds intents to a caller's session; they commit (or roll back) with it. Each kind's intent is built
    here and written by OutboxWriter.add (once per key) or OutboxWriter.again (once more)."""

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

    def redraw(
        self,
        session: Session,
        *,
        team_id: str,
        sent_key: str,
        key: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]],
    ) -> None:
        """Redraw a DM this outbox sent (intent `sent_key`) with `chat.update`, at the channel and ts recorded
        when it was sent (it waits for that); the latest redraw wins."""
        self.again(
            session,
            team_id=team_id,
            kind=Kind.UPDATE,
            key=key,
            payload={"channel": "", "ts": "", "text": text, "blocks": blocks},
            lane=f"conv:{user}",
            parent_key=sent_key,
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
