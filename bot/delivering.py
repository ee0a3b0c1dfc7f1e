"""Carrying out one claimed delivery: the Slack call its kind makes, paced per workspace, method and channel
(bot/pacing.py), and what that call gave (a posted message's channel and ts, an upload's file id).

- Doubt: after a 5xx or a lost connection, or when a lease ran out mid-send, Slack may have posted.
  A post is then checked (conversations.history for the marker it carries) before it is sent again;
  an upload cannot be checked and is reported as possibly missing instead of sent twice.
- What stops it is raised: `Defer` (not now), `Cancel` (nothing to do any more), `Doubt` (it may have
  reached Slack and cannot be checked), or the gateway's SlackCallFailed. The dispatcher records the
  outcome (bot/dispatcher.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from bot.gateway import SlackCallFailed, SlackGateway
from bot.intents import Kind
from bot.pacing import Pacer
from storage import people as user_cache
from storage.db import unit_of_work
from storage.models import Delivery

if TYPE_CHECKING:
    from bot.tasks import Effects

_METHOD = {
    Kind.POST: "chat.postMessage",
    Kind.EPHEMERAL: "chat.postEphemeral",
    Kind.TELL: "chat.postEphemeral",
    Kind.UPDATE: "chat.update",
    Kind.HOME: "views.publish",
    Kind.REACT: "reactions.add",
    Kind.UPLOAD: "files.upload",
    Kind.UPDATE_VIEW: "views.update",
}


class Defer(Exception):
    """Not now: try again in `seconds` (pacing, a parent not yet sent). Not an attempt."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deferred by {seconds:.2f}s")
        self.seconds = seconds


class Cancel(Exception):
    """Nothing to do any more (its parent failed, the thing it shows is gone)."""


class Doubt(Exception):
    """It may or may not have reached Slack and cannot be checked: record it, tell someone."""


@dataclass
class Claimed:
    """A delivery a worker claimed, with what it needs from the delivery it waited for."""

    delivery: Delivery
    parent: dict[str, Any] | None = None  # what sending the delivery it waits for gave (channel, ts)
    parent_unsent: bool = False  # it waited for one that failed or was cancelled


class Sender:
    """The Slack calls of the deliveries' kinds, for the dispatcher's workers (each calls `perform`)."""

    def __init__(
        self, *, engine: Engine, gateway: SlackGateway, effects: Effects, pacer: Pacer, pace: bool
    ) -> None:
        self.engine = engine
        self.gateway = gateway
        self.effects = effects
        self.pacer = pacer
        self.pace = pace  # off only where time stands still (unit tests)

    def perform(self, claimed: Claimed) -> dict[str, Any] | None:
        delivery = claimed.delivery
        kind = Kind(delivery.kind)
        if kind == Kind.TASK:
            self.effects.run_task(delivery)
            return None
        payload = dict(delivery.payload)
        if render := payload.get("render"):
            with unit_of_work(self.engine) as session:
                rendered = self.effects.render(str(render), session, delivery)
            if rendered is None:
                raise Cancel("nothing to show")
            payload.update(rendered)
        if claimed.parent_unsent:
            raise Cancel(f"waited for {delivery.parent_key}, which was not sent")
        parent = claimed.parent
        if parent is not None and payload.get("thread_of_parent"):
            payload["thread_ts"] = parent["ts"]
        if parent is not None and kind == Kind.UPDATE:
            payload["channel"], payload["ts"] = parent["channel"], parent["ts"]
        method = _METHOD.get(kind)
        if method is not None and self.pace:
            channel = payload.get("channel") if kind == Kind.POST else None
            if wait := self.pacer.reserve(delivery.team_id, method, channel):
                raise Defer(wait)
        if kind == Kind.POST:
            return self._post(delivery, payload)
        if kind == Kind.TELL:
            return self._tell(delivery, payload)
        if kind == Kind.EPHEMERAL:
            self.gateway.post_ephemeral(
                channel=payload["channel"],
                user=payload["user"],
                text=payload["text"],
                blocks=payload.get("blocks"),
                thread_ts=payload.get("thread_ts"),
            )
        elif kind == Kind.UPDATE:
            self.gateway.update_message(
                channel=payload["channel"], ts=payload["ts"], text=payload["text"], blocks=payload["blocks"]
            )
        elif kind == Kind.HOME:
            self.gateway.publish_home(user_id=payload["user_id"], view=payload["view"])
        elif kind == Kind.RESPOND:
            self.gateway.respond(
                response_url=payload["response_url"],
                text=payload["text"],
                blocks=payload.get("blocks"),
                replace_original=bool(payload.get("replace_original", True)),
            )
        elif kind == Kind.REACT:
            self.gateway.add_reaction(channel=payload["channel"], ts=payload["ts"], name=payload["name"])
        elif kind == Kind.UPDATE_VIEW:
            self.gateway.update_view(view_id=payload["view_id"], view=payload["view"])
        elif kind == Kind.UPLOAD:
            if delivery.unsure:
                raise Doubt("the upload may not have reached Slack")
            content = payload["content"]
            file_id = self.gateway.upload_file(
                channel=self._conversation(delivery.team_id, payload["channel"]),  # a user id: their DM
                filename=payload["filename"],
                content=bytes.fromhex(content) if payload.get("binary") else content,
                title=payload["title"],
                initial_comment=payload["initial_comment"],
            )
            return {"file_id": file_id}
        return None

    def _post(self, delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any]:
        marker = f"{delivery.team_id}:{delivery.id}"
        thread_ts = payload.get("thread_ts")
        if delivery.unsure:
            channel = self._conversation(delivery.team_id, payload["channel"])
            oldest = f"{delivery.created_at.timestamp() - 60:.6f}"
            found = self.gateway.find_marked(
                channel=channel, thread_ts=thread_ts, marker=marker, oldest=oldest
            )
            if found is not None:
                return {"channel": channel, "ts": found}
        posted = self.gateway.post_message(
            channel=payload["channel"],
            text=payload["text"],
            blocks=payload.get("blocks"),
            thread_ts=thread_ts,
            marker=marker,
        )
        # A DM's channel is recorded with the outcome (_finish), in the same transaction.
        self.pacer.same_conversation(delivery.team_id, payload["channel"], posted.channel)
        return {"channel": posted.channel, "ts": posted.ts}

    def _tell(self, delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any] | None:
        if payload.get("channel") and not delivery.unsure:
            try:
                self.gateway.post_ephemeral(
                    channel=payload["channel"], user=payload["user"], text=payload["text"]
                )
                return None
            except SlackCallFailed as exc:
                if exc.transient:
                    raise
        return self._post(delivery, {"channel": payload["user"], "text": payload["text"]})

    def _conversation(self, team_id: str, channel: str) -> str:
        """The DM channel behind a user id, for reading its history."""
        if not channel.startswith(("U", "W")):
            return channel
        with unit_of_work(self.engine) as session:
            known = user_cache.dm_channel(session, team_id=team_id, user_id=channel)
            if known is not None:
                return known
        opened = self.gateway.open_dm(user=channel)
        with unit_of_work(self.engine) as session:
            user_cache.remember_dm(session, team_id=team_id, user_id=channel, dm_channel=opened)
            session.commit()
        return opened
