"""The floor for acks: a Bolt app with one handler per request type that only acks, served by waitress like
the bot, and how a burst of requests is timed. Shared by the load test (tests/integration/test_ack_load.py)
and the `ack` benchmark (bench/ack.py), so both compare Rearview with the same thing."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress.server import create_server

from tests.fakeslack import BOT_TOKEN
from tests.slackclient import SIGNING_SECRET


def serve_bare_app(api_url: str, *, ack_threads: int) -> tuple[Any, threading.Thread]:
    """Start the bare app on a free port (`server.effective_port`); stop it with the server."""
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
        # The listener pool the bot has (REARVIEW_ACK_THREADS), so that only what the handlers do differs.
        listener_executor=ThreadPoolExecutor(max_workers=ack_threads),
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/retro")(only_ack)
    app.action(re.compile(".*"))(only_ack)
    server: Any = create_server(SlackRequestHandler(app), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, name="waitress-bare", daemon=True)
    thread.start()
    return server, thread


def latencies(mix: Sequence[Callable[[], object]]) -> list[float]:
    """Send every request at the same moment; how long each took to be acked, in seconds."""
    start = threading.Barrier(len(mix))

    def timed(request: Callable[[], object]) -> float:
        start.wait()
        began = time.monotonic()
        request()
        return time.monotonic() - began

    with ThreadPoolExecutor(max_workers=len(mix)) as pool:
        return list(pool.map(timed, mix))


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
