"""manifest.yml creates the app in one paste: valid against Slack's schema, scopes the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Slack's official manifest schema (slackapi/manifest-schema, MIT licence beside it), vendored so that a
# fresh clone needs nothing outside the repository.
SCHEMA = ROOT / "tests" / "slack_manifest_schema" / "manifest.schema.2.0.0.json"

# The scope each Web API method needs from a bot token (None: no scope).
METHOD_SCOPES: dict[str, str | None] = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "chat.update": "chat:write",
    "views.publish": None,
    "conversations.members": "channels:read groups:read",
    "conversations.info": "channels:read groups:read",  # is the bot in the channel of /retro new
    "users.info": "users:read",
    "views.open": None,
    "files.upload": "files:write",
    "reactions.add": "reactions:write",
    "views.update": None,
    "views.push": None,
    # Before posting again after an ambiguous failure, the dispatcher looks for its marked message.
    "conversations.history": "channels:history groups:history im:history",
    "conversations.replies": "channels:history groups:history im:history",
    "conversations.open": "im:write",  # the DM channel to look in
    "users.list": "users:read",  # the people cache, a page at a time for big channels
}
# The scope each subscribed event needs (None: no scope); the listeners handle `message` from three places.
EVENT_SCOPES: dict[str, str | None] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "app_home_opened": None,
}


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return data


def test_manifest_validates_against_slacks_schema() -> None:
    if not SCHEMA.exists():
        pytest.fail(f"Slack's manifest schema is missing at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(_manifest())


def test_manifest_asks_for_exactly_the_scopes_the_code_uses() -> None:
    gateway = (ROOT / "bot" / "gateway.py").read_text()
    used = set(re.findall(r'self\._call\(\s*"([a-zA-Z.]+)"', gateway))
    assert used == set(METHOD_SCOPES), (
        "a Slack method was added or removed: update METHOD_SCOPES and the manifest"
    )
    events = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert events == set(EVENT_SCOPES)
    listeners = (ROOT / "bot" / "listeners" / "routing.py").read_text()
    assert '@app.event("message")' in listeners and '@app.event("app_home_opened")' in listeners
    needed = {"commands"} | {s for m in used for s in (METHOD_SCOPES[m] or "").split()}
    needed |= {scope for e in events if (scope := EVENT_SCOPES[e])}
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_manifest_declares_the_command_interactivity_and_socket_mode() -> None:
    manifest = _manifest()
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/retro"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "bot_user" in manifest["features"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
