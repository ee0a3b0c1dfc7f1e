"""The only door from the services to Slack: a small interface, and its WebClient implementation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.webhook import WebhookClient

logger = logging.getLogger(__name__)

Sleep = Callable[[float], None]


class SlackCallFailed(Exception):
    """A Slack call failed for good (after retries); `error` is Slack's code, e.g. `user_not_found`."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    is_bot: bool
    deleted: bool
    tz: str | None


class SlackGateway(Protocol):
    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage: ...

    def post_ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None: ...

    def add_reaction(self, *, channel: str, ts: str, name: str) -> None: ...

    def update_view(self, *, view_id: str, view: dict[str, Any]) -> None: ...

    def push_view(self, *, trigger_id: str, view: dict[str, Any]) -> None: ...

    def respond(
        self,
        *,
        response_url: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        replace_original: bool = True,
    ) -> None: ...

    def update_message(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None: ...

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None: ...

    def permalink(self, *, channel: str, ts: str) -> str: ...

    def channel_members(self, *, channel: str) -> list[str]: ...

    def user_info(self, *, user: str, quick: bool = False) -> SlackUser: ...

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> str: ...

    def upload_file(
        self, *, channel: str, filename: str, content: str | bytes, title: str, initial_comment: str
    ) -> str: ...


class RateLimitRetry(RetryHandler):
    """Waits out a 429's Retry-After (capped), through an injectable sleep so tests need no real waiting."""

    def __init__(
        self, *, max_retry_count: int = 3, max_wait: float = 30.0, sleep: Sleep = time.sleep
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = 1.0
        if response is not None:
            for name, values in response.headers.items():
                if name.lower() == "retry-after" and values and values[0].isdigit():
                    wait = float(values[0])
        state.next_attempt_requested = True
        self.sleep(min(wait, self.max_wait))
        state.increment_current_attempt()


class ServerErrorRetry(RetryHandler):
    """Retries Slack's passing 5xx answers with a short backoff."""

    def __init__(self, *, max_retry_count: int = 2, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(0.5 * 2**state.current_attempt)
        state.increment_current_attempt()


def make_web_client(*, token: str, base_url: str, sleep: Sleep = time.sleep) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitRetry(sleep=sleep),
            ServerErrorRetry(sleep=sleep),
        ],
    )


class WebApiGateway:
    """SlackGateway over slack_sdk's WebClient; every failure becomes a SlackCallFailed."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._quick = WebClient(token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[])

    def _call(self, method: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            logger.warning("Slack %s failed: %s", method, error)
            raise SlackCallFailed(method, error) from exc
        except (SlackClientError, OSError) as exc:
            logger.warning("Slack %s failed: %s", method, exc)
            raise SlackCallFailed(method, "connection_error") from exc

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        response = self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
        )
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def post_ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        self._call(
            "chat.postEphemeral",
            self.client.chat_postEphemeral,
            channel=channel,
            user=user,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
        )

    def add_reaction(self, *, channel: str, ts: str, name: str) -> None:
        try:
            self._call("reactions.add", self.client.reactions_add, channel=channel, timestamp=ts, name=name)
        except SlackCallFailed as exc:
            if exc.error != "already_reacted":  # a retried event reacting again is fine
                raise

    def update_view(self, *, view_id: str, view: dict[str, Any]) -> None:
        self._call("views.update", self.client.views_update, view_id=view_id, view=view)

    def push_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.push", self.client.views_push, trigger_id=trigger_id, view=view)

    def respond(
        self,
        *,
        response_url: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        replace_original: bool = True,
    ) -> None:
        """Answer an interaction through its response_url (works for ephemeral messages too)."""
        try:
            response = WebhookClient(response_url, timeout=10).send(
                text=text, blocks=blocks, replace_original=replace_original, response_type="ephemeral"
            )
        except OSError as exc:
            raise SlackCallFailed("response_url", "connection_error") from exc
        if response.status_code != 200:
            raise SlackCallFailed("response_url", f"http_{response.status_code}")

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None:
        self._call("views.publish", self.client.views_publish, user_id=user_id, view=view)

    def update_message(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat.update", self.client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks)

    def permalink(self, *, channel: str, ts: str) -> str:
        response = self._call(
            "chat.getPermalink", self.client.chat_getPermalink, channel=channel, message_ts=ts
        )
        return str(response["permalink"])

    def channel_members(self, *, channel: str) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            response = self._call(
                "conversations.members",
                self.client.conversations_members,
                channel=channel,
                limit=200,
                cursor=cursor,
            )
            members.extend(response.get("members", []))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

    def user_info(self, *, user: str, quick: bool = False) -> SlackUser:
        """`quick` is for the 3-second ack path: no retries, a short timeout; a 429 is an answer, not a wait."""
        client = self._quick if quick else self.client
        data = self._call("users.info", client.users_info, user=user)["user"]
        profile = data.get("profile") or {}
        name = (
            profile.get("display_name") or profile.get("real_name") or data.get("real_name") or data["name"]
        )
        return SlackUser(
            id=data["id"],
            name=str(name),
            is_bot=bool(data.get("is_bot")) or data["id"] == "USLACKBOT",
            deleted=bool(data.get("deleted")),
            tz=data.get("tz"),
        )

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> str:
        response = self._call("views.open", self.client.views_open, trigger_id=trigger_id, view=view)
        return str(response["view"]["id"])

    def upload_file(
        self, *, channel: str, filename: str, content: str | bytes, title: str, initial_comment: str
    ) -> str:
        response = self._call(
            "files.upload",
            self.client.files_upload_v2,
            channel=channel,
            filename=filename,
            content=content,
            title=title,
            initial_comment=initial_comment,
        )
        return str(response["file"]["id"])
