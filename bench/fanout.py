"""The survey fan-out: how long until the last of N participants has their invitation, as a ratio to the
DM-only bound measured in the same run, with 0 lost and 0 doubled under injected 429s and 5xx.

Both sides run against the same fake Slack (real HTTP, its tier limits and latency on, the failures
injected at the same rate):
- the bound: N direct `chat.postMessage` DMs from as many threads as the bot has delivery workers,
  honouring Retry-After, retrying a 5xx after checking the DM (nothing else: no kickoff, no lookups);
- Rearview: the bot in HTTP mode, as `rearview run` serves it, from the signed modal submission
  that starts the retro to the last invitation delivered.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bench.serving import serve
from bench.table import Row
from bot.config import Settings
from bot.runtime import Runtime
from tests.fakeslack import BOT_TOKEN, BOT_USER_ID, FakeSlack
from tests.slackclient import SIGNING_SECRET

CHANNEL = "CBENCH"
INVITED = "You're invited"


def _measure(
    *, people: int, latency: float, failures: float, workers: int, rounds: int
) -> tuple[list[float], list[float], int, int]:
    """Alternate the bound and Rearview `rounds` times in one run, so both see the same machine."""
    fake = FakeSlack()
    fake.start()
    bounds: list[float] = []
    ours: list[float] = []
    lost = doubled = 0
    try:
        for _ in range(rounds):
            bounds.append(_dm_only(fake, people=people, latency=latency, failures=failures, workers=workers))
            took, missing, twice = _rearview(
                fake, people=people, latency=latency, failures=failures, workers=workers
            )
            ours.append(took)
            lost, doubled = lost + missing, doubled + twice
    finally:
        fake.stop()
    return bounds, ours, lost, doubled


def run(*, people: int, latency: float, failures: float, workers: int, rounds: int = 3) -> int:
    """The ratio is of the medians; exit 1 if any invitation was lost or doubled."""
    bounds, ours, lost, doubled = _measure(
        people=people, latency=latency, failures=failures, workers=workers, rounds=rounds
    )
    ratio = statistics.median(ours) / statistics.median(bounds)
    print(
        f"fan-out to {people} participants, {latency * 1000:.0f} ms per call, {failures:.0%} 429/5xx, {rounds} rounds"
    )
    print(f"  DM-only bound ({workers} threads): {_spread(bounds)}")
    print(f"  Rearview, submit to last invitation: {_spread(ours)}")
    print(f"  ratio of medians: {ratio:.2f}x (goal <= 1.1x; per round {_ratios(ours, bounds)})")
    print(f"  lost {lost}, doubled {doubled}")
    return 0 if lost == 0 and doubled == 0 else 1


def rows(*, people: int, latency: float, failures: float, workers: int, rounds: int = 3) -> list[Row]:
    """The same, as rows of `python -m bench`'s table."""
    bounds, ours, lost, doubled = _measure(
        people=people, latency=latency, failures=failures, workers=workers, rounds=rounds
    )
    ratio = statistics.median(ours) / statistics.median(bounds)
    where = f"fan-out to {people}, {latency * 1000:.0f} ms a call, {failures:.0%} 429/5xx"
    return [
        Row(
            f"{where}: to last invitation", "s", ours, bounds, "DM-only bound", ratio, "≤ 1.1x", ratio <= 1.1
        ),
        Row(
            f"fan-out: lost {lost}, doubled {doubled}", "", [], goal="0 and 0", met=lost == 0 and doubled == 0
        ),
    ]


def _spread(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.1f} s (min-max {min(seconds):.1f}-{max(seconds):.1f})"


def _ratios(ours: list[float], bounds: list[float]) -> str:
    return ", ".join(f"{o / b:.2f}x" for o, b in zip(ours, bounds, strict=True))


def _workspace(fake: FakeSlack, people: int, latency: float) -> list[str]:
    fake.reset()
    members = [f"U{n:05d}" for n in range(people)]
    for n, member in enumerate(members):
        fake.add_user(member, f"person{n}", tz=("Europe/Berlin", "America/New_York", "Asia/Tokyo")[n % 3])
    fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    fake.add_channel(CHANNEL, "bench", [*members, BOT_USER_ID])
    fake.rate_limited = True
    fake.epoch = time.time  # message ts on the wall clock the bot runs on, as Slack's are
    fake.latency = latency
    return members


def _dm_only(fake: FakeSlack, *, people: int, latency: float, failures: float, workers: int) -> float:
    members = _workspace(fake, people, latency)
    _inject(fake, failures, people)
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[])

    def send(member: str) -> None:
        while True:
            try:
                client.chat_postMessage(channel=member, text=f"{INVITED} (bound)")
                return
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    time.sleep(float(exc.response.headers.get("Retry-After", 1)))
                    continue
                if any(m.channel == f"D{member}" for m in list(fake.messages)):
                    return  # a 5xx after posting: it is there
                continue

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(send, members))
    return time.monotonic() - started


def _rearview(
    fake: FakeSlack, *, people: int, latency: float, failures: float, workers: int
) -> tuple[float, int, int]:
    members = _workspace(fake, people, latency)
    with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
        settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite:///{Path(root) / 'rearview.db'}",
                "REARVIEW_SECRET": "b" * 32,
                "REARVIEW_WORKERS": str(workers),
            }
        )
        runtime = Runtime.start(settings)
        server, slack = serve(runtime, fake)
        try:
            reply, _ = slack.command(members[0], CHANNEL, "new Benchmark")
            assert reply.status == 200, reply
            view_id = fake.wait_for(lambda: list(fake.views))[-1]
            # The failures start with the fan-out, as in the bound.
            _inject(fake, failures, people)
            started = time.monotonic()
            assert slack.submit(members[0], view_id, {}).body == ""
            fake.wait_for(lambda: _invited(fake) >= people, timeout=max(600.0, people * latency * 2))
            took = time.monotonic() - started
            time.sleep(2 * latency + 1)  # anything doubled would arrive now
            counts = {m: 0 for m in members}
            for message in list(fake.messages):
                if message.text.startswith(INVITED) and message.channel[1:] in counts:
                    counts[message.channel[1:]] += 1
            lost = sum(1 for c in counts.values() if c == 0)
            doubled = sum(c - 1 for c in counts.values() if c > 1)
        finally:
            server.close()
            runtime.stop(grace=5)
    return took, lost, doubled


def _inject(fake: FakeSlack, failures: float, people: int) -> None:
    """Half the failures are 429s, half 5xx answered after the message was posted (Slack did it)."""
    rng = random.Random(7)  # noqa: S311 - a reproducible failure pattern, not a secret
    budget = people * 10
    fake.fail(
        "chat.postMessage",
        status=429,
        retry_after=1,
        times=budget,
        when=lambda _p: rng.random() < failures / 2,
    )
    fake.fail(
        "chat.postMessage", status=503, after=True, times=budget, when=lambda _p: rng.random() < failures / 2
    )


def _invited(fake: FakeSlack) -> int:
    return len({m.channel for m in fake.messages if m.text.startswith(INVITED)})
