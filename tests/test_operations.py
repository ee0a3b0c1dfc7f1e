"""An operator's mistakes, each met by the real `rearview` process with one line on stderr and exit code 2:
a port already taken, a Socket Mode connection that cannot be made, no network, a database never migrated.
And the README's schema-change commands, run as written on a copy of the repository."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from alembic import command

from bot.cli import main
from storage.db import alembic_config, unmigrated
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackclient import SIGNING_SECRET
from tests.test_cli import ROOT, rearview

QUIET = {
    "LOG_LEVEL": "WARNING",
    "REARVIEW_SECRET": "k" * 32,
}  # no start-up chatter: stderr is the error alone


def _closed_port() -> int:
    """A local port nothing listens on (the kernel hands out a free one; nobody takes it in between)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    return lines[0]


# ---------------------------------------------------------------- the port


def test_a_port_in_use_is_one_line_naming_the_port_and_port(fake: FakeSlack, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds: the real conflict
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
        line = _one_line(rearview("run", env=env, cwd=tmp_path))  # at the default LOG_LEVEL, INFO
    assert line.startswith(f"rearview: PORT: port {port} on 127.0.0.1 is already in use"), line
    assert "set PORT" in line


# ---------------------------------------------------------------- Socket Mode


class _WebSocketEnd:
    """A WebSocket server that accepts Socket Mode's connection (RFC 6455's handshake) and holds it open:
    enough for `rearview run` to be connected, with nothing ever sent to it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.listener.getsockname()[1]}/link"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            key = re.search(rb"Sec-WebSocket-Key: *([^\r]+)", request, re.IGNORECASE)
            accept = base64.b64encode(
                hashlib.sha1(  # noqa: S324 - RFC 6455 fixes SHA-1 for the handshake
                    (key.group(1) if key else b"") + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
                ).digest()
            )
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.held.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


class _SocketModeSlack:
    """Just enough of Slack's Web API for Socket Mode to get as far as its WebSocket: auth.test accepts the
    token; apps.connections.open either hangs up (`drop`), hands out a WebSocket URL nothing answers
    (`no_websocket`) or one that accepts the connection (`websocket`)."""

    def __init__(self, connections_open: str) -> None:
        self.websocket = _WebSocketEnd() if connections_open == "websocket" else None
        ws_url = self.websocket.url if self.websocket else f"ws://127.0.0.1:{_closed_port()}/link"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                if method == "apps.connections.open" and connections_open == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = {"ok": True, "user_id": "UBOT", "team_id": "T1", "bot_id": "B1", "url": ws_url}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        if self.websocket is not None:
            self.websocket.close()


@pytest.fixture(params=["drop", "no_websocket"])
def socket_mode_slack(request: pytest.FixtureRequest) -> Iterator[_SocketModeSlack]:
    slack = _SocketModeSlack(request.param)
    yield slack
    slack.close()


def test_a_socket_mode_connection_that_fails_is_one_line(
    socket_mode_slack: _SocketModeSlack, tmp_path: Path
) -> None:
    """At LOG_LEVEL=WARNING, where the library's own ERROR lines about the failure would show."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-ok",
        "SLACK_API_URL": socket_mode_slack.url,
        "HOST": "127.0.0.1",
        "PORT": str(_closed_port()),
    }
    line = _one_line(rearview("run", env={**env, **QUIET}, cwd=tmp_path))
    assert line.startswith("rearview: SLACK_APP_TOKEN: cannot open the Socket Mode connection to Slack"), line
    assert "network" in line


