"""Typed requests: every Slack payload a handler sees is parsed here, once, into a small dataclass.

Handlers never read Bolt's raw dicts, so a unit test builds a `Click(...)` or a `Submission(...)` directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bot.parsing import unescape_slack
from messages.common import VALUE_ACTION


def _words(value: Any) -> str:
    """What a person typed, as text. NUL never comes from a keyboard, and PostgreSQL refuses it in text."""
    return str(value or "").replace("\x00", "")


_SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")


def _slack_id(value: Any) -> str | None:
    """A user or conversation id from a menu; None for anything Slack never sends (a forged payload: ids
    longer than the columns that keep them, markup, NUL)."""
    text = str(value or "")
    return text if _SLACK_ID.fullmatch(text) else None


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace of an interaction payload (block actions and view submissions)."""
    team = body.get("team") or {}
    return str(team.get("id") or body["user"]["team_id"])


@dataclass(frozen=True)
class Command:
    """`/retro <subcommand> <args>`."""

    team_id: str
    channel_id: str
    user_id: str
    subcommand: str
    args: str = ""
    trigger_id: str = ""
    response_url: str | None = None
    channel_name: str = ""
    raw_args: str | None = None  # as Slack sent them: its mentions are markup, typed "<" is "&lt;"

    @property
    def marked_args(self) -> str:
        """The arguments as Slack sent them, to read mentions from: a typed `<@U…>` is not one."""
        return self.raw_args if self.raw_args is not None else self.args

    @property
    def in_dm(self) -> bool:
        return self.channel_id.startswith("D")

    @property
    def in_group_dm(self) -> bool:
        """A group DM: Slack names it `mpdm-…` in the command. Its id may start with G or C, and so do
        private channels' (the older ones start with G), so the name is what tells."""
        return self.channel_name.startswith("mpdm-")

    @classmethod
    def parse(cls, command: Mapping[str, Any]) -> Command:
        # Slack escapes &, < and > in the command's text (its mentions and channel links are its own
        # markup): unescaped once here, so what is stored is what the person typed.
        subcommand, _, raw = _words(command.get("text")).strip().partition(" ")
        subcommand, rest = unescape_slack(subcommand), unescape_slack(raw)
        return cls(
            team_id=str(command["team_id"]),
            channel_id=str(command["channel_id"]),
            user_id=str(command["user_id"]),
            subcommand=subcommand.lower(),
            args=rest.strip(),
            trigger_id=str(command.get("trigger_id") or ""),
            response_url=command.get("response_url") or None,
            channel_name=str(command.get("channel_name") or ""),
            raw_args=raw.strip(),
        )


