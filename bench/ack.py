"""`/retro status` acks under load: 50 clients at once, in a channel whose open retro has 12 people and 40
items, against the bot in HTTP mode (as `rearview run` serves it) with the fake Slack answering in 150 ms a
call; the baseline is a bare Bolt app with one acking handler on the same kind of server
(tests/bare_bolt.py, the one the load test uses). The two get alternate bursts of the same signed requests.
Per app: p50 and p99 of every ack over all rounds, and requests per second (50 / a burst's wall time)."""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from bench import seed
from bench.serving import serve
from bench.table import Row
from bot.config import Settings
from bot.runtime import Runtime
from tests.bare_bolt import latencies, p99, serve_bare_app
from tests.fakeslack import BOT_TOKEN, BOT_USER_ID, FakeSlack
from tests.slackclient import SIGNING_SECRET, SlackClient

CLIENTS = 50
LATENCY = 0.15


def run(*, quick: bool) -> list[Row]:
    rounds = 3 if quick else 9
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a burst of 100 is the point, not news
    fake = FakeSlack()
    fake.start()
    ours: list[list[float]] = []
    theirs: list[list[float]] = []
    ours_rate: list[float] = []
    theirs_rate: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
        url, engine = seed.database(Path(root))
        seed.retro(engine, items=40, people=12)
        engine.dispose()
        people = [f"U{n:04d}" for n in range(12)]
        for person in people:
            fake.add_user(person, person.lower(), tz="Europe/Berlin")
        fake.add_user(seed.FACILITATOR, "facilitator", tz="Europe/Berlin")
        fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
        fake.add_channel(seed.CHANNEL, "bench", [seed.FACILITATOR, *people, BOT_USER_ID])
        settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
                "REARVIEW_SECRET": "b" * 32,
            }
        )
        runtime = Runtime.start(settings)
        server, rearview = serve(runtime, fake)
        bare, _ = serve_bare_app(fake.api_url, ack_threads=settings.ack_threads)
        try:
            fake.latency = LATENCY
            clients: dict[str, SlackClient] = {
                "ours": rearview,
                "bare": SlackClient(bot_url=f"http://127.0.0.1:{bare.effective_port}", fake=fake),
            }

            def burst(slack: SlackClient) -> tuple[list[float], float]:
                mix = [partial(_status, slack, people[n % len(people)]) for n in range(CLIENTS)]
                began = time.monotonic()
                took = latencies(mix)
                return took, CLIENTS / (time.monotonic() - began)

            burst(clients["ours"]), burst(clients["bare"])  # warm both: connections, caches
            for _ in range(rounds):
                took, rate = burst(clients["bare"])
                theirs.append(took)
                theirs_rate.append(rate)
                time.sleep(0.5)  # let what the bot queued settle, so that bursts do not overlap
                took, rate = burst(clients["ours"])
                ours.append(took)
                ours_rate.append(rate)
                time.sleep(0.5)
        finally:
            server.close()
            bare.close()
            runtime.stop(grace=5)
            fake.stop()
    p50s = [statistics.median(r) for r in ours], [statistics.median(r) for r in theirs]
    p99s = [p99(r) for r in ours], [p99(r) for r in theirs]
    ratio50 = statistics.median(p50s[0]) / statistics.median(p50s[1])
    ratio99 = statistics.median(p99s[0]) / statistics.median(p99s[1])
    rate = statistics.median(ours_rate) / statistics.median(theirs_rate)
    where = f"/retro status ack, {CLIENTS} clients, 12 people 40 items"
    return [
        Row(f"{where}: p50", "s", p50s[0], p50s[1], "bare Bolt", ratio50),
        Row(f"{where}: p99", "s", p99s[0], p99s[1], "bare Bolt", ratio99, "≤ 1.2x bare", ratio99 <= 1.2),
        Row(f"{where}: throughput", "req/s", ours_rate, theirs_rate, "bare Bolt", rate),
    ]


def _status(slack: SlackClient, person: str) -> None:
    reply, _ = slack.command(person, seed.CHANNEL, "status")
    assert reply.status == 200, reply
