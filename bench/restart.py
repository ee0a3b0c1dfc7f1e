"""Restart to serving: how long `rearview run` (Runtime.start, then its HTTP server) takes to answer its first
request on a database holding 10,000 pending scheduled jobs, as a ratio to the same start on a database
holding none, measured in the same run.

Both sides start from a copy of the same migrated SQLite file (a restart: no migration runs), against the
same fake Slack (real HTTP); the clock runs from `Runtime.start` to the first signed `/retro help` answered
200. The jobs are what a busy install holds: nudges, closings and reminders due in the coming weeks.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.serving import serve
from bench.table import Row
from bot.config import Settings
from bot.jobs import Job, JobKind
from bot.runtime import Runtime
from bot.scheduler import ApsJobs, build_scheduler
from storage.db import make_engine, upgrade
from tests.fakeslack import BOT_TOKEN, BOT_USER_ID, FakeSlack
from tests.slackclient import SIGNING_SECRET

CHANNEL = "CBENCH"
USER = "U00001"


def measure(*, jobs: int = 10_000, rounds: int = 5) -> tuple[list[float], list[float]]:
    """Alternate the empty start and the start with `jobs` pending jobs `rounds` times: (empty, loaded)."""
    fake = FakeSlack()
    fake.start()
    fake.reset()
    fake.add_user(USER, "person")
    fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    fake.add_channel(CHANNEL, "bench", [USER, BOT_USER_ID])
    empty: list[float] = []
    loaded: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rearview-restart-") as root:
            bare = _prepared(Path(root) / "bare.db", jobs=0)
            full = _prepared(Path(root) / "full.db", jobs=jobs)
            for n in range(rounds):
                empty.append(_serve_first(fake, bare, Path(root) / f"e{n}.db"))
                loaded.append(_serve_first(fake, full, Path(root) / f"l{n}.db"))
    finally:
        fake.stop()
    return empty, loaded


def rows(*, quick: bool) -> list[Row]:
    """The row `python -m bench` prints: the start with 10,000 pending jobs against the start with none."""
    jobs = 10_000
    empty, loaded = measure(jobs=jobs, rounds=3 if quick else 5)
    ratio = statistics.median(loaded) / statistics.median(empty)
    return [
        Row(
            figure=f"restart to serving, {jobs:,} pending jobs",
            unit="s",
            ours=loaded,
            baseline=empty,
            baseline_label="no jobs",
            ratio=ratio,  # issue 13 sets no goal for it: it is measured so that a slow start shows
        )
    ]


def run(*, jobs: int = 10_000, rounds: int = 5) -> int:
    """Print the comparison on its own; the ratio is of the medians."""
    empty, loaded = measure(jobs=jobs, rounds=rounds)
    ratio = statistics.median(loaded) / statistics.median(empty)
    print(f"restart to serving the first request, {rounds} rounds")
    print(f"  no pending jobs: {_spread(empty)}")
    print(f"  {jobs:,} pending jobs: {_spread(loaded)}")
    print(f"  ratio of medians: {ratio:.2f}x")
    return 0


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"median {statistics.median(ms):.0f} ms (min-max {min(ms):.0f}-{max(ms):.0f})"


def _prepared(path: Path, *, jobs: int) -> Path:
    """A migrated database holding `jobs` pending jobs, written as the bot writes them."""
    url = f"sqlite:///{path}"
    upgrade(url)
    if jobs:
        engine = make_engine(url, take_turns=False)
        scheduler = build_scheduler(engine)
        scheduler.start(paused=True)
        soon = datetime.now(UTC) + timedelta(days=1)
        pending = [_job(n, soon + timedelta(minutes=n)) for n in range(jobs)]
        ApsJobs(scheduler, engine).schedule_all(pending)
        scheduler.shutdown(wait=False)
        engine.dispose()
    return path


def _job(n: int, when: datetime) -> Job:
    """The n-th pending job: a time zone's nudge, a closing, an action item's reminder or a follow-up."""
    kind = (JobKind.NUDGE, JobKind.CLOSE_COLLECTION, JobKind.ACTION_REMINDER, JobKind.FOLLOWUP)[n % 4]
    if kind == JobKind.NUDGE:
        return Job(kind, "TBENCH", (n, "24h", "UTC"), when, {"retro_id": n, "reminder": "24h", "zone": "UTC"})
    if kind == JobKind.ACTION_REMINDER:
        return Job(kind, "TBENCH", (n, "due"), when, {"action_id": n, "kind": f"due:{when.date()}"})
    return Job(kind, "TBENCH", (n,), when, {"retro_id": n})


def _serve_first(fake: FakeSlack, template: Path, path: Path) -> float:
    shutil.copyfile(template, path)
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite:///{path}",
            "REARVIEW_SECRET": "b" * 32,
        }
    )
    started = time.monotonic()
    runtime = Runtime.start(settings)
    server, slack = serve(runtime, fake)
    try:
        reply, _ = slack.command(USER, CHANNEL, "help")
        took = time.monotonic() - started
        assert reply.status == 200, reply
    finally:
        server.close()
        runtime.stop(grace=5)
    return took


if __name__ == "__main__":
    run()
