"""What a handler answers. The router (bot/listeners/routing.py) turns each into the ack, a views call or
an outbox intent, so handlers return values that a unit test can compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A slash command's answer, in its ack: only the person who typed it sees it."""

    text: str
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class OpenModal:
    """Open (or push onto the open modal) a view with the request's trigger id."""

    view: dict[str, Any]
    push: bool = False
    # Open only if the bot is in this channel (checked after the ack, within the trigger id's 3 s);
    # otherwise the person is told `refusal`.
    bot_in: str | None = None
    refusal: str = ""


@dataclass(frozen=True)
class ShowModal:
    """A submission's answer: replace the submitted modal with this view."""

    view: dict[str, Any]


@dataclass(frozen=True)
class RefreshModal:
    """Redraw the modal the click came from; from a submission, close it and redraw the modal under it
    (by the outbox: no Slack call on the request thread)."""

    view: dict[str, Any]


@dataclass(frozen=True)
class Respond:
    """Answer a click in a message through its response_url (by the outbox)."""

    text: str
    replace: bool = True
    blocks: list[dict[str, Any]] | None = None


Answer = Reply | OpenModal | ShowModal | RefreshModal | Respond | None
