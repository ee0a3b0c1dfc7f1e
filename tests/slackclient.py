"""Plays Slack's side toward the bot: signed requests shaped exactly like Slack's."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.fakeslack import BOT_USER_ID, TEAM_ID, FakeSlack

_event_numbers = itertools.count(1)

SIGNING_SECRET = "test-signing-secret"


@dataclass
class Reply:
    status: int
    body: str

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body) if self.body else {}
        return data

    @property
    def text(self) -> str:
        """What the person sees of an ack: its text and every block's text (a plain body is shown as-is)."""
        if not self.body.lstrip().startswith("{"):
            return self.body
        data = self.json
        parts = [str(data.get("text") or "")]
        for block in data.get("blocks") or []:
            parts.append(str((block.get("text") or {}).get("text") or ""))
        return "\n".join(parts)


class SlackClient:
    def __init__(self, *, bot_url: str, fake: FakeSlack, signing_secret: str = SIGNING_SECRET) -> None:
        self.bot_url = bot_url
        self.fake = fake
        self.signing_secret = signing_secret

    # ------------------------------------------------------------ transport

    def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        base = f"v0:{ts}:{body}".encode()
        sig = signature or "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.bot_url + "/slack/events",
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
                **(extra_headers or {}),
            },
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                reply = Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, exc.read().decode())
        # Slack gives up after 3 seconds; an ack that slow is a bug even if the test passes.
        assert time.monotonic() - started < 3.0, "the bot took longer than 3 s to acknowledge"
        return reply

    def _interaction(self, payload: dict[str, Any]) -> Reply:
        return self.post(
            urlencode({"payload": json.dumps(payload)}), content_type="application/x-www-form-urlencoded"
        )

    # ------------------------------------------------------------ what people do

    def command(self, user: str, channel: str, text: str = "", command: str = "/retro") -> tuple[Reply, str]:
        trigger = self.fake.new_trigger()
        channel_name = self.fake.channels[channel].name if channel in self.fake.channels else "directmessage"
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": self.fake.users.get(user, {}).get("name", user),
            "command": command,
            "text": text,
            "api_app_id": "AREARVIEW",
            "is_enterprise_install": "false",
            "response_url": f"{self.fake.url}/commands/{TEAM_ID}/response",
            "trigger_id": trigger,
        }
        return self.post(urlencode(form), content_type="application/x-www-form-urlencoded"), trigger

    def click(
        self, user: str, *, message: Any, action_id: str, option: str | None = None
    ) -> tuple[Reply, str]:
        """Press the button `action_id` in a message the bot posted (a PostedMessage), or pick `option`
        from the overflow menu `action_id`."""
        button = _find_element(message.blocks, action_id, option=option)
        trigger = self.fake.new_trigger()
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": TEAM_ID},
            "api_app_id": "AREARVIEW",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": trigger,
            "team": {"id": TEAM_ID, "domain": "acme"},
            "channel": {"id": message.channel, "name": "channel"},
            "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
            "response_url": f"{self.fake.url}/actions/response",
            "actions": [_action_payload(button, option)],
        }
        return self._interaction(payload), trigger

    def click_in_view(self, user: str, *, view_id: str, action_id: str, value: str | None = None) -> Reply:
        """Press a button inside an open modal (the first with `action_id`, or the one with `value`)."""
        view = self.fake.views[view_id]
        button = _find_element(view["blocks"], action_id, value)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": TEAM_ID},
            "api_app_id": "AREARVIEW",
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.fake.new_trigger(from_view=view_id),
            "team": {"id": TEAM_ID, "domain": "acme"},
            "view": view,
            "actions": [
                {
                    "type": button["type"],
                    "action_id": button["action_id"],
                    "block_id": button["_block_id"],
                    "text": button.get("text"),
                    "value": button.get("value"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self._interaction(payload)

    def message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        event_id: str | None = None,
        ts: str | None = None,
        retry_num: int | None = None,
        **extra: Any,
    ) -> tuple[Reply, str]:
        """Deliver a `message` event as the Events API does; returns the reply and the message ts."""
        ts = ts or f"1800000000.{next(_event_numbers):06d}"
        event: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "team": TEAM_ID,
            **extra,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "AREARVIEW",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_numbers):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        )
        return self.post(json.dumps(body), content_type="application/json", extra_headers=headers), ts

    def open_home(self, user: str) -> Reply:
        """Deliver `app_home_opened`, as when someone opens the app's Home tab."""
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "AREARVIEW",
            "event": {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"},
            "type": "event_callback",
            "event_id": f"Ev{next(_event_numbers):08d}",
            "event_time": int(time.time()),
        }
        return self.post(json.dumps(body), content_type="application/json")

    def click_in_home(self, user: str, *, action_id: str, value: str) -> Reply:
        """Press a button in the Home tab the bot published for `user`: no response_url there."""
        home = self.fake.homes[user]
        button = _find_element(home["blocks"], action_id, value)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": TEAM_ID},
            "api_app_id": "AREARVIEW",
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": f"VHOME{user}"},
            "trigger_id": self.fake.new_trigger(),
            "team": {"id": TEAM_ID, "domain": "acme"},
            "view": {**home, "id": f"VHOME{user}"},
            "actions": [_action_payload(button, None)],
        }
        return self._interaction(payload)

    def submit(self, user: str, view_id: str, values: dict[str, Any] | None = None) -> Reply:
        """Submit an opened modal as a person would: typed values by block id, the rest as shown."""
        view = self.fake.views[view_id]
        state = _state(view, values or {})
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "acme"},
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": TEAM_ID},
            "api_app_id": "AREARVIEW",
            "token": "legacy-verification-token",
            "trigger_id": self.fake.new_trigger(),
            "view": {**view, "state": {"values": state}},
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return self._interaction(payload)


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, value: str | None = None, *, option: str | None = None
) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if element.get("action_id") != action_id or (value is not None and element.get("value") != value):
                continue
            if option is not None and option not in [o["value"] for o in element.get("options", [])]:
                continue
            return {**element, "_block_id": block.get("block_id", "b")}
    raise AssertionError(f"no element {action_id!r} (option {option!r}) in the message")


