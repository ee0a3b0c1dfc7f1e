"""Slack's requests are checked before Bolt sees them: size first (at most 1 MB is read), then the signature
and its timestamp, then the shape of the body. Every refusal is a short 4xx that echoes nothing of the
request and logs nothing of its body; Bolt gets only signed, well-formed requests (its own check runs
again and passes)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is refused unread
MAX_SKEW = 5 * 60  # seconds between Slack's timestamp and our clock, as Slack recommends
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class _Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_first(
    slack: WSGIApplication, *, signing_secret: str, clock: Callable[[], float] = time.time
) -> WSGIApplication:
    """`slack` (Bolt's WSGI handler) behind the checks; 401 unsigned or stale, 413 too big, 400 malformed."""

    secret = signing_secret.encode()

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            body = _read(environ)
            _check_signature(secret, environ, body, clock())
            _check_shape(body, environ.get("CONTENT_TYPE") or "")
        except _Refused as refused:
            # The reason only: never the body, the signature or anything else the sender chose.
            logger.info("refused a request to %s: %s", environ.get("PATH_INFO"), refused.reason)
            answer = json.dumps({"error": refused.reason}).encode()
            start_response(
                refused.status, [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
            )
            return [answer]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return slack(environ, start_response)

    return wsgi


def _read(environ: WSGIEnvironment) -> bytes:
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared and not declared.isdigit():
        raise _Refused("400 Bad Request", "bad Content-Length")
    if declared and int(declared) > MAX_BODY:
        raise _Refused("413 Content Too Large", "request body over 1 MB")
    stream = environ.get("wsgi.input")
    limit = min(int(declared), MAX_BODY + 1) if declared else MAX_BODY + 1
    body = stream.read(limit) if stream is not None and limit else b""
    if len(body) > MAX_BODY:
        raise _Refused("413 Content Too Large", "request body over 1 MB")
    return bytes(body)


def _check_signature(secret: bytes, environ: WSGIEnvironment, body: bytes, now: float) -> None:
    """Slack's v0 scheme (the one slack_sdk.signature.SignatureVerifier implements), over the raw bytes: a
    body that is not UTF-8 is refused as malformed after this, not with a crash inside the check."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    if not secret:
        raise _Refused("401 Unauthorized", "no signing secret is configured")
    if not timestamp or not signature:
        raise _Refused("401 Unauthorized", "unsigned request")
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > MAX_SKEW:
        raise _Refused("401 Unauthorized", "stale or invalid timestamp")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not _SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature):
        raise _Refused("401 Unauthorized", "invalid signature")


def _check_shape(body: bytes, content_type: str) -> None:
    """The body parses as Bolt will parse it (slack_bolt.request.internals.parse_body), into an object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused("400 Bad Request", "body is not UTF-8") from None
    if not text:
        return
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == "application/json" or text.startswith("{"):
            if not isinstance(json.loads(text), dict):
                raise ValueError("not an object")
            return
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        if "payload" in fields and not isinstance(json.loads(fields["payload"]), dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        raise _Refused("400 Bad Request", "malformed body") from None
