"""The bot's recorded waits move the fake Slack's clock as real waits would move real time."""

from __future__ import annotations

import threading

import pytest

from tests.timeline import Timeline


def test_waits_in_one_thread_add_up() -> None:
    timeline = Timeline()
    timeline.call("chat.postMessage")
    before = timeline.now()
    timeline.wait(1.0)
    timeline.call("chat.postMessage")  # the retry
    timeline.wait(2.0)
    assert timeline.now() - before == pytest.approx(3.0, abs=0.05)
    assert timeline.waits == [1.0, 2.0]


def test_waits_in_different_threads_overlap() -> None:
    timeline = Timeline()
    before = timeline.now()
    barrier = threading.Barrier(6)

    def post_and_wait() -> None:
        timeline.call("chat.postMessage")
        barrier.wait()  # all six met their 429 before any of them waits
        timeline.wait(1.0)

    threads = [threading.Thread(target=post_and_wait) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert timeline.now() - before == pytest.approx(1.0, abs=0.05)  # not six seconds
    assert timeline.waits == [1.0] * 6


def test_before_ack_is_what_came_between_the_mark_and_the_first_ack() -> None:
    timeline = Timeline()
    timeline.call("auth.test")
    mark = timeline.mark()
    timeline.call("chat.postMessage")
    timeline.wait(1.0)
    timeline.ack()
    timeline.call("views.publish")
    assert [(e.kind, e.method, e.seconds) for e in timeline.before_ack(mark)] == [
        ("call", "chat.postMessage", 0.0),
        ("wait", "", 1.0),
    ]