def test_socket_mode_serves_healthz_and_the_release_endpoint_on_host_and_port(tmp_path: Path) -> None:
    """In Socket Mode Slack's events come over the WebSocket, and HOST:PORT still answers /healthz and
    /api/releases (for CI/CD tools), until SIGTERM stops it cleanly."""
    slack = _SocketModeSlack("websocket")
    port = _closed_port()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-ok",
        "SLACK_API_URL": slack.url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rearview.db'}",
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        health = _get_when_up(f"{base}/healthz", process)
        assert json.loads(health) == {"ok": True, "database": "ok"}
        refused = urllib.request.Request(f"{base}/api/releases", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as unauthorized:
            urllib.request.urlopen(refused, timeout=10)
        assert unauthorized.value.code == 401
        unauthorized.value.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert "Socket Mode" in stderr and f"/api/releases at http://127.0.0.1:{port}" in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        slack.close()


def _get_when_up(url: str, process: subprocess.Popen[str]) -> str:
    """GET `url` once the server answers (it starts in a second or two); fails if the process exits."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return str(answer.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise AssertionError(f"rearview run exited: {process.communicate()[1]}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling a process's port: there is no event to wait on


# ---------------------------------------------------------------- no network


def test_no_network_blames_the_network_not_an_unset_slack_api_url(tmp_path: Path) -> None:
    """SLACK_API_URL unset: the default https://slack.com/api/ is what fails. No internet needed: the Web
    client honours HTTPS_PROXY, and a proxy nothing listens on makes slack.com unreachable here for sure."""
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    line = _one_line(
        rearview("run", env={**env, "HTTPS_PROXY": f"http://127.0.0.1:{_closed_port()}"}, cwd=tmp_path)
    )
    assert line.startswith("rearview: cannot reach Slack at slack.com"), line
    assert "SLACK_API_URL" not in line
    assert "network" in line
    assert "HTTPS_PROXY" in line  # the proxy is part of the way there, so it is named too
    assert not (tmp_path / "rearview.db").exists()


def test_an_unreachable_slack_api_url_that_was_set_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/"
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url}
    line = _one_line(rearview("run", env=env, cwd=tmp_path))
    assert line.startswith(f"rearview: SLACK_API_URL: cannot reach Slack at {url}"), line


# ---------------------------------------------------------------- before `rearview migrate`


def test_report_before_migrate_says_to_migrate_and_creates_nothing(tmp_path: Path) -> None:
    line = _one_line(rearview("report", "1", env={}, cwd=tmp_path))
    assert "run `rearview migrate`" in line, line
    assert list(tmp_path.iterdir()) == []


def test_report_on_an_empty_database_file_says_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rearview.db").write_bytes(b"")  # what earlier versions left behind
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///rearview.db")
    assert main(["report", "1"]) == 2
    assert capsys.readouterr().err == (
        "rearview: DATABASE_URL: the database is not ready (it has no tables yet); run `rearview migrate` first\n"
    )


def test_a_migrated_database_is_ready(migrated_url: str) -> None:
    assert unmigrated(migrated_url) is None


def test_a_database_behind_the_code_says_which_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0006")
    assert unmigrated(url) == "its schema is at revision 0006, this version needs " + _head_revision()


def _head_revision() -> str:
    return max(p.name[:4] for p in (ROOT / "storage" / "migrations" / "versions").glob("[0-9]*_*.py"))


# ---------------------------------------------------------------- schema changes, as the README says


def _documented_schema_change() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Schema changes:.*?```sh\n(.*?)```", readme, re.DOTALL)
    assert match, "the README shows the schema-change commands in a ```sh block after 'Schema changes:'"
    return match.group(1)


def test_the_readmes_schema_change_commands_work_on_a_fresh_checkout(tmp_path: Path) -> None:
    """Run as written, on a copy of the code with no database, they make the next revision, named like the
    others; with the models unchanged it changes nothing."""
    checkout = tmp_path / "checkout"
    for package in ("bot", "storage", "messages"):
        shutil.copytree(ROOT / package, checkout / package, ignore=shutil.ignore_patterns("__pycache__"))
    versions = checkout / "storage" / "migrations" / "versions"
    numbers = [int(p.name[:4]) for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py")]
    following = f"{max(numbers) + 1:04d}"
    script = _documented_schema_change()
    assert re.search(r"--rev-id \d{4}", script), script
    script = re.sub(r"--rev-id \d{4}", f"--rev-id {following}", script)  # the README's example number
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, "-euo", "pipefail", "-c", script],
        cwd=checkout,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (made,) = versions.glob(f"{following}_*.py")
    assert re.fullmatch(rf"{following}_[a-z0-9_]+\.py", made.name), made.name
    text = made.read_text()
    assert f"down_revision: str | None = '{max(numbers):04d}'" in text
    assert re.search(r"def upgrade\(\) -> None:\n(\s*#.*\n)*\s*pass\n", text), text
