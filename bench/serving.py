"""The bot served over HTTP as `rearview run` serves it (waitress, 8 threads), for the benchmarks."""

from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server

from bot.runtime import Runtime
from tests.fakeslack import FakeSlack
from tests.slackclient import SlackClient


def serve(runtime: Runtime, fake: FakeSlack) -> tuple[Any, SlackClient]:
    """Start serving `runtime` on a free local port; the server (close it when done) and a client that
    signs requests to it as Slack does."""
    server: Any = create_server(runtime.wsgi_app(), host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, name="waitress-bench", daemon=True).start()
    return server, SlackClient(bot_url=f"http://127.0.0.1:{server.effective_port}", fake=fake)
