"""`POST /api/releases`: CI/CD and incident tools post a release outcome with a bearer token
(bot/services/releases.py). Not Slack's: no Slack signature, and never through Bolt. Nothing of a request's
body or token is logged; the answers are JSON."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.services.releases import MAX_BODY, Answer

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.services import Services

logger = logging.getLogger(__name__)

RELEASES_PATH = "/api/releases"
_REASONS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    422: "422 Unprocessable Content",
    500: "500 Internal Server Error",
    429: "429 Too Many Requests",
}


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json accepts them, JSON does not


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large")  # 1e400: infinite once read, and no database stores it
    return value


def releases(services: Services, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    try:
        answer = _answer(services, environ)
    except (
        Exception
    ) as exc:  # a bug or an outage: a database error quotes the request's values, so the class only
        logger.error("release post failed: %s", type(exc).__name__)
        answer = Answer(500, {"error": "Rearview could not take this release; try again later."})
    if answer.status >= 400:
        logger.info("release post answered %d", answer.status)  # the status only: never the body
    body = json.dumps(answer.body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *answer.headers]
    if answer.status == 405:
        headers.append(("Allow", "POST"))
    start_response(_REASONS[answer.status], headers)
    return [body]


def _answer(services: Services, environ: WSGIEnvironment) -> Answer:
    if environ.get("REQUEST_METHOD") != "POST":
        return Answer(405, {"error": "POST a release here, as JSON."})
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        return Answer(413, {"error": f"A release is at most {MAX_BODY // 1024} KB of JSON."})
    found = services.releases.authenticate(environ.get("HTTP_AUTHORIZATION") or "")
    if isinstance(found, Answer):
        return found
    stream = environ.get("wsgi.input")
    raw = stream.read(min(int(declared), MAX_BODY + 1) if declared else MAX_BODY + 1) if stream else b""
    if len(raw) > MAX_BODY:
        return Answer(413, {"error": f"A release is at most {MAX_BODY // 1024} KB of JSON."})
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Answer(
            400, {"error": "The body is not JSON; send Content-Type: application/json and a JSON object."}
        )
    return services.releases.receive(found, data)
