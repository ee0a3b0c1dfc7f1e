"""Typed values out of Slack's view-submission state."""

from __future__ import annotations

import json
from typing import Any

from messages.common import VALUE_ACTION


def field(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    value: dict[str, Any] = view["state"]["values"].get(block_id, {}).get(VALUE_ACTION, {})
    return value


def text(view: dict[str, Any], block_id: str) -> str | None:
    value = field(view, block_id).get("value")
    return str(value) if value is not None else None


def selected(view: dict[str, Any], block_id: str) -> str | None:
    option = field(view, block_id).get("selected_option")
    return str(option["value"]) if option else None


def users(view: dict[str, Any], block_id: str) -> list[str]:
    return [str(u) for u in field(view, block_id).get("selected_users") or []]


def timestamp(view: dict[str, Any], block_id: str) -> int | None:
    value = field(view, block_id).get("selected_date_time")
    return int(value) if value is not None else None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    raw = view.get("private_metadata") or "{}"
    data: dict[str, Any] = json.loads(raw)
    return data


def team_id(body: dict[str, Any]) -> str:
    """The workspace of an interaction payload (block actions and view submissions)."""
    team = body.get("team") or {}
    return str(team.get("id") or body["user"]["team_id"])


def checked(view: dict[str, Any], block_id: str) -> list[str]:
    return [str(o["value"]) for o in field(view, block_id).get("selected_options") or []]


def date_value(view: dict[str, Any], block_id: str) -> str | None:
    value = field(view, block_id).get("selected_date")
    return str(value) if value else None


def number(view: dict[str, Any], block_id: str) -> str | None:
    value = field(view, block_id).get("value")
    return str(value) if value is not None else None


def user(view: dict[str, Any], block_id: str) -> str | None:
    value = field(view, block_id).get("selected_user")
    return str(value) if value else None


def conversation(view: dict[str, Any], block_id: str) -> str | None:
    value = field(view, block_id).get("selected_conversation")
    return str(value) if value else None
