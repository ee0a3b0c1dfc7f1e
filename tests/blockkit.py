"""Shared Block Kit helpers for unit and integration tests: is a payload one Slack would accept
(using slack_sdk.models), and what does a person see in it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View


def assert_valid_message(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= 50
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()


def assert_valid_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100
    assert len(view.get("private_metadata") or "") <= 3000


def all_text(node: Any) -> str:
    if isinstance(node, dict):
        return "\n".join(all_text(v) for v in node.values())
    if isinstance(node, list):
        return "\n".join(all_text(v) for v in node)
    return str(node) if isinstance(node, str) else ""


def mrkdwn_text(node: Any) -> str:
    """Only the text Slack parses as mrkdwn (plain_text is always shown literally), one piece a line."""
    if isinstance(node, dict):
        own = (
            [str(node["text"])] if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str) else []
        )
        parts = own + [mrkdwn_text(v) for v in node.values() if isinstance(v, dict | list)]
    elif isinstance(node, list):
        parts = [mrkdwn_text(v) for v in node]
    else:
        return ""
    return "\n".join(part for part in parts if part)


def blocks_by_id(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The blocks that carry a block_id (the ones listeners read), by that id."""
    return {block["block_id"]: block for block in blocks if "block_id" in block}


def input_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in view["blocks"] if block["type"] == "input"]


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(action_id, value, label) of every button in actions blocks, in order."""
    return [
        (element["action_id"], element.get("value", ""), element["text"]["text"])
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


def options(element: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of a select's or checkbox group's options."""
    return [(option["value"], option["text"]["text"]) for option in element["options"]]
