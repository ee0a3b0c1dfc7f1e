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

from tests.fakeslack import APP_ID, BOT_ID, BOT_USER_ID, MODAL_STACK_LIMIT, TEAM_ID, FakeSlack, PostedMessage
from tests.timeline import Timeline

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
    def __init__(
        self,
        *,
        bot_url: str,
        fake: FakeSlack,
        signing_secret: str = SIGNING_SECRET,
        timeline: Timeline | None = None,
    ) -> None:
        self.bot_url = bot_url
        self.fake = fake
        self.signing_secret = signing_secret
        self.timeline = timeline  # the bot's in-process record, when the bot runs in this process

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
        mark = self.timeline.mark() if self.timeline is not None else 0
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                reply = Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, exc.read().decode())
        # Slack gives up after 3 seconds; an ack that slow is a bug even if the test passes. Waits the bot
        # recorded instead of sleeping count too: in production they would have been slept before the ack.
        waited = time.monotonic() - started
        if self.timeline is not None:
            waited += sum(e.seconds for e in self.timeline.before_ack(mark) if e.kind == "wait")
        assert waited < 3.0, f"the bot took {waited:.1f} s (with its Retry-After waits) to acknowledge"
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
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(f"/commands/{TEAM_ID}"),
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
            "api_app_id": APP_ID,
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
            "response_url": self.fake.new_response_url("/actions"),
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
            "api_app_id": APP_ID,
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
        ts = ts or _new_ts()
        event: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "client_msg_id": f"cm-{ts}",
            "channel": channel,
            "event_ts": ts,
            "channel_type": self.fake.channel_type(channel),
            "team": TEAM_ID,
            **extra,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, event_id=event_id, retry_num=retry_num), ts

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> Reply:
        """Deliver any Events API `event` in Slack's envelope, signed."""
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_numbers):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        )
        return self.post(json.dumps(body), content_type="application/json", extra_headers=headers)

    def thread_broadcast(
        self, user: str, channel: str, text: str, *, thread_ts: str, **extra: Any
    ) -> tuple[Reply, str]:
        """A thread reply sent with "Also send to #channel": subtype thread_broadcast, with the thread's
        parent under `root`."""
        ts = extra.pop("ts", None) or _new_ts()
        parent = next(
            (m for m in self.fake.messages if m.channel == channel and m.ts == thread_ts and m.user is None),
            None,
        )
        root: dict[str, Any] = {
            "type": "message",
            "text": parent.text if parent else "",
            "ts": thread_ts,
            "thread_ts": thread_ts,
            "reply_count": 1,
            "reply_users_count": 1,
            "latest_reply": ts,
            "reply_users": [user],
            "is_locked": False,
            "subscribed": False,
        }
        if parent is not None:
            root.update(_bot_author())
            root["blocks"] = parent.blocks
        else:
            root["user"] = user
        return self.message(
            user, channel, text, thread_ts=thread_ts, ts=ts, subtype="thread_broadcast", root=root, **extra
        )

    def file_share(
        self,
        user: str,
        channel: str,
        text: str = "",
        *,
        files: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> tuple[Reply, str]:
        """A message with a file (the text may be empty): subtype file_share with `files`."""
        number = next(_event_numbers)
        shared = files or [
            {
                "id": f"F{number:08d}",
                "created": int(time.time()),
                "timestamp": int(time.time()),
                "name": "screenshot.png",
                "title": "screenshot.png",
                "mimetype": "image/png",
                "filetype": "png",
                "pretty_type": "PNG",
                "user": user,
                "user_team": TEAM_ID,
                "mode": "hosted",
                "size": 48213,
                "url_private": f"https://files.slack.test/files-pri/{TEAM_ID}-F{number:08d}/screenshot.png",
                "is_public": not channel.startswith("D"),
            }
        ]
        return self.message(
            user,
            channel,
            text,
            thread_ts=thread_ts,
            subtype="file_share",
            files=shared,
            upload=False,
            display_as_bot=False,
            **extra,
        )

    def bot_echo(self, message: PostedMessage, *, event_id: str | None = None) -> Reply:
        """Slack's echo of a message the bot posted (not an ephemeral): a plain `message` event from the
        bot user, with `bot_id`, `app_id` and `bot_profile` (no subtype for an app's own posts)."""
        assert message.user is None, "Slack does not echo ephemeral messages"
        event: dict[str, Any] = {
            "type": "message",
            "text": message.text,
            "blocks": message.blocks,
            "ts": message.ts,
            "channel": message.channel,
            "event_ts": message.ts,
            "channel_type": self.fake.channel_type(message.channel),
            "team": TEAM_ID,
            **_bot_author(),
        }
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
            event["parent_user_id"] = BOT_USER_ID
        return self.event(event, event_id=event_id)

    def message_changed(
        self,
        user: str,
        channel: str,
        ts: str,
        text: str,
        *,
        previous_text: str,
        thread_ts: str | None = None,
        event_id: str | None = None,
    ) -> Reply:
        """`user` edited their message `ts`: subtype message_changed, hidden, no top-level user; the new
        message under `message`, the old one under `previous_message`."""
        event_ts = _new_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "client_msg_id": f"cm-{ts}",
            "edited": {"user": user, "ts": event_ts},
            "team": TEAM_ID,
        }
        previous = _as_it_was(user, previous_text, ts, thread_ts)
        if thread_ts:
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = BOT_USER_ID
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "message": message,
            "previous_message": previous,
            "channel": channel,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": self.fake.channel_type(channel),
        }
        return self.event(event, event_id=event_id)

    def message_deleted(
        self,
        user: str,
        channel: str,
        ts: str,
        *,
        previous_text: str,
        thread_ts: str | None = None,
        event_id: str | None = None,
    ) -> Reply:
        """`user` deleted their message `ts`: subtype message_deleted, hidden, with `deleted_ts` and the
        message as it was under `previous_message`."""
        event_ts = _new_ts()
        previous = _as_it_was(user, previous_text, ts, thread_ts)
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": ts,
            "previous_message": previous,
            "channel": channel,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": self.fake.channel_type(channel),
        }
        return self.event(event, event_id=event_id)

    def open_home(self, user: str) -> Reply:
        """Deliver `app_home_opened`, as when someone opens the app's Home tab."""
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
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
            "api_app_id": APP_ID,
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
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.fake.new_trigger(),
            "view": {**view, "state": {"values": state}},
            "response_urls": [],
            "is_enterprise_install": False,
        }
        reply = self._interaction(payload)
        if problem := self._check_response_action(view, reply):
            self.fake.report_invalid(f"view_submission of {view.get('callback_id')}: {problem}")
        elif reply.status == 200:
            answer = reply.json if reply.body.lstrip().startswith("{") else {}
            action = answer.get("response_action") or "close"
            if action != "errors":  # errors keep the modal open as it was, with the messages shown
                self.fake.show_submission_answer(view_id, action, answer.get("view"))
        return reply

    def _check_response_action(self, view: dict[str, Any], reply: Reply) -> str | None:
        """Why Slack would refuse the bot's answer to a view submission (None if it would not)."""
        if reply.status != 200 or not reply.body.lstrip().startswith("{"):
            return None
        answer = reply.json
        action = answer.get("response_action")
        if action is None:
            return None  # an empty JSON object closes the modal like an empty body
        if action == "errors":
            inputs = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
            errors = answer.get("errors")
            if not isinstance(errors, dict) or not errors:
                return f"response_action errors without errors: {answer!r}"
            unknown = sorted(str(k) for k in errors if k not in inputs)
            return f"errors name no input block of the view: {unknown}" if unknown else None
        if action in ("update", "push"):
            new_view = answer.get("view")
            if not isinstance(new_view, dict):
                return f"response_action {action} without a view"
            if new_view.get("type") != "modal":
                return f"response_action {action} with a {new_view.get('type')!r} view"
            if problem := self.fake.check_view(new_view):
                return f"response_action {action}: {problem}"
            if action == "push" and len(self.fake.stack_of(view["id"])) >= MODAL_STACK_LIMIT:
                return "response_action push onto a stack of 3 views (push_limit_reached)"
            return None
        if action == "clear":
            return None
        return f"unknown response_action {action!r}"


def _as_it_was(user: str, text: str, ts: str, thread_ts: str | None) -> dict[str, Any]:
    """A person's message as `previous_message` carries it in message_changed and message_deleted."""
    message: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "client_msg_id": f"cm-{ts}",
        "team": TEAM_ID,
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
        message["parent_user_id"] = BOT_USER_ID
    return message


def _new_ts() -> str:
    return f"1800000000.{next(_event_numbers):06d}"


def _bot_author() -> dict[str, Any]:
    """How Slack marks a message the app posted: the bot user, bot_id, app_id and bot_profile."""
    return {
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "bot_profile": {
            "id": BOT_ID,
            "app_id": APP_ID,
            "name": "Rearview",
            "deleted": False,
            "team_id": TEAM_ID,
            "updated": 1700000000,
            "icons": {"image_36": "https://a.slack-edge.test/rearview_36.png"},
        },
    }


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
    if kind == "timepicker":
        return {"type": kind, "selected_time": element.get("initial_time") if given is _UNSET else given}
    if kind == "datetimepicker":
        return {
            "type": kind,
            "selected_date_time": element.get("initial_date_time") if given is _UNSET else given,
        }
    raise AssertionError(f"the simulator cannot fill a {kind}")
