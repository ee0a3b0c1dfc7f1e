"""In-memory stand-ins for the services' ports: a SlackGateway and a Jobs scheduler that record what
they are asked to do, and fail where a test tells them to."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bot.gateway import PostedMessage, SlackCallFailed, SlackGateway, SlackUser
from bot.jobs import Job
from bot.scheduler import Jobs
from storage.db import holds_turn


@dataclass
class RecordingGateway:
    """Implements every SlackGateway method; `sent` is the transcript as (kind, payload) pairs."""

    members: dict[str, list[str]] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)  # channels the bot is not in
    users: dict[str, SlackUser] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (method, target) -> error
    _sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Called before the transcript is read: the unit tests' dispatcher delivers what the outbox holds.
    before_reading: Callable[[], object] | None = None

    @property
    def sent(self) -> list[tuple[str, dict[str, Any]]]:
        """The transcript as (kind, payload) pairs, once everything due in the outbox is delivered."""
        if self.before_reading is not None:
            self.before_reading()
        return self._sent

    def human(self, user_id: str, name: str = "", *, is_bot: bool = False, tz: str = "UTC") -> None:
        self.users[user_id] = SlackUser(user_id, name or user_id.lower(), is_bot=is_bot, deleted=False, tz=tz)

    def _maybe_fail(self, method: str, target: str) -> None:
        if error := self.failures.get((method, target)):
            raise SlackCallFailed(method, error)

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        marker: str | None = None,
    ) -> PostedMessage:
        self._maybe_fail("chat.postMessage", channel)
        self._sent.append(
            ("message", {"channel": channel, "text": text, "blocks": blocks, "thread_ts": thread_ts})
        )
        return PostedMessage(channel=channel, ts=f"1.{next(self._ts)}")

    def post_ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        self._maybe_fail("chat.postEphemeral", channel)
        self._sent.append(
            (
                "ephemeral",
                {"channel": channel, "user": user, "text": text, "blocks": blocks, "thread_ts": thread_ts},
            )
        )

    def add_reaction(self, *, channel: str, ts: str, name: str) -> None:
        self._maybe_fail("reactions.add", channel)
        self._sent.append(("reaction", {"channel": channel, "ts": ts, "name": name}))

    def update_view(self, *, view_id: str, view: dict[str, Any]) -> None:
        self._maybe_fail("views.update", view_id)
        self._sent.append(("view_update", {"view_id": view_id, "view": view}))

    def push_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._maybe_fail("views.push", trigger_id)
        self._sent.append(("view_push", {"trigger_id": trigger_id, "view": view}))

    def respond(
        self,
        *,
        response_url: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        replace_original: bool = True,
    ) -> None:
        self._maybe_fail("response_url", response_url)
        self._sent.append(
            (
                "response",
                {
                    "response_url": response_url,
                    "text": text,
                    "blocks": blocks,
                    "replace_original": replace_original,
                },
            )
        )

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None:
        self._maybe_fail("views.publish", user_id)
        self._sent.append(("home", {"user_id": user_id, "view": view}))

    def update_message(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._maybe_fail("chat.update", channel)
        self._sent.append(("update", {"channel": channel, "ts": ts, "text": text, "blocks": blocks}))

    def permalink(self, *, channel: str, ts: str) -> str:
        self._maybe_fail("chat.getPermalink", channel)
        return f"https://slack.test/{channel}/{ts}"

    def channel_members(self, *, channel: str) -> list[str]:
        self._maybe_fail("conversations.members", channel)
        return self.members.get(channel, [])

    def bot_is_member(self, *, channel: str) -> bool:
        self._maybe_fail("conversations.info", channel)
        return channel not in self.outside

    def find_marked(self, *, channel: str, thread_ts: str | None, marker: str, oldest: str) -> str | None:
        return None

    def open_dm(self, *, user: str) -> str:
        return f"D{user}"

    def users_page(self, *, cursor: str | None) -> tuple[list[SlackUser], str | None]:
        self._maybe_fail("users.list", "")
        return list(self.users.values()), None

    def user_info(self, *, user: str) -> SlackUser:
        self._maybe_fail("users.info", user)
        if user not in self.users:
            raise SlackCallFailed("users.info", "user_not_found")
        return self.users[user]

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> str:
        self._maybe_fail("views.open", trigger_id)
        self._sent.append(("view", view))
        return "V1"

    def upload_file(
        self, *, channel: str, filename: str, content: str | bytes, title: str, initial_comment: str
    ) -> str:
        self._maybe_fail("files.upload", channel)
        self._sent.append(("file", {"channel": channel, "filename": filename, "content": content}))
        return f"F{next(self._ts)}"

    def messages_to(self, channel: str) -> list[dict[str, Any]]:
        self.sent  # noqa: B018 - delivers what is due first
        return [p for kind, p in self.sent if kind == "message" and p["channel"] == channel]

    def ephemerals_to(self, user: str) -> list[str]:
        return [p["text"] for kind, p in self.sent if kind == "ephemeral" and p["user"] == user]


@dataclass
class RecordingJobs:
    """Jobs kept in memory: what the services asked to schedule, by exact job id."""

    jobs: dict[str, Job] = field(default_factory=dict)
    # The application's database: a scheduler call from inside one of its SQLite transactions fails the
    # test, as it would stall production (storage.db.holds_turn).
    engine: Engine | None = None

    def schedule(self, job: Job) -> None:
        self._outside_transactions()
        self.jobs[job.id] = job

    def schedule_all(self, jobs: Sequence[Job]) -> None:
        self._outside_transactions()
        for job in jobs:
            self.schedule(job)

    def cancel(self, job_ids: Iterable[str]) -> None:
        self._outside_transactions()
        for job_id in job_ids:
            self.jobs.pop(job_id, None)

    def _outside_transactions(self) -> None:
        if self.engine is not None and holds_turn(self.engine):
            raise AssertionError("a scheduler call inside a database transaction: schedule after the commit")

    def existing(self) -> set[str]:
        return set(self.jobs)


# mypy checks these: when a port's protocol gains or changes a method, the fakes fail type-checking here.
_gateway: SlackGateway = RecordingGateway()
_jobs: Jobs = RecordingJobs()
