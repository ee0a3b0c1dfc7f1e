"""One running Rearview: database, Slack client, Bolt app, scheduler and the front door."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import signal
import socket
import threading
from collections.abc import Iterator
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
from bot.acks import AckFirstExecutor
from bot.app import build_app, make_wsgi_app, withhold_bodies
from bot.clock import Clock, utc_now
from bot.config import DEFAULT_SLACK_API_URL, ConfigError, Settings
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
            listener_executor=AckFirstExecutor(
                listener_executor
                or ThreadPoolExecutor(max_workers=settings.ack_threads, thread_name_prefix="ack")
            ),
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
        return make_wsgi_app(
            self.app, self.engine, signing_secret=self.settings.signing_secret or "", services=self.services
        )

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
        """Serve until SIGTERM or SIGINT, then stop cleanly (and exit 0). HOST:PORT serves /healthz and
        /api/releases in both modes, and Slack's events in HTTP mode; Socket Mode adds its connection."""
        stopping = threading.Event()
        from waitress.server import create_server

        try:
            server = create_server(
                self.wsgi_app(), host=self.settings.host, port=self.settings.port, threads=8
            )
        except OSError as exc:  # taken since check_port() looked
            self.stop(grace=0)
            raise ConfigError(_cannot_listen(self.settings.host, self.settings.port, exc)) from None
        if self.settings.socket_mode:
            assert self.settings.app_token is not None
            logger.info("Rearview is connecting to Slack in Socket Mode")
            handler = _socket_mode_handler(self.app, self.settings)
            try:
                _connect(handler)
            except ConfigError:
                server.close()
                self.stop(grace=0)
                raise
        # waitress says "Serving on …" only from serve(); say it once the socket is bound, as it would.
        server.print_listen("Serving on http://{}:{}")
        if self.settings.socket_mode:
            logger.info(
                "Rearview serves /healthz and /api/releases at http://%s:%s",
                self.settings.host,
                self.settings.port,
            )
        else:
            logger.info(
                "Rearview serves Slack at http://%s:%s/slack/events", self.settings.host, self.settings.port
            )

        def on_signal(signum: int, _frame: object) -> None:
            logger.info("received %s: stopping", signal.Signals(signum).name)
            stopping.set()
            server.close()  # waitress' loop then returns

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            try:
                server.run()
            except OSError:
                if not stopping.is_set():
                    raise
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
        with _muted(client._logger):  # its own line about the failure would come before ours
            client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({exc.response.get('error')}); "
            "copy the Bot User OAuth Token again from OAuth & Permissions"
        ) from None
    except (SlackClientError, OSError) as exc:
        if api_url != DEFAULT_SLACK_API_URL:
            raise ConfigError(
                f"SLACK_API_URL: cannot reach Slack at {api_url} ({_reason(exc)}); check SLACK_API_URL "
                "and that this machine can reach it"
            ) from None
        raise ConfigError(
            f"cannot reach Slack at slack.com ({_reason(exc)}); check this machine's network connection"
            f"{_proxy_hint()}"
        ) from None


def check_port(host: str, port: int) -> None:
    """Before anything starts: fail in one line if HTTP mode could not listen on HOST:PORT."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _name, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
                probe.bind(address)
    except OSError as exc:
        raise ConfigError(_cannot_listen(host, port, exc)) from None


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"PORT: port {port} on {host} is already in use (another Rearview or another server); stop it, "
            "or set PORT (in .env or the environment) to a free port"
        )
    return f"HOST/PORT: cannot listen on {host}:{port} ({_reason(exc)}); set HOST and PORT to an address this machine can use"


def _socket_mode_handler(app: App, settings: Settings) -> SocketModeHandler:
    """Socket Mode with a logger of its own (under rearview.bolt, so never below INFO: messages stay out of
    the log) and a Web API client of its own that logs there too, so that the first connection can be quiet."""
    assert settings.app_token is not None
    socket_logger = logging.getLogger("rearview.bolt.socket_mode")
    withhold_bodies(socket_logger)  # a child logger: rearview.bolt's filters do not reach its records
    web_client = WebClient(base_url=settings.slack_api_url, logger=socket_logger, proxy=app.client.proxy)
    return SocketModeHandler(app, settings.app_token, logger=socket_logger, web_client=web_client)


def _connect(handler: SocketModeHandler) -> None:
    """The first Socket Mode connection, or one line saying why not (and the handler closed). Later drops
    are the library's to reconnect. Its log lines about a first failure are held back: the line says it."""
    errors: list[Exception] = []
    handler.client.on_error_listeners.append(errors.append)
    refused: SlackApiError | None = None
    with _muted(handler.client.logger):
        try:
            handler.connect()  # type: ignore[no-untyped-call]
        except SlackApiError as exc:
            refused = exc
        except (SlackClientError, OSError) as exc:
            errors.append(exc)
        connected = refused is None and handler.client.is_connected()
        handler.client.on_error_listeners.remove(errors.append)
        if not connected:
            handler.close()  # type: ignore[no-untyped-call]  # before its monitor tries again, aloud
    if refused is not None:
        raise ConfigError(
            f"SLACK_APP_TOKEN: Slack refused the app-level token ({refused.response.get('error')}); "
            "create one with the connections:write scope under Basic Information > App-Level Tokens"
        )
    if not connected:
        reason = _reason(errors[-1]) if errors else "no connection"
        raise ConfigError(
            f"SLACK_APP_TOKEN: cannot open the Socket Mode connection to Slack ({reason}); check this machine's "
            f"network connection (outgoing WebSockets to slack.com){_proxy_hint()}, or leave SLACK_APP_TOKEN "
            "empty to use HTTP mode"
        )


@contextlib.contextmanager
def _muted(target: logging.Logger) -> Iterator[None]:
    level = target.level
    target.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        target.setLevel(level)


def _reason(exc: BaseException) -> str:
    """The cause in a few words: "Connection refused", not "<urlopen error [Errno 111] Connection refused>"."""
    cause = getattr(exc, "reason", None)
    cause = cause if isinstance(cause, BaseException) else exc
    text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return text.splitlines()[0] if text.strip() else type(cause).__name__


def _proxy_hint() -> str:
    """slack_sdk takes a proxy from these variables, in this order."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        if os.environ.get(name, "").strip():
            return f" and the proxy in {name}"
    return ""
