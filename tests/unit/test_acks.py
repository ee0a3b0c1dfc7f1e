"""AckFirstExecutor: Bolt's request thread is answered the moment its listener acks, while the listener
goes on (what it does after its ack never delays the ack); a listener that never acks lets it go when it
ends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.acks import AckFirstExecutor, acked


def test_submit_returns_once_the_listener_acked_while_it_goes_on() -> None:
    release = threading.Event()
    steps: list[str] = []

    def listener() -> str:
        steps.append("acked")
        acked()
        release.wait(10)  # e.g. views.open after the ack
        steps.append("after the ack")
        return "done"

    executor = AckFirstExecutor(ThreadPoolExecutor(max_workers=1))
    future = executor.submit(listener)
    assert steps == ["acked"] and not future.done()  # back before the listener's later work
    release.set()
    assert future.result(timeout=10) == "done" and steps == ["acked", "after the ack"]
    executor.shutdown()


def test_a_listener_that_never_acks_lets_the_request_go_when_it_ends() -> None:
    executor = AckFirstExecutor(ThreadPoolExecutor(max_workers=1))
    future = executor.submit(lambda: 42)
    assert future.done() and future.result() == 42
    failing = executor.submit(lambda: 1 / 0)
    assert failing.done() and isinstance(failing.exception(), ZeroDivisionError)
    executor.shutdown()
