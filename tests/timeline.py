"""What the bot did, in order, in this process: Slack Web API calls, Retry-After waits and acks.

Recorded in-process rather than inferred from timing, so "what did this request wait on before its ack"
has one answer however loaded the machine is.

The same record is the fake Slack's clock. The bot's waits are recorded, not slept; each moves the clock
to when that wait would end, counted from when its thread last reached Slack. Waits in different threads
therefore overlap as they do in real time (six threads each waiting one second move the clock by one
second, not six), and a bot that meets more 429s than its retries allow loses the call, as it would.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from slack_bolt.context.ack.ack import Ack
from slack_sdk.web.base_client import BaseClient


@dataclass(frozen=True)
class Entry:
    kind: Literal["call", "wait", "ack"]
    method: str = ""  # the Slack method, for calls
    seconds: float = 0.0  # for waits
    thread: str = ""  # the thread that made the call: delivery workers' calls are never waited on


class Timeline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._offset = 0.0  # how far the bot's recorded waits have moved the clock past real time
        self._thread = threading.local()  # .at: the clock when this thread last reached Slack

    # ------------------------------------------------------------ the fake's clock

    def now(self) -> float:
        return time.monotonic() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock on (what settle() does instead of waiting for a retry to come due)."""
        with self._lock:
            self._offset += seconds

    # ------------------------------------------------------------ recording

    def call(self, method: str) -> None:
        with self._lock:
            self._entries.append(Entry("call", method=method, thread=threading.current_thread().name))
        self._thread.at = self.now()

    def wait(self, seconds: float) -> None:
        """The bot's `sleep`: returns at once, and the clock moves to when the wait would end."""
        with self._lock:
            self._entries.append(Entry("wait", seconds=seconds))
            start = getattr(self._thread, "at", None) or self.now()
            wake = start + seconds
            self._offset = max(self._offset, wake - time.monotonic())
            self._thread.at = wake

    def ack(self) -> None:
        with self._lock:
            self._entries.append(Entry("ack"))

    # ------------------------------------------------------------ reading

    def mark(self) -> int:
        with self._lock:
            return len(self._entries)

    def before_ack(self, mark: int) -> list[Entry]:
        """Calls and waits after `mark` up to the first ack after it: what a request waited on. Calls by the
        delivery workers (threads `delivery-N`) run beside the request and are left out."""
        with self._lock:
            entries = [e for e in self._entries[mark:] if not e.thread.startswith("delivery-")]
        for index, entry in enumerate(entries):
            if entry.kind == "ack":
                return entries[:index]
        return entries

    @property
    def waits(self) -> list[float]:
        with self._lock:
            return [e.seconds for e in self._entries if e.kind == "wait"]

    # ------------------------------------------------------------ hooks

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record every Web API call made in this process and every ack Bolt sends, until the test ends."""
        api_call = BaseClient.api_call
        ack_call = Ack.__call__

        def recorded_api_call(client: BaseClient, api_method: str, *args: Any, **kwargs: Any) -> Any:
            self.call(api_method)
            return api_call(client, api_method, *args, **kwargs)

        def recorded_ack(ack: Ack, *args: Any, **kwargs: Any) -> Any:
            self.ack()
            return ack_call(ack, *args, **kwargs)

        monkeypatch.setattr(BaseClient, "api_call", recorded_api_call)
        monkeypatch.setattr(Ack, "__call__", recorded_ack)
