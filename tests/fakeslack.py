"""A fake Slack Web API over real HTTP, for tests.

It records every call, validates Block Kit payloads and views with slack_sdk.models, enforces one-use
3-second trigger ids, and injects 429s (with Retry-After), 5xx answers and Slack error codes.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UREARVIEW"
TEAM_ID = "T0TEAM"

Params = dict[str, Any]


@dataclass
class Call:
    method: str
    params: Params


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    user: str | None = None  # for ephemerals: who sees it


@dataclass
class Failure:
    method: str
    when: Callable[[Params], bool]
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class FakeChannel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    bot_is_member: bool = True


@dataclass
class Response:
    url: str
    body: dict[str, Any]


@dataclass
class Upload:
    id: str
    filename: str
    title: str | None = None
    content: bytes = b""
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: list[PostedMessage] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    invalid_payloads: list[str] = field(default_factory=list)
    reactions: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, ts, name)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> published Home tab
    responses: list[Response] = field(default_factory=list)  # posts to response_urls
    failures: list[Failure] = field(default_factory=list)
    _triggers: dict[str, float] = field(default_factory=dict)
    _trigger_views: dict[str, str] = field(default_factory=dict)  # trigger -> the view it came from
    _used_triggers: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    members_page_size: int = 200

    # ------------------------------------------------------------ set-up

    def add_user(
        self, user_id: str, name: str, *, tz: str = "UTC", is_bot: bool = False, deleted: bool = False
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "tz": tz,
            "is_bot": is_bot,
            "deleted": deleted,
        }

    def add_channel(self, channel_id: str, name: str, members: list[str], **kwargs: Any) -> FakeChannel:
        channel = FakeChannel(channel_id, name, members, **kwargs)
        self.channels[channel_id] = channel
        return channel

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[Params], bool] = lambda _params: True,
    ) -> None:
        """The next `times` matching calls of `method` fail as told."""
        with self._cond:
            self.failures.append(Failure(method, when, status, error, retry_after, times))

    def new_trigger(self, *, from_view: str | None = None) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        with self._cond:
            self._triggers[trigger] = time.monotonic()
            if from_view is not None:
                self._trigger_views[trigger] = from_view
        return trigger

    def age_trigger(self, trigger: str, seconds: float) -> None:
        with self._cond:
            self._triggers[trigger] -= seconds

    # ------------------------------------------------------------ server

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, body = fake._handle(self.path, dict(self.headers.items()), raw)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    # ------------------------------------------------------------ waiting and reading

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Block until `predicate()` is truthy (re-checked on every call the fake receives)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
                self._cond.wait(remaining)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def dms_to(self, user_id: str) -> list[PostedMessage]:
        return [m for m in self.messages if m.channel == f"D{user_id}" and m.user is None]

    def in_channel(self, channel_id: str, *, thread_ts: str | None = None) -> list[PostedMessage]:
        return [
            m
            for m in self.messages
            if m.channel == channel_id and m.user is None and m.thread_ts == thread_ts
        ]

    def ephemerals_to(self, user_id: str) -> list[PostedMessage]:
        return [m for m in self.messages if m.user == user_id]

    # ------------------------------------------------------------ dispatch

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        with self._cond:
            try:
                return self._dispatch(path, headers, raw)
            finally:
                self._cond.notify_all()

    def _dispatch(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        if path.startswith("/upload/"):
            upload = self.uploads[path.removeprefix("/upload/")]
            upload.content = raw
            return 200, {}, b"OK"
        if path.startswith(("/actions/", "/commands/")):
            body = json.loads(raw)
            if problem := self._check_blocks(body.get("blocks") or [], 50):
                self._invalid(problem)
                return 400, {}, b"invalid_blocks"
            self.responses.append(Response(path, body))
            return 200, {}, b"ok"
        method = path.removeprefix("/api/")
        params = _params(headers, raw)
        self.calls.append(Call(method, params))
        for failure in self.failures:
            if failure.method == method and failure.times > 0 and failure.when(params):
                failure.times -= 1
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
                return failure.status, extra, {"ok": False, "error": error}
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if method == "apps.connections.open":
            # Socket Mode needs an app-level token; this fake has no WebSocket side, so it refuses them all.
            return (
                200,
                {},
                {
                    "ok": False,
                    "error": "invalid_auth" if auth.startswith("Bearer xapp-") else "not_allowed_token_type",
                },
            )
        if auth != f"Bearer {BOT_TOKEN}":
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(params)

    # ------------------------------------------------------------ validation

    def _invalid(self, reason: str) -> dict[str, Any]:
        self.invalid_payloads.append(reason)
        return {"ok": False, "error": "invalid_blocks", "detail": reason}

    def _check_blocks(self, blocks: Any, limit: int) -> str | None:
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if len(blocks) > limit:
            return f"{len(blocks)} blocks, more than {limit}"
        for raw in blocks:
            try:
                block = Block.parse(raw)
                if block is None:
                    return f"unknown block {raw!r}"
                block.validate_json()
            except SlackObjectFormationError as exc:
                return f"{exc}: {json.dumps(raw)[:300]}"
        return None

    def _check_view(self, view: Any) -> str | None:
        if isinstance(view, str):
            view = json.loads(view)
        view = {
            k: v
            for k, v in view.items()
            if k not in ("id", "team_id", "hash", "state", "root_view_id", "previous_view_id")
        }
        try:
            View(**view).validate_json()
        except (SlackObjectFormationError, TypeError) as exc:
            return str(exc)
        if len(view.get("private_metadata") or "") > 3000:
            return "private_metadata over 3000 characters"
        return self._check_blocks(view.get("blocks", []), 100)

    def _use_trigger(self, trigger: str) -> str | None:
        issued = self._triggers.get(trigger)
        if issued is None:
            return "invalid_trigger_id"
        if trigger in self._used_triggers:
            return "exchanged_trigger_id"
        if time.monotonic() - issued > 3.0:
            return "expired_trigger_id"
        self._used_triggers.add(trigger)
        return None

    def _conversation(self, channel: str) -> tuple[str | None, str | None]:
        """(Slack's channel id, error) for a channel or a user id (the app's DM)."""
        if channel.startswith("D") and channel[1:] in self.users:
            channel = channel[1:]
        if channel.startswith(("U", "W")):
            user = self.users.get(channel)
            if user is None or user["deleted"] or user["is_bot"]:
                return None, "channel_not_found"
            return f"D{channel}", None
        found = self.channels.get(channel)
        if found is None or (found.is_private and not found.bot_is_member):
            return None, "channel_not_found"
        if not found.bot_is_member:
            return None, "not_in_channel"
        return channel, None

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    # ------------------------------------------------------------ methods

    def _api_auth_test(self, params: Params) -> dict[str, Any]:
        return {
            "ok": True,
            "user_id": BOT_USER_ID,
            "bot_id": "BREARVIEW",
            "team_id": TEAM_ID,
            "user": "rearview",
        }

    def _api_chat_postMessage(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("channel", "")))
        if error or channel is None:
            return {"ok": False, "error": error}
        blocks = _json(params.get("blocks")) or []
        if problem := self._check_blocks(blocks, 50):
            return self._invalid(problem)
        if not params.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        ts = self._ts()
        self.messages.append(
            PostedMessage(channel, ts, str(params.get("text") or ""), blocks, params.get("thread_ts") or None)
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text"), "ts": ts}}

    def _api_chat_postEphemeral(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("channel", "")))
        if error or channel is None:
            return {"ok": False, "error": error}
        user = str(params.get("user"))
        if user not in self.channels[channel].members:
            return {"ok": False, "error": "user_not_in_channel"}
        blocks = _json(params.get("blocks")) or []
        if problem := self._check_blocks(blocks, 50):
            return self._invalid(problem)
        ts = self._ts()
        self.messages.append(
            PostedMessage(
                channel, ts, str(params.get("text") or ""), blocks, params.get("thread_ts") or None, user=user
            )
        )
        return {"ok": True, "message_ts": ts}

    def _api_chat_update(self, params: Params) -> dict[str, Any]:
        blocks = _json(params.get("blocks")) or []
        if problem := self._check_blocks(blocks, 50):
            return self._invalid(problem)
        for message in self.messages:
            if (
                message.channel == params.get("channel")
                and message.ts == params.get("ts")
                and message.user is None
            ):
                message.text = str(params.get("text") or "")
                message.blocks = blocks
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _api_chat_getPermalink(self, params: Params) -> dict[str, Any]:
        ts = str(params.get("message_ts"))
        return {
            "ok": True,
            "permalink": f"https://fake.slack.test/archives/{params.get('channel')}/p{ts.replace('.', '')}",
        }

    def _api_conversations_members(self, params: Params) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return {"ok": False, "error": "channel_not_found"}
        start = int(params.get("cursor") or 0)
        page = channel.members[start : start + self.members_page_size]
        following = start + self.members_page_size
        cursor = str(following) if following < len(channel.members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_users_info(self, params: Params) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                "id": user["id"],
                "team_id": TEAM_ID,
                "name": user["name"],
                "real_name": user["name"].title(),
                "deleted": user["deleted"],
                "is_bot": user["is_bot"],
                "tz": user["tz"],
                "profile": {"display_name": user["name"], "real_name": user["name"].title()},
            },
        }

    def _api_views_open(self, params: Params, *, pushed: bool = False) -> dict[str, Any]:
        trigger = str(params.get("trigger_id"))
        if error := self._use_trigger(trigger):
            return {"ok": False, "error": error}
        view = _json(params.get("view"))
        if problem := self._check_view(view):
            return self._invalid(problem)
        view_id = f"V{next(self._ids):06d}"
        under = self._trigger_views.get(trigger) if pushed else None
        if pushed and under is None:
            return {"ok": False, "error": "push_limit_reached"}
        root = (self.views[under].get("root_view_id") or under) if under else view_id
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "hash": f"h{view_id}",
            "state": {"values": {}},
            "root_view_id": root,
            "previous_view_id": under,
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _api_views_update(self, params: Params) -> dict[str, Any]:
        view_id = str(params.get("view_id"))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        view = _json(params.get("view"))
        if problem := self._check_view(view):
            return self._invalid(problem)
        stored = {**self.views[view_id], **view, "id": view_id, "state": {"values": {}}}
        stored["hash"] = f"h{view_id}.{next(self._ids)}"
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _api_views_push(self, params: Params) -> dict[str, Any]:
        return self._api_views_open(params, pushed=True)

    def _api_views_publish(self, params: Params) -> dict[str, Any]:
        view = _json(params.get("view"))
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if problem := self._check_view(view):
            return self._invalid(problem)
        user = str(params.get("user_id"))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        self.homes[user] = view
        return {"ok": True, "view": {**view, "id": f"VHOME{user}"}}

    def _api_reactions_add(self, params: Params) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("timestamp")), str(params.get("name")))
        if key in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(key)
        return {"ok": True}

    def _api_files_getUploadURLExternal(self, params: Params) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        self.uploads[file_id] = Upload(id=file_id, filename=str(params.get("filename")))
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: Params) -> dict[str, Any]:
        files = _json(params.get("files"))
        channel_id = params.get("channel_id")
        if channel_id:
            _channel, error = self._conversation(str(channel_id))
            if error:
                return {"ok": False, "error": error}
        for entry in files:
            upload = self.uploads.get(entry["id"])
            if upload is None or not upload.content:
                return {"ok": False, "error": "file_not_found"}
            upload.title = entry.get("title")
            upload.channel = channel_id
            upload.initial_comment = params.get("initial_comment")
            upload.thread_ts = params.get("thread_ts")
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}


def _params(headers: dict[str, str], raw: bytes) -> Params:
    content_type = headers.get("Content-Type") or headers.get("content-type") or ""
    if "json" in content_type:
        data: Params = json.loads(raw or b"{}")
        return data
    return dict(parse_qsl(raw.decode()))


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value
