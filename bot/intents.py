"""What an outbox intent is: its kind (the Slack call it becomes), its priority, what is recorded once it is
sent or has failed (its purpose), the keys other code waits on, and how a failed one is described."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from storage.models import Delivery


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
