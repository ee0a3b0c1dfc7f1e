"""The only door from the services to Slack: a small interface, and its WebClient implementation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

logger = logging.getLogger(__name__)


class SlackCallFailed(Exception):
    """A Slack call failed; `error` is Slack's code, e.g. `user_not_found`, or `http_503`,
    `connection_error`. `retry_after` is set for a 429."""

    def __init__(self, method: str, error: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return is_transient(self.error)

    @property
    def ambiguous(self) -> bool:
        return is_ambiguous(self.error)


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
        marker: str | None = None,
    ) -> PostedMessage: ...

    def find_marked(self, *, channel: str, thread_ts: str | None, marker: str, oldest: str) -> str | None: ...

    def open_dm(self, *, user: str) -> str: ...

    def users_page(self, *, cursor: str | None) -> tuple[list[SlackUser], str | None]: ...

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

    def bot_is_member(self, *, channel: str) -> bool: ...

    def user_info(self, *, user: str) -> SlackUser: ...

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> str: ...

    def upload_file(
        self, *, channel: str, filename: str, content: str | bytes, title: str, initial_comment: str
    ) -> str: ...


# Answers after which the request may or may not have been carried out: a post must be checked before
# it is sent again. A 429 is not among them: Slack did nothing.
_AMBIGUOUS = {"connection_error", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def is_transient(error: str) -> bool:
    """Worth trying again later: rate limits, Slack's 5xx, lost connections."""
    return error == "ratelimited" or error in _AMBIGUOUS or error.startswith("http_5")


def is_ambiguous(error: str) -> bool:
    return error in _AMBIGUOUS or error.startswith("http_5")


def make_web_client(*, token: str, base_url: str, timeout: int = 15) -> WebClient:
    """No retry handlers: the dispatcher decides when to try again, and never by sleeping on a thread or
    by re-sending a post that Slack may already have made."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class WebApiGateway:
    """SlackGateway over slack_sdk's WebClient; every failure becomes a SlackCallFailed."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            if status >= 500:
                error = f"http_{status}"  # whatever the body says, Slack may have done it
            retry_after = None
            if status == 429:
                error = "ratelimited"
                header = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                retry_after = float(header) if header and str(header).isdigit() else 1.0
            logger.warning("Slack %s failed: %s", method, error)
            raise SlackCallFailed(method, error, retry_after=retry_after) from exc
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
        marker: str | None = None,
    ) -> PostedMessage:
        response = self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            metadata={"event_type": MARKER_EVENT, "event_payload": {"delivery": marker}} if marker else None,
        )
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def find_marked(self, *, channel: str, thread_ts: str | None, marker: str, oldest: str) -> str | None:
        """The ts of our message carrying `marker` posted since `oldest`, or None: how a post whose answer
        was lost is checked before it is sent again."""
        if thread_ts:
            response = self._call(
                "conversations.replies",
                self.client.conversations_replies,
                channel=channel,
                ts=thread_ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
            )
        else:
            response = self._call(
                "conversations.history",
                self.client.conversations_history,
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
            )
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == MARKER_EVENT
                and (metadata.get("event_payload") or {}).get("delivery") == marker
            ):
                return str(message["ts"])
        return None

    def open_dm(self, *, user: str) -> str:
        response = self._call("conversations.open", self.client.conversations_open, users=user)
        return str(response["channel"]["id"])

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

    def bot_is_member(self, *, channel: str) -> bool:
        """Whether the bot is in the channel: a private channel it is not in is `channel_not_found`."""
        try:
            response = self._call("conversations.info", self.client.conversations_info, channel=channel)
        except SlackCallFailed as exc:
            if exc.error == "channel_not_found":
                return False
            raise
        return bool((response.get("channel") or {}).get("is_member"))

    def user_info(self, *, user: str) -> SlackUser:
        return _user(self._call("users.info", self.client.users_info, user=user)["user"])

    def users_page(self, *, cursor: str | None) -> tuple[list[SlackUser], str | None]:
        """One page of the workspace's people (200 at a time): for fan-outs to many people at once."""
        response = self._call("users.list", self.client.users_list, limit=200, cursor=cursor)
        people = [_user(data) for data in response.get("members", [])]
        return people, (response.get("response_metadata") or {}).get("next_cursor") or None

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


MARKER_EVENT = "rearview_delivery"


def _user(data: dict[str, Any]) -> SlackUser:
    profile = data.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or data.get("real_name") or data["name"]
    return SlackUser(
        id=data["id"],
        name=str(name),
        is_bot=bool(data.get("is_bot")) or data["id"] == "USLACKBOT",
        deleted=bool(data.get("deleted")),
        tz=data.get("tz"),
    )
