"""Wiring: the Bolt app, its listeners, and the HTTP front door."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot import api, listeners
from bot.front_door import verify_first
from bot.services import Services

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)


def build_app(
    *, client: WebClient, signing_secret: str, services: Services, listener_executor: Executor | None = None
) -> App:
    """`client` carries the bot token; Bolt checks it with auth.test at start-up."""
    bolt_logger = logging.getLogger("rearview.bolt")
    # The same objects each time: a restart adds no second filter. Bolt's own loggers (slack_bolt.*) copy
    # these filters from this base logger when the app creates them.
    bolt_logger.addFilter(_TOKEN_SKIPPED)
    withhold_bodies(bolt_logger, client.logger)
    app = App(
        name="rearview",  # else Bolt reads the caller's source through inspect.stack(): slow on every start
        client=client,
        signing_secret=signing_secret,
        logger=bolt_logger,
        listener_executor=listener_executor,
    )
    listeners.register(app, services)

    @app.error
    def unexpected(error: Exception, body: dict[str, Any]) -> None:
        # Expected problems are answered by the listeners; this is for bugs and outages.
        logger.exception(
            "unhandled error for a %s payload", body.get("type") or body.get("command"), exc_info=error
        )

    return app


class _TokenSkippedFilter(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client (the same token) wins: not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_TOKEN_SKIPPED = _TokenSkippedFilter()


class _NoBodiesFilter(logging.Filter):
    """No request body reaches a log, at any level: Bolt writes whole bodies into some of its messages (a
    failed signature at INFO, the response and skipped events at DEBUG, unhandled requests as dicts), and
    a body can hold an anonymous DM with its sender. Such a message is kept up to where the body begins
    (the first `{` or the word "body") and the rest withheld; any message is kept to 300 characters."""

    _STARTS = re.compile(r"\{|body|event:|payload|message:|bytes:|data:", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = self._STARTS.search(message)
        if found is None and len(message) <= 300:
            return True
        cut = min(found.start() if found is not None else 300, 300)
        record.msg = message[:cut].rstrip(" (:") + " [request body withheld]"
        record.args = ()
        return True


NO_BODIES = _NoBodiesFilter()

# The loggers that write whole messages at DEBUG: Bolt's, and slack_sdk's (Web API requests and responses,
# Socket Mode envelopes and frames). A logger's filters apply only to its own records, not its children's,
# so each is named.
_BODY_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "slack_sdk.web.base_client",
    "slack_sdk.web.internal_utils",
    "slack_sdk.socket_mode.client",
    "slack_sdk.socket_mode.builtin.client",
    "slack_sdk.socket_mode.builtin.connection",
    "slack_sdk.socket_mode.builtin.internals",
    "rearview.bolt",
)
_BODY_PREFIXES = ("slack_bolt.", "slack_sdk.", "rearview.bolt.")


def withhold_bodies(*loggers: logging.Logger) -> None:
    """NO_BODIES on `loggers`, on slack_sdk's and Bolt's loggers, and on every logger below them that exists
    now: no request body reaches a log even when a user sets their levels to DEBUG (bot.config caps them at
    INFO too). Idempotent: a logger keeps one copy of a filter."""
    existing = [name for name in list(logging.Logger.manager.loggerDict) if name.startswith(_BODY_PREFIXES)]
    for name in (*_BODY_LOGGERS, *existing):
        logging.getLogger(name).addFilter(NO_BODIES)
    for logger in loggers:
        logger.addFilter(NO_BODIES)


def make_wsgi_app(app: App, engine: Engine, *, signing_secret: str, services: Services) -> WSGIApplication:
    """Slack's requests at POST /slack/events (verified before Bolt parses them: bot.front_door), a health
    check at GET /healthz, and the release endpoint at POST /api/releases (bot/api.py: a bearer token, not
    Slack's signature, and never through Bolt)."""
    bolt = SlackRequestHandler(app, path="/slack/events")
    slack = verify_first(bolt, signing_secret=signing_secret)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = _database_ok(engine)
            body = json.dumps({"ok": healthy, "database": "ok" if healthy else "unreachable"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/slack/events" and environ.get("REQUEST_METHOD") == "POST":
            return slack(environ, start_response)
        if environ.get("PATH_INFO") == api.RELEASES_PATH:
            return api.releases(services, environ, start_response)
        return bolt(environ, start_response)

    return wsgi


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not healthy"; the reason is in the log
        logger.exception("health check: database unreachable")
        return False
