"""Acks answered the moment a listener acks, not up to 10 ms later.

Bolt runs a listener on its listener executor and then polls, every 10 ms, whether it has acked
(`slack_bolt.listener.thread_runner`: `while ack.response is None: time.sleep(0.01)`). Under load every ack
pays that tick, and the waiting request threads wake to poll. `AckFirstExecutor` returns from `submit` only
once the listener has acked (or finished): Bolt's loop then finds the answer at once. The listener still
runs on the pool, so what it does after its ack (opening a modal, looking something up) never delays the
ack. Our listeners say they acked with `acked()` (bot/listeners/routing.py)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

ACK_WAIT = 3.0  # Slack's limit for an ack; past it Bolt's own loop decides
_ACKED: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("acked", default=None)


def acked() -> None:
    """The listener running in this thread has acked (or needs no ack): its request may be answered."""
    event = _ACKED.get()
    if event is not None:
        event.set()


class AckFirstExecutor(Executor):
    """Submits to `pool`, and returns once what it submitted has called `acked()` or ended."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        event = threading.Event()
        context = contextvars.copy_context()
        context.run(_ACKED.set, event)
        future = self.pool.submit(context.run, fn, *args, **kwargs)
        future.add_done_callback(lambda _: event.set())
        event.wait(ACK_WAIT)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)
