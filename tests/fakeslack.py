"""A fake Slack Web API over real HTTP, for tests.

It records every call, validates Block Kit payloads and views with slack_sdk.models, enforces one-use
3-second trigger ids, the 3-view modal stack, `views.update` hashes and the response_url limits (5 uses
in 30 minutes), and injects 429s (with Retry-After), 5xx answers and Slack error codes. Optionally it
adds network latency to every Web API call (`latency`) and enforces Slack's per-method rate budgets
(`rate_limited`).

Its time (rate windows, trigger and response_url expiry) comes from `now`, so a test can move it
forward instead of sleeping. One instance can serve a whole test session: `reset()` forgets
everything between tests while the server keeps its port.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UREARVIEW"
BOT_ID = "BREARVIEW"
APP_ID = "AREARVIEW"
TEAM_ID = "T0TEAM"

Params = dict[str, Any]

# Web API calls allowed per minute, per method and workspace, by Slack's tiers
# (https://api.slack.com/apis/rate-limits and each method's page): Tier 2 is 20+, Tier 3 50+,
# Tier 4 100+ a minute. Slack tolerates short bursts above these; the fake does not, so a bot that
# passes here stays inside the documented budgets. Methods not listed are not limited.
TIER_2, TIER_3, TIER_4 = 20, 50, 100
RATE_LIMITS: dict[str, int] = {
    "users.list": TIER_2,
    "conversations.list": TIER_2,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "chat.scheduleMessage": TIER_3,  # Slack also allows only 30 per channel per 5 minutes
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "reactions.add": TIER_3,
    "files.getUploadURLExternal": TIER_3,
    "files.completeUploadExternal": TIER_3,
    "files.upload": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": TIER_4,
    "conversations.members": TIER_4,
    "users.info": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
}
RATE_WINDOW = 60.0  # seconds: the tiers are per minute
# chat.postMessage has no tier: about one message per second per channel (a DM with each person is its
# own channel; thread replies count for their channel), plus a workspace-wide limit the fake leaves out.
POST_MESSAGE_INTERVAL = 1.0

MODAL_STACK_LIMIT = 3  # views.push onto a stack of 3 views answers push_limit_reached
RESPONSE_URL_USES = 5  # a response_url works 5 times...
RESPONSE_URL_LIFETIME = 30 * 60.0  # ...within 30 minutes
TRIGGER_LIFETIME = 3.0


@dataclass
class Call:
    method: str
    params: Params
    at: float = 0.0  # the fake's clock when the call arrived


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    user: str | None = None  # for ephemerals: who sees it
    metadata: dict[str, Any] | None = None


@dataclass
class Failure:
    method: str
    when: Callable[[Params], bool]
    status: int
    error: str | None
    retry_after: int | None
    times: int
    after: bool = False  # do the call, then answer with the failure (Slack's 5xx after posting)


@dataclass
class Crash:
    """On the `nth` matching call, once Slack has done it and before it answers, `then` runs (the test kills
    the bot there: the call took effect, the bot never learns it did)."""

    method: str
    nth: int
    when: Callable[[Params], bool]
    then: Callable[[], None]
    seen: int = 0


@dataclass
class FakeChannel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    bot_is_member: bool = True
    is_mpim: bool = False  # a group DM: its events carry channel_type "mpim"

    @property
    def channel_type(self) -> str:
        """What Slack puts in `channel_type` of this channel's message events."""
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"


@dataclass
class Response:
    url: str
    body: dict[str, Any]


@dataclass
class RejectedResponse:
    """A post to a response_url that Slack refuses: `error` is `used_url` or `expired_url`."""

    url: str
    body: dict[str, Any]
    error: str


@dataclass
class _ResponseUrl:
    issued: float
    uses: int = 0


@dataclass
class Upload:
    id: str
    filename: str
    title: str | None = None
    content: bytes = b""
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None