@dataclass(frozen=True)
class Click:
    """A button press or a menu choice, in a message, a modal or the Home tab."""

    team_id: str
    user_id: str
    action_id: str
    value: str  # the button's value, or the chosen option's
    trigger_id: str = ""
    response_url: str | None = None  # only for clicks in messages
    channel_id: str | None = None  # the message's conversation
    message_ts: str | None = None
    view_id: str | None = None  # the modal or Home tab clicked in
    message_block_ids: tuple[str, ...] = ()

    def int_value(self) -> int:
        return int(self.value)

    def parts(self, separator: str = ":") -> tuple[str, str]:
        head, _, tail = self.value.partition(separator)
        return head, tail

    @classmethod
    def parse(cls, body: Mapping[str, Any], action: Mapping[str, Any]) -> Click:
        option = action.get("selected_option") or {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(
            team_id=team_of(body),
            user_id=str(body["user"]["id"]),
            action_id=str(action.get("action_id") or ""),
            value=str(action.get("value") or option.get("value") or ""),
            trigger_id=str(body.get("trigger_id") or ""),
            response_url=body.get("response_url") or None,
            channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            message_ts=container.get("message_ts") or message.get("ts"),
            view_id=(body.get("view") or {}).get("id"),
            message_block_ids=tuple(str(b.get("block_id")) for b in message.get("blocks") or ()),
        )


@dataclass(frozen=True)
class ViewState:
    """What a modal's inputs hold at submission, by block id. Every value passes `_words`: a forged menu
    choice can carry NUL too."""

    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def _field(self, block_id: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.values.get(block_id, {}).get(VALUE_ACTION, {})
        return value

    def text(self, block_id: str) -> str | None:
        value = self._field(block_id).get("value")
        return _words(value) if value is not None else None

    def selected(self, block_id: str) -> str | None:
        option = self._field(block_id).get("selected_option")
        return _words(option["value"]) if option else None

    def users(self, block_id: str) -> list[str]:
        return [u for u in map(_slack_id, self._field(block_id).get("selected_users") or []) if u]

    def user(self, block_id: str) -> str | None:
        return _slack_id(self._field(block_id).get("selected_user"))

    def conversation(self, block_id: str) -> str | None:
        return _slack_id(self._field(block_id).get("selected_conversation"))

    def checked(self, block_id: str) -> list[str]:
        return [_words(o["value"]) for o in self._field(block_id).get("selected_options") or []]

    def moment(self, block_id: str) -> datetime | None:
        """A datetimepicker's choice; None when there is none, or none that is a time (a forged payload)."""
        value = self._field(block_id).get("selected_date_time")
        try:
            return datetime.fromtimestamp(int(value), UTC) if value is not None else None
        except (TypeError, ValueError, OverflowError, OSError):
            return None

    def clock_time(self, block_id: str) -> str | None:
        """A timepicker's "HH:MM"."""
        value = self._field(block_id).get("selected_time")
        return str(value) if value else None

    def day(self, block_id: str) -> date | None:
        """A datepicker's choice; None when there is none, or none that is a date (a forged payload)."""
        value = self._field(block_id).get("selected_date")
        try:
            return date.fromisoformat(str(value)) if value else None
        except ValueError:
            return None

    def whole_number(self, block_id: str, default: int) -> int:
        """A select whose options are whole numbers; anything else (forged, missing) is the default."""
        value = self.selected(block_id)
        return int(value) if value and value.isdigit() else default


@dataclass(frozen=True)
class Submission:
    """A modal submitted."""

    team_id: str
    user_id: str
    callback_id: str
    view_id: str = ""
    root_view_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    state: ViewState = field(default_factory=ViewState)

    def meta_int(self, key: str) -> int:
        return int(self.metadata[key])

    @property
    def stacked(self) -> bool:
        """Pushed on top of another modal, which is still open under it."""
        return bool(self.root_view_id) and self.root_view_id != self.view_id

    @classmethod
    def parse(cls, body: Mapping[str, Any], view: Mapping[str, Any]) -> Submission:
        raw = view.get("private_metadata") or "{}"
        try:
            metadata = json.loads(raw)
        except ValueError:
            metadata = {}
        return cls(
            team_id=team_of(body),
            user_id=str(body["user"]["id"]),
            callback_id=str(view.get("callback_id") or ""),
            view_id=str(view.get("id") or ""),
            root_view_id=view.get("root_view_id") or None,
            metadata=metadata if isinstance(metadata, dict) else {},
            state=ViewState((view.get("state") or {}).get("values") or {}),
        )


@dataclass(frozen=True)
class HomeOpened:
    team_id: str
    user_id: str
    tab: str = "home"

    @classmethod
    def parse(cls, body: Mapping[str, Any], event: Mapping[str, Any]) -> HomeOpened:
        return cls(
            team_id=str(body.get("team_id")), user_id=str(event["user"]), tab=str(event.get("tab", "home"))
        )


# Edits, deletions, joins and bots' posts (our own included) are not items; a thread reply also sent to
# the channel and a message with a file are, by their text.
_ITEM_SUBTYPES = (None, "thread_broadcast", "file_share")


@dataclass(frozen=True)
class Posted:
    """A person's message in a channel the bot is in, or in a DM to the bot."""

    team_id: str
    channel_id: str
    user_id: str
    ts: str
    text: str
    thread_ts: str | None = None
    in_dm: bool = False
    event_id: str | None = None

    @property
    def is_reply(self) -> bool:
        return bool(self.thread_ts) and self.thread_ts != self.ts

    @classmethod
    def parse(cls, body: Mapping[str, Any], event: Mapping[str, Any]) -> Posted | None:
        """None for what is not somebody's own words: edits, deletions, joins, bots."""
        if event.get("subtype") not in _ITEM_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return None
        return cls(
            team_id=str(body.get("team_id") or event.get("team")),
            channel_id=str(event["channel"]),
            user_id=str(event["user"]),
            ts=str(event["ts"]),
            text=_words(event.get("text")),
            thread_ts=event.get("thread_ts") or None,
            in_dm=event.get("channel_type") == "im",
            event_id=body.get("event_id") or None,
        )