def _action_payload(element: dict[str, Any], option: str | None) -> dict[str, Any]:
    payload = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": element["_block_id"],
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "overflow":
        payload["selected_option"] = next(o for o in element["options"] if o["value"] == option)
    else:
        payload.update({"text": element.get("text"), "value": element.get("value")})
    return payload


def _state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    known = set()
    for block in view.get("blocks", []):
        if block["type"] != "input":
            continue
        block_id = block["block_id"]
        known.add(block_id)
        element = block["element"]
        given = values.get(block_id, _UNSET)
        state[block_id] = {element["action_id"]: _element_state(element, given)}
    unknown = set(values) - known
    assert not unknown, f"the modal has no input blocks {unknown}"
    return state


_UNSET = object()


def _element_state(element: dict[str, Any], given: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind == "plain_text_input":
        value = element.get("initial_value") if given is _UNSET else given
        return {"type": kind, "value": value}
    if kind == "multi_users_select":
        return {
            "type": kind,
            "selected_users": element.get("initial_users", []) if given is _UNSET else given,
        }
    if kind == "static_select":
        if given is _UNSET:
            return {"type": kind, "selected_option": element.get("initial_option")}
        if given is None:
            return {"type": kind, "selected_option": None}
        listed = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        options = {o["value"]: o for o in listed}
        assert given in options, f"{given!r} is not one of the menu's options {list(options)}"
        return {"type": kind, "selected_option": options[given]}
    if kind == "conversations_select":
        return {
            "type": kind,
            "selected_conversation": element.get("initial_conversation") if given is _UNSET else given,
        }
    if kind == "users_select":
        return {"type": kind, "selected_user": element.get("initial_user") if given is _UNSET else given}
    if kind == "number_input":
        return {"type": kind, "value": element.get("initial_value") if given is _UNSET else given}
    if kind == "checkboxes":
        if given is _UNSET:
            return {"type": kind, "selected_options": element.get("initial_options") or []}
        options = {o["value"]: o for o in element["options"]}
        return {"type": kind, "selected_options": [options[v] for v in given]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date") if given is _UNSET else given}
    if kind == "datetimepicker":
        return {
            "type": kind,
            "selected_date_time": element.get("initial_date_time") if given is _UNSET else given,
        }
    raise AssertionError(f"the simulator cannot fill a {kind}")