# The running server and its lock outlive a reset; everything else goes back to its default.
_KEPT_ACROSS_RESETS = frozenset({"_server", "_thread", "_cond"})


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: list[PostedMessage] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed_views: set[str] = field(default_factory=set)  # closed by the bot's answer to their submission
    uploads: dict[str, Upload] = field(default_factory=dict)
    invalid_payloads: list[str] = field(default_factory=list)
    reactions: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, ts, name)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> published Home tab
    responses: list[Response] = field(default_factory=list)  # posts to response_urls
    rejected_responses: list[RejectedResponse] = field(default_factory=list)  # used up or expired urls
    failures: list[Failure] = field(default_factory=list)
    rate_limited_calls: list[Call] = field(default_factory=list)  # every call answered with a 429
    crashes: list[Crash] = field(default_factory=list)
    members_page_size: int = 200
    # Seconds each Web API call takes, slept outside the lock so concurrent calls overlap.
    latency: float = 0.0
    max_in_flight: int = 0  # the most Web API calls that were in their latency at once
    _in_flight: int = 0
    # Enforce RATE_LIMITS and chat.postMessage's 1 per second per channel (429 with Retry-After).
    rate_limited: bool = False
    # The fake's clock (seconds) for rate windows, trigger ids and response_urls.
    now: Callable[[], float] = field(default=time.monotonic)
    # Unix time that message ts follow, as Slack's do (conversations.history `oldest` compares with it);
    # None: every ts starts with 1700000000.
    epoch: Callable[[], float] | None = None
    _triggers: dict[str, float] = field(default_factory=dict)
    _trigger_views: dict[str, str] = field(default_factory=dict)  # trigger -> the view it came from
    _used_triggers: set[str] = field(default_factory=set)
    _response_urls: dict[str, _ResponseUrl] = field(default_factory=dict)  # path -> issue time, uses
    _windows: dict[str, deque[float]] = field(default_factory=dict)  # rate key -> times of calls
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ------------------------------------------------------------ set-up

    def reset(self) -> None:
        """Forget everything (workspace, recorded calls, failures, limits) and restore every field's default;
        the server keeps running on the same port. Driven by the fields, so a field added later resets too."""
        with self._cond:
            for spec in fields(self):
                if spec.name in _KEPT_ACROSS_RESETS:
                    continue
                default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
                setattr(self, spec.name, default)
            self._cond.notify_all()

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

    def channel_type(self, channel_id: str) -> str:
        """`channel_type` of a message event in `channel_id`: channel, group (private), im or mpim."""
        channel = self.channels.get(channel_id)
        if channel is not None:
            return channel.channel_type
        return "im" if channel_id.startswith("D") else "channel"

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[Params], bool] = lambda _params: True,
        after: bool = False,
    ) -> None:
        """The next `times` matching calls of `method` fail as told; `after`: they take effect first."""
        with self._cond:
            self.failures.append(Failure(method, when, status, error, retry_after, times, after))

    def crash_after(
        self,
        method: str,
        then: Callable[[], None],
        *,
        nth: int = 1,
        when: Callable[[Params], bool] = lambda _params: True,
    ) -> None:
        """Run `then` when the `nth` successful matching call of `method` has taken effect, before answering."""
        with self._cond:
            self.crashes.append(Crash(method, nth, when, then))

    def new_trigger(self, *, from_view: str | None = None) -> str:
        with self._cond:
            trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
            self._triggers[trigger] = self.now()
            if from_view is not None:
                self._trigger_views[trigger] = from_view
        return trigger

    def age_trigger(self, trigger: str, seconds: float) -> None:
        with self._cond:
            self._triggers[trigger] -= seconds

    def new_response_url(self, prefix: str) -> str:
        """A fresh response_url under `prefix` (`/actions` or `/commands/<team>`), issued now."""
        with self._cond:
            path = f"{prefix}/{next(self._ids)}"
            self._response_urls[path] = _ResponseUrl(issued=self.now())
        return self.url + path

    def report_invalid(self, reason: str) -> None:
        """Record something the bot sent that Slack would refuse (the test then fails at teardown)."""
        with self._cond:
            self.invalid_payloads.append(reason)
            self._cond.notify_all()

    def check_view(self, view: Any) -> str | None:
        """Why Slack would refuse this view (None when it is valid)."""
        return self._check_view(view)

    def show_submission_answer(self, view_id: str, action: str, new_view: dict[str, Any] | None) -> None:
        """What Slack shows after the bot answered a submission of `view_id` with `response_action`:
        `update` replaces that view, `push` stacks a new one on it, `clear` or a plain ack closes."""
        with self._cond:
            if action == "update" and new_view is not None:
                self._replace_view(view_id, new_view)
            elif action == "push" and new_view is not None:
                pushed = f"V{next(self._ids):06d}"
                under = self.views[view_id]
                self.views[pushed] = {
                    **new_view,
                    "id": pushed,
                    "team_id": TEAM_ID,
                    "hash": f"h{pushed}",
                    "state": {"values": {}},
                    "root_view_id": under.get("root_view_id") or view_id,
                    "previous_view_id": view_id,
                }
            elif action in ("clear", "close"):
                self.closed_views.update(self._stack(view_id) if action == "clear" else [view_id])
            self._cond.notify_all()

    def stack_of(self, view_id: str) -> list[str]:
        """The modal stack `view_id` sits on, root first, ending with `view_id`."""
        with self._cond:
            return self._stack(view_id)

    # ------------------------------------------------------------ server

    def start(self) -> None:
        """Serve on a free port; a second start() while running does nothing."""
        if self._server is not None:
            return
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, body = fake._handle(self.path, dict(self.headers.items()), raw)
                if isinstance(body, bytes):
                    payload, content_type = body, "text/plain; charset=utf-8"
                else:
                    payload, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # A short poll interval: stop() waits for the serve loop to notice, at most this long.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fakeslack", daemon=True
        )
        self._server = server
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: the serve loop ends before the socket is closed."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()  # returns once serve_forever has left its select loop
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

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

    def busiest_window(self, method: str, period: float = RATE_WINDOW) -> int:
        """The most calls of `method` answered without a 429 within any `period` seconds of the fake's clock:
        at most the method's budget when a client keeps to it."""
        with self._cond:
            limited = {id(c) for c in self.rate_limited_calls}
            times = sorted(c.at for c in self.calls if c.method == method and id(c) not in limited)
        busiest, first = 0, 0
        for last, at in enumerate(times):
            while times[first] + period <= at + 1e-9:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest

    # ------------------------------------------------------------ dispatch

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        latency = self.latency
        if latency > 0 and path.startswith("/api/"):
            with self._cond:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            time.sleep(latency)  # the network, outside the lock: concurrent calls overlap
            with self._cond:
                self._in_flight -= 1
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
            return self._respond(path, json.loads(raw))
        method = path.removeprefix("/api/")
        params = _params(headers, raw)
        call = Call(method, params, self.now())
        self.calls.append(call)
        late: Failure | None = None
        for failure in self.failures:
            if failure.method == method and failure.times > 0 and failure.when(params):
                failure.times -= 1
                if failure.after:
                    late = failure
                    break
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
                if failure.status == 429:
                    self.rate_limited_calls.append(call)
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
        budget = self._budget(method, params) if self.rate_limited else None
        if budget is not None:
            key, limit, period = budget
            if (wait := self._retry_after(key, limit, period)) is not None:
                self.rate_limited_calls.append(call)
                return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
        result: dict[str, Any] = handler(params)
        # Tier budgets count every answered call; chat.postMessage's counts messages actually posted.
        if budget is not None and (method != "chat.postMessage" or result.get("ok")):
            self._windows.setdefault(budget[0], deque()).append(self.now())
        for crash in self.crashes:
            if crash.method == method and result.get("ok") and crash.when(params):
                crash.seen += 1
                if crash.seen == crash.nth:
                    crash.then()
        if late is not None:
            return late.status, {}, {"ok": False, "error": late.error or "internal_error"}
        return 200, {}, result

    # ------------------------------------------------------------ rate limits

    def _budget(self, method: str, params: Params) -> tuple[str, int, float] | None:
        """(window key, calls allowed, period in seconds) that a call to `method` spends from."""
        if method == "chat.postMessage":
            channel, _error = self._conversation(str(params.get("channel", "")))
            return (f"{method}:{channel}", 1, POST_MESSAGE_INTERVAL) if channel else None
        limit = RATE_LIMITS.get(method)
        return (method, limit, RATE_WINDOW) if limit is not None else None

    def _retry_after(self, key: str, limit: int, period: float) -> int | None:
        """None when the window has room; else whole seconds (at least 1) until it has."""
        now = self.now()
        window = self._windows.setdefault(key, deque())
        while window and window[0] + period <= now + 1e-9:
            window.popleft()
        if len(window) < limit:
            return None
        return max(1, math.ceil(window[0] + period - now - 1e-9))

    # ------------------------------------------------------------ response_url

    def _respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        now = self.now()
        # A url the fake did not issue (a hand-made payload) starts its life at its first use.
        url = self._response_urls.setdefault(path, _ResponseUrl(issued=now))
        error = None
        if now - url.issued > RESPONSE_URL_LIFETIME:
            error = "expired_url"
        elif url.uses >= RESPONSE_URL_USES:
            error = "used_url"
        if error is not None:
            self.rejected_responses.append(RejectedResponse(path, body, error))
            return 404, {}, error.encode()
        if problem := self._check_blocks(body.get("blocks") or [], 50):
            self._invalid(problem)
            return 400, {}, b"invalid_blocks"
        url.uses += 1
        self.responses.append(Response(path, body))
        return 200, {}, b"ok"

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
        if self.now() - issued > TRIGGER_LIFETIME:
            return "expired_trigger_id"
        self._used_triggers.add(trigger)
        return None

    def _stack(self, view_id: str) -> list[str]:
        stack: list[str] = []
        current: str | None = view_id
        while current is not None and current in self.views and current not in stack:
            stack.insert(0, current)
            current = self.views[current].get("previous_view_id")
        return stack

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

    def _members(self, channel: str) -> list[str]:
        """Members of a resolved conversation: a DM (`D<user>`) has the person and the bot."""
        found = self.channels.get(channel)
        if found is not None:
            return found.members
        return [channel.removeprefix("D"), BOT_USER_ID]

    def _ts(self) -> str:
        seconds = int(self.epoch()) if self.epoch is not None else 1700000000
        return f"{seconds}.{next(self._ids):06d}"

    # ------------------------------------------------------------ methods

    def _api_auth_test(self, params: Params) -> dict[str, Any]:
        return {
            "ok": True,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
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
        thread_ts = params.get("thread_ts") or None
        if thread_ts and not any(m.channel == channel and m.ts == thread_ts for m in self.messages):
            # Slack would hang the reply on a message nobody can see: a bug in the bot, not a user's error.
            return self._invalid(f"thread_ts {thread_ts} is not a message in {channel}")
        ts = self._ts()
        self.messages.append(
            PostedMessage(
                channel,
                ts,
                str(params.get("text") or ""),
                blocks,
                params.get("thread_ts") or None,
                metadata=_json(params.get("metadata")) or None,
            )
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text"), "ts": ts}}

    def _api_chat_postEphemeral(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("channel", "")))
        if error or channel is None:
            return {"ok": False, "error": error}
        user = str(params.get("user"))
        if user not in self._members(channel):
            return {"ok": False, "error": "user_not_in_channel"}
        blocks = _json(params.get("blocks")) or []
        if problem := self._check_blocks(blocks, 50):
            return self._invalid(problem)
        if not params.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        thread_ts = params.get("thread_ts") or None
        if thread_ts and not any(m.channel == channel and m.ts == thread_ts for m in self.messages):
            # Slack would hang the reply on a message nobody can see: a bug in the bot, not a user's error.
            return self._invalid(f"thread_ts {thread_ts} is not a message in {channel}")
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

    def _api_conversations_info(self, params: Params) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return {"ok": False, "error": "channel_not_found"}
        about = {"id": channel.id, "name": channel.name, "is_private": channel.is_private}
        return {
            "ok": True,
            "channel": about | {"is_mpim": channel.is_mpim, "is_member": channel.bot_is_member},
        }

    def _api_conversations_open(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("users", "")))
        if error or channel is None:
            return {"ok": False, "error": error or "user_not_found"}
        return {"ok": True, "channel": {"id": channel}}

    def _history(self, channel: str, oldest: float, *, thread_ts: str | None) -> list[dict[str, Any]]:
        found = []
        for m in self.messages:
            if m.channel != channel or m.user is not None or float(m.ts) < oldest:
                continue
            if thread_ts is not None and m.thread_ts != thread_ts and m.ts != thread_ts:
                continue
            entry: dict[str, Any] = {"ts": m.ts, "text": m.text, "bot_id": BOT_ID}
            if m.metadata:
                entry["metadata"] = m.metadata
            found.append(entry)
        return found

    def _api_conversations_history(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("channel", "")))
        if error or channel is None:
            return {"ok": False, "error": error}
        messages = self._history(channel, float(params.get("oldest") or 0), thread_ts=None)
        return {"ok": True, "messages": list(reversed(messages)), "has_more": False}

    def _api_conversations_replies(self, params: Params) -> dict[str, Any]:
        channel, error = self._conversation(str(params.get("channel", "")))
        if error or channel is None:
            return {"ok": False, "error": error}
        thread = str(params.get("ts"))
        return {
            "ok": True,
            "messages": self._history(channel, float(params.get("oldest") or 0), thread_ts=thread),
        }

    def _api_users_list(self, params: Params) -> dict[str, Any]:
        people = sorted(self.users)
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 200)
        page = [self._user_json(self.users[u]) for u in people[start : start + limit]]
        following = start + limit
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": str(following) if following < len(people) else ""},
        }

    def _user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": user["id"],
            "team_id": TEAM_ID,
            "name": user["name"],
            "real_name": user["name"].title(),
            "deleted": user["deleted"],
            "is_bot": user["is_bot"],
            "tz": user["tz"],
            "profile": {"display_name": user["name"], "real_name": user["name"].title()},
        }

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
        if pushed and (under is None or len(self._stack(under)) >= MODAL_STACK_LIMIT):
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
        if params.get("view_id"):
            view_id = str(params["view_id"])
        elif params.get("external_id"):
            external_id = params["external_id"]
            view_id = next((k for k, v in self.views.items() if v.get("external_id") == external_id), "")
        else:
            return {"ok": False, "error": "invalid_arguments"}
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        view = _json(params.get("view"))
        if problem := self._check_view(view):
            return self._invalid(problem)
        if params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._replace_view(view_id, view)}

    def _replace_view(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        # Slack replaces the view: nothing of the old one survives but its place in the stack.
        old = self.views[view_id]
        kept: dict[str, Any] = {
            k: old[k] for k in ("id", "team_id", "root_view_id", "previous_view_id") if k in old
        }
        stored: dict[str, Any] = {**view, **kept, "state": {"values": {}}}
        stored["hash"] = f"h{view_id}.{next(self._ids)}"
        self.views[view_id] = stored
        return stored

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
        if str(channel_id or "").startswith(("U", "W")):
            return {"ok": False, "error": "invalid_channel"}  # a user id belongs in `channels`, not here
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
