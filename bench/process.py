"""Whole processes, as a user starts them: the idle memory of `rearview run` and the wall time of
`rearview report N -o file`, each alternated with its baseline (a bare Bolt process serving the same way;
`python -c pass`)."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import seed
from bench.table import Row
from tests.fakeslack import BOT_TOKEN, BOT_USER_ID, FakeSlack
from tests.slackclient import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[1]

# The baseline for memory: Bolt's app and waitress, one acking handler, and /healthz, nothing else.
BARE = """
import sys
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import serve
app = App(token=sys.argv[2], signing_secret="s", token_verification_enabled=False)
app.command("/retro")(lambda ack: ack())
bolt = SlackRequestHandler(app)
def wsgi(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return bolt(environ, start_response)
serve(wsgi, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _idle_rss(command: list[str], env: dict[str, str], port: int, cwd: Path) -> float:
    """Start it, wait until /healthz answers, give it a second to go idle, read its resident memory (MiB)."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603 - our own interpreter
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{command} exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        time.sleep(1.0)
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")
    finally:
        process.terminate()
        process.wait(timeout=10)


def rss(*, quick: bool) -> list[Row]:
    rounds = 2 if quick else 3
    fake = FakeSlack()
    fake.start()
    fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
            for n in range(rounds):
                port = _free_port()
                theirs.append(
                    _idle_rss([sys.executable, "-c", BARE, str(port), BOT_TOKEN], _env(), port, Path(root))
                )
                # Migrated beforehand, as on every start but the first (`rearview migrate`, or an earlier run):
                # what stays resident while the bot serves, not what one migration run leaves behind.
                url, engine = seed.database(Path(root), f"rss{n}.db")
                engine.dispose()
                port = _free_port()
                env = _env(
                    SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    SLACK_API_URL=fake.api_url,
                    DATABASE_URL=url,
                    REARVIEW_SECRET="b" * 32,
                    HOST="127.0.0.1",
                    PORT=str(port),
                    LOG_LEVEL="WARNING",
                )
                ours.append(_idle_rss([sys.executable, "-m", "bot", "run"], env, port, Path(root)))
    finally:
        fake.stop()
    mine = statistics.median(ours)
    return [
        Row(
            "idle RSS of `rearview run` (HTTP mode, migrated database)",
            "MiB",
            ours,
            theirs,
            "bare Bolt process",
            mine / statistics.median(theirs),
            "≤ 80 MiB",
            mine <= 80,
        )
    ]


def cli(*, quick: bool) -> list[Row]:
    rounds = 3 if quick else 7
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
        url, engine = seed.database(Path(root))
        seed.retro(engine, items=40, closed=True, days_ago=20, seed=2)
        retro_id = seed.retro(engine, items=40, closed=True, seed=3)
        engine.dispose()
        env = _env(DATABASE_URL=url)
        report = [sys.executable, "-m", "bot", "report", str(retro_id), "-o", str(Path(root) / "report.md")]

        def wall(command: list[str]) -> float:
            began = time.perf_counter()
            subprocess.run(command, env=env, cwd=root, check=True, capture_output=True, timeout=120)  # noqa: S603
            return time.perf_counter() - began

        wall(report)  # warm: bytecode caches, as an installed package has them
        for _ in range(rounds):
            theirs.append(wall([sys.executable, "-c", "pass"]))
            ours.append(wall(report))
    mine = statistics.median(ours)
    return [
        Row(
            "`rearview report N -o file` (40 items), whole process",
            "s",
            ours,
            theirs,
            "python -c pass",
            mine / statistics.median(theirs),
            "≤ 0.8 s",
            mine <= 0.8,
        )
    ]
