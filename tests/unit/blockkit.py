"""Checks that a payload is one Slack would accept, using slack_sdk.models."""

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
    """Only the text Slack parses as mrkdwn (plain_text is always shown literally)."""
    if isinstance(node, dict):
        own = (
            [str(node["text"])] if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str) else []
        )
        return "\n".join(own + [mrkdwn_text(v) for v in node.values() if isinstance(v, dict | list)])
    if isinstance(node, list):
        return "\n".join(mrkdwn_text(v) for v in node)
    return ""
