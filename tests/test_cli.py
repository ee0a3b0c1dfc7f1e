"""The `rearview` command: one-line errors with exit code 2, migrate, and `run` serving HTTP."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot.config import ConfigError, Settings
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackclient import SIGNING_SECRET, SlackClient

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "secret"}


def rearview(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------- settings


def test_defaults() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.database_url == "sqlite:///rearview.db"
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 3000, "INFO")
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode


def test_socket_mode_needs_no_signing_secret_and_postgres_urls_use_psycopg() -> None:
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "DATABASE_URL": "postgres://u:p@db/rv"}
    )
    assert settings.socket_mode
    assert settings.database_url == "postgresql+psycopg://u:p@db/rv"


def test_api_url_gets_its_trailing_slash() -> None:
    assert (
        Settings.from_env({**GOOD, "SLACK_API_URL": "http://proxy.local/api"}).slack_api_url
        == "http://proxy.local/api/"
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is not set"),
        ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN is a user token"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must be an app-level token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({**GOOD, "DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({**GOOD, "DATABASE_URL": "mysql://db/x"}, "DATABASE_URL uses 'mysql'"),
        ({**GOOD, "PORT": "http"}, "PORT must be a number"),
        ({**GOOD, "LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
        ({**GOOD, "SLACK_API_URL": "slack.com"}, "SLACK_API_URL must be an http(s) URL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=r"^" + names.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


# ---------------------------------------------------------------- the command


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = rearview("--help", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert "run" in result.stdout
    assert "migrate" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "rearview: SLACK_BOT_TOKEN is not set"),
        ({**GOOD, "SLACK_BOT_TOKEN": "xapp-1-x"}, "rearview: SLACK_BOT_TOKEN is an app-level token"),
        ({**GOOD, "DATABASE_URL": "::nonsense::"}, "rearview: DATABASE_URL is not a database URL"),
    ],
)
def test_run_with_bad_configuration_prints_one_line_and_exits_2(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    result = rearview("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(expected)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxp-from-dotenv\nSLACK_SIGNING_SECRET=s\n")
    result = rearview("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is a user token" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    result = rearview("migrate", env={"DATABASE_URL": "sqlite:///data.db"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'data.db'}")
    assert {"retro", "participant", "item", "action_item"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrate_on_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = rearview("migrate", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("rearview: DATABASE_URL: cannot use the database")
    assert result.stderr.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def fake_slack(fake: FakeSlack) -> FakeSlack:
    """The shared fake Slack (conftest), reset for this test."""
    return fake


def test_a_refused_token_is_one_line(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = {**GOOD, "SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_API_URL": fake_slack.api_url}
    result = rearview("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("rearview: SLACK_BOT_TOKEN: Slack refused the token")
    assert result.stderr.count("\n") == 1


def test_run_serves_slack_over_http(fake_slack: FakeSlack, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def pump() -> None:
        for line in stderr:
            lines.put(line)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    try:
        # waitress logs "Serving on ..." once the socket is bound: wait for that event.
        seen: list[str] = []
        while not any("Serving on" in line for line in seen):
            seen.append(lines.get(timeout=30))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as health:
            assert health.status == 200
            assert b'"database": "ok"' in health.read()

        fake_slack.add_user("UALICE", "alice")
        fake_slack.add_channel("CTEAM", "team", ["UALICE"])
        slack = SlackClient(bot_url=f"http://127.0.0.1:{port}", fake=fake_slack)
        reply, _ = slack.command("UALICE", "CTEAM", "new Sprint 12")
        assert reply.status == 200
        opened = fake_slack.wait_for(lambda: fake_slack.views)
        assert next(iter(opened.values()))["callback_id"] == "retro_new"
        # A request with a bad signature is refused.
        assert (
            slack.post(
                "command=%2Fretro", content_type="application/x-www-form-urlencoded", signature="v0=bad"
            ).status
            == 401
        )
        # It migrated its default SQLite database in the working directory.
        assert (tmp_path / "rearview.db").exists()
        # SIGTERM stops taking work, lets deliveries finish, shuts the scheduler down and exits 0.
        process.terminate()
        assert process.wait(timeout=15) == 0
        pumping.join(timeout=10)
        rest = []
        while not lines.empty():
            rest.append(lines.get_nowait())
        assert any("received SIGTERM: stopping" in line for line in rest), rest
        assert any("Rearview stopped" in line for line in rest), rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        pumping.join(timeout=10)  # it ends at the pipe's end of file; close only after it stopped reading
        stderr.close()


def test_run_with_an_app_token_uses_socket_mode(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-revoked",
        "SLACK_API_URL": fake_slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": str(_free_port()),  # Socket Mode binds HOST:PORT too (for /healthz and /api/releases)
    }
    result = rearview("run", env=env, cwd=tmp_path)
    (connect,) = fake_slack.calls_to("apps.connections.open")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        "rearview: SLACK_APP_TOKEN: Slack refused the app-level token"
    )
    assert "Traceback" not in result.stderr
    assert connect is not None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^REARVIEW_SECRET must be at least 32 characters"):
        Settings.from_env({**GOOD, "REARVIEW_SECRET": "short"})
    assert Settings.from_env({**GOOD, "REARVIEW_SECRET": "k" * 32}).secret == "k" * 32


def test_env_example_documents_every_variable_the_settings_read() -> None:
    config = (ROOT / "bot" / "config.py").read_text()
    read = set(re.findall(r'get\("([A-Z_]+)"\)', config))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read == documented


def test_debug_logging_never_includes_slack_request_bodies() -> None:
    import logging

    from bot.config import configure_logging

    configure_logging("DEBUG")
    for name in ("slack_bolt", "slack_sdk", "rearview.bolt"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.INFO, name


HEAVY = "{'matplotlib', 'dateparser', 'numpy', 'alembic', 'mako'}"


def _loaded_heavy(probe: str, heavy: str = HEAVY) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; {probe}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))",
        ],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_neither_the_cli_nor_the_running_bot_imports_matplotlib_dateparser_or_alembic() -> None:
    """matplotlib (~60 MiB, most of a second) is for `/retro history`'s chart only, dateparser for typed
    dates only, Alembic for migrating only: importing what `rearview run` and `rearview report` import must
    not load them (README "Performance": idle RSS and the CLI's wall time)."""
    assert _loaded_heavy("import bot.cli, bot.runtime, bot.app, bot.services.reports, storage.db") == "[]"


def test_the_report_command_imports_no_slack_client_scheduler_or_server() -> None:
    """`rearview report` builds a report from the database: the Bolt app, the scheduler and the web server
    (and so every service's dependencies, bot/services/__init__.py) stay unloaded."""
    probe = (
        "import bot.cli; from bot.services.reports import build_report; from storage.db import make_engine"
    )
    assert _loaded_heavy(probe, "{'slack_bolt', 'apscheduler', 'waitress'}") == "[]"
    assert (
        _loaded_heavy("import bot.services.container", "{'apscheduler'}") == "['apscheduler']"
    )  # it can fail


def test_starting_on_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    """What `rearview run` and `rearview report` check at start (`upgrade`, `unmigrated`) needs no Alembic
    when there is nothing to migrate (a fresh one is migrated by Alembic: test_migrate_creates_the_schema)."""
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'up.db'}"
    upgrade(url)
    probe = (
        f"from storage.db import upgrade, unmigrated; upgrade({url!r}); assert unmigrated({url!r}) is None"
    )
    assert _loaded_heavy(probe) == "[]"
