"""Wiring: the Bolt app, its listeners, and the HTTP front door."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot import listeners
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
    bolt_logger.addFilter(_TOKEN_SKIPPED)  # the same object each time: a restart adds no second filter
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


def make_wsgi_app(app: App, engine: Engine, *, signing_secret: str) -> WSGIApplication:
    """Slack's requests at POST /slack/events (verified before Bolt parses them: bot.front_door), and a
    health check at GET /healthz."""
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
