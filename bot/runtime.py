"""One running Rearview: database, Slack client, Bolt app, scheduler and the front door."""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Connection, Engine, event

from bot import jobs, outbox_writer
from bot.app import build_app, make_wsgi_app
from bot.clock import Clock, utc_now
from bot.config import ConfigError, Settings
from bot.dispatcher import Dispatcher
from bot.gateway import WebApiGateway, make_web_client
from bot.scheduler import ApsJobs, build_scheduler
from bot.services import Services
from bot.tasks import Effects
from storage.db import make_engine, upgrade

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    app: App
    scheduler: BackgroundScheduler
    services: Services
    dispatcher: Dispatcher
    # Every database connection open now, by id: what kill() leaves behind, bury() closes.
    connections: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        delivery_clock: Clock | None = None,
        rng: random.Random | None = None,
        listener_executor: Executor | None = None,
        paused: bool = False,
    ) -> Runtime:
        """Everything `rearview run` starts, in its order. The keywords exist for the tests, which run this
        same code with their clock, a clock for delivery retries they can move on, a fixed round-robin
        order and a scheduler that fires jobs only when the test's clock says so (`paused`)."""
        client = make_web_client(token=settings.bot_token, base_url=settings.slack_api_url)
        verify_token(client, settings.slack_api_url)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url, pool_size=settings.ack_threads + settings.workers + 4)
        connections = _tracked(engine)
        # APScheduler holds its own lock while it reads its table. On SQLite, where this process's
        # transactions take turns (storage/db.py), the job store gets an engine of its own: a thread in a
        # transaction that schedules a job would otherwise wait for the scheduler's lock while the
        # scheduler waits for its turn. WAL lets it read beside any transaction.
        job_engine = (
            make_engine(settings.database_url, pool_size=2, take_turns=False)
            if engine.dialect.name == "sqlite"
            else engine
        )
        scheduler = build_scheduler(job_engine)
        gateway = WebApiGateway(client)
        services = Services.build(
            engine=engine,
            gateway=gateway,
            clock=clock,
            jobs=ApsJobs(scheduler, engine),
            secret=settings.secret,
            rng=rng,
        )
        dispatcher = Dispatcher(
            engine=engine,
            gateway=gateway,
            clock=delivery_clock or clock,
            effects=Effects(services),
            workers=settings.workers,
        )
        if settings.secret is None:
            logger.warning(
                "REARVIEW_SECRET is not set: anonymous authors' keyed hashes use a key stored in the database. "
                "Set REARVIEW_SECRET to keep the key apart from the data."
            )
        jobs.bind(services)
        # Socket Mode payloads are not signed; Bolt skips verification for them.
        app = build_app(
            client=client,
            signing_secret=settings.signing_secret or "",
            services=services,
            # Sized for acks only: listeners read, write and ack; deliveries have their own workers.
            listener_executor=listener_executor
            or ThreadPoolExecutor(max_workers=settings.ack_threads, thread_name_prefix="ack"),
        )
        # Jobs missed while the bot was down run now, and they need the bound services.
        scheduler.start(paused=paused)
        # What a crash lost between a commit and the scheduler is derived again from the retros' state.
        services.timers.reconcile()
        outbox_writer.on_new_work(dispatcher.wake)
        dispatcher.start()
        return cls(
            settings=settings,
            engine=engine,
            app=app,
            scheduler=scheduler,
            services=services,
            dispatcher=dispatcher,
            connections=connections,
        )

    def wsgi_app(self) -> WSGIApplication:
        return make_wsgi_app(self.app, self.engine, signing_secret=self.settings.signing_secret or "")

    def stop(self, *, grace: float = 10.0) -> bool:
        """What a clean exit does: stop taking work, let deliveries in flight finish (for at most `grace`
        seconds), shut the scheduler down. A crash skips it; the next start resumes from the database.
        True if every delivery in flight finished."""
        outbox_writer.forget(self.dispatcher.wake)
        finished = self.dispatcher.stop(timeout=grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        jobs.unbind()
        self.engine.dispose()
        return finished

    def kill(self) -> None:
        """For crash tests: stop as `kill -9` would. Nothing this runtime does afterwards reaches the database
        or the job store; the next runtime finds the state exactly as it was."""
        outbox_writer.forget(self.dispatcher.wake)
        self.dispatcher.halt()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        # Threads still running (a task between two steps, a listener) behave as if the process were gone:
        # their next commit fails and their next Slack call finds no connection.
        event.listen(self.engine, "commit", _dead)
        self.app.client.base_url = "http://127.0.0.1:9/"

    def bury(self, timeout: float = 10.0) -> None:
        """After kill(): once its leftover threads have given up, close its connections, as the operating
        system closes a dead process's sockets (crash tests start the next runtime in the same process)."""
        self.dispatcher.stop(timeout=timeout)
        self.engine.dispose()
        for dbapi in list(self.connections.values()):
            with contextlib.suppress(Exception):
                dbapi.close()
        self.connections.clear()

    def serve_forever(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop cleanly (and exit 0)."""
        stopping = threading.Event()
        server = None
        if self.settings.socket_mode:
            assert self.settings.app_token is not None
            logger.info("Rearview is connecting to Slack in Socket Mode")
            handler = SocketModeHandler(self.app, self.settings.app_token)
            try:
                handler.connect()  # type: ignore[no-untyped-call]
            except SlackApiError as exc:
                self.stop(grace=0)
                raise ConfigError(
                    f"SLACK_APP_TOKEN: Slack refused the app-level token ({exc.response.get('error')}); "
                    "create one with the connections:write scope under Basic Information > App-Level Tokens"
                ) from None
        else:
            from waitress.server import create_server

            server = create_server(
                self.wsgi_app(), host=self.settings.host, port=self.settings.port, threads=8
            )
            # waitress says "Serving on …" only from serve(); say it once the socket is bound, as it would.
            server.print_listen("Serving on http://{}:{}")
            logger.info(
                "Rearview serves Slack at http://%s:%s/slack/events", self.settings.host, self.settings.port
            )

        def on_signal(signum: int, _frame: object) -> None:
            logger.info("received %s: stopping", signal.Signals(signum).name)
            stopping.set()
            if server is not None:
                server.close()  # waitress' loop then returns

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            if server is not None:
                try:
                    server.run()
                except OSError:
                    if not stopping.is_set():
                        raise
            else:
                stopping.wait()
        finally:
            finished = self.stop()
            logger.info(
                "Rearview stopped%s",
                "" if finished else " (some deliveries were still in flight: they resume at the next start)",
            )


def _tracked(engine: Engine) -> dict[int, Any]:
    """The engine's open DBAPI connections, kept up to date."""
    connections: dict[int, Any] = {}

    def opened(dbapi: Any, _record: object) -> None:
        connections[id(dbapi)] = dbapi

    def closed(dbapi: Any, _record: object) -> None:
        connections.pop(id(dbapi), None)

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    event.listen(engine, "close_detached", closed)
    return connections


class Killed(RuntimeError):
    """What a killed runtime's leftover threads get instead of a commit."""


def _dead(connection: Connection) -> None:
    # Undo the transaction as the operating system would for a dead process, so that it holds no lock.
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None:
        dbapi.rollback()
    raise Killed("this runtime was killed")


def verify_token(client: WebClient, api_url: str) -> None:
    """Fail fast, in one line, when Slack refuses the token or cannot be reached."""
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({exc.response.get('error')}); "
            "copy the Bot User OAuth Token again from OAuth & Permissions"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise ConfigError(f"SLACK_API_URL: cannot reach Slack at {api_url} ({exc})") from None
