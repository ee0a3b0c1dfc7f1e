"""The front door over real HTTP: the signature is checked before anything is parsed, and every refusal is a
clean 4xx, never a 500 with a traceback (issue 12)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import Bot
from tests.integration.helpers import team
from tests.slackclient import SIGNING_SECRET

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_BODY = 1024 * 1024

HELP = urlencode(
    {
        "command": "/retro",
        "text": "help",
        "team_id": "T0TEAM",
        "user_id": "UBOB",
        "channel_id": "CRELEASES",
        "trigger_id": "1.2.3",
        "response_url": "http://127.0.0.1:9/respond",
    }
)


def _sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    return (
        "v0="
        + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )


def _post(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    url = urlsplit(bot.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _signed(
    body: bytes, content_type: str = FORM, *, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": _sign(body, ts, secret),
    }


def _now() -> str:
    return str(int(time.time()))


CASES: list[tuple[str, bytes, dict[str, str], int]] = []


def case(name: str, body: bytes, headers: dict[str, str] | None, status: int) -> None:
    CASES.append((name, body, headers or {}, status))


body = HELP.encode()
case("no signature headers", body, {"Content-Type": FORM}, 401)
case("no signature", body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "NOW"}, 401)
case("no timestamp", body, {"Content-Type": FORM, "X-Slack-Signature": "v0=" + "0" * 64}, 401)
case("forged signature", body, {**_signed(body), "X-Slack-Signature": "v0=" + "0" * 64}, 401)
case("signature of another body", body, {**_signed(body + b"&x=1")}, 401)
case("malformed signature", body, {**_signed(body), "X-Slack-Signature": "forged"}, 401)
case("stale timestamp", body, None, 401)  # signed 6 minutes ago, see below
case("future timestamp", body, None, 401)  # signed 6 minutes ahead
case("non-numeric timestamp", body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "soon"}, 401)
case("float timestamp", body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "1e9"}, 401)
case("huge timestamp", body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "9" * 400}, 401)
case("wrong secret", body, {"secret": "not-the-signing-secret"}, 401)
case("oversized, signed", b"text=" + b"a" * MAX_BODY, {}, 413)
case("oversized, unsigned", b"text=" + b"a" * MAX_BODY, {"Content-Type": FORM}, 413)
case("malformed JSON, signed", b'{"type": "event_callback", ', {"json": "1"}, 400)
case("JSON that is not an object, signed", b"[1, 2, 3]", {"json": "1"}, 400)
case("malformed form payload, signed", b"payload=%7Bnot-json", {}, 400)
case("form payload that is not an object, signed", b"payload=%5B1%5D", {}, 400)
case("form that does not parse, signed", b"payload", {}, 400)
case("not UTF-8, signed", b"text=\xff\xfe", {}, 400)
case("good", body, {}, 200)


def _headers(name: str, body: bytes, given: dict[str, str]) -> dict[str, str]:
    if name == "stale timestamp":
        return _signed(body, timestamp=str(int(time.time()) - 6 * 60))
    if name == "future timestamp":
        return _signed(body, timestamp=str(int(time.time()) + 6 * 60))
    if "secret" in given:
        return _signed(body, secret=given["secret"])
    if "json" in given:
        return _signed(body, JSON)
    if not given:
        return _signed(body)
    headers = dict(given)
    if headers.get("X-Slack-Request-Timestamp") == "NOW":
        headers["X-Slack-Request-Timestamp"] = _now()
    if (
        "X-Slack-Request-Timestamp" in headers
        and "X-Slack-Signature" not in headers
        and name != "no signature"
    ):
        # Signed correctly but for the timestamp as given: only the timestamp is wrong.
        headers["X-Slack-Signature"] = _sign(body, headers["X-Slack-Request-Timestamp"])
    return headers


@pytest.mark.parametrize(("name", "body", "given", "status"), CASES, ids=[c[0] for c in CASES])
def test_the_signature_matrix(bot: Bot, name: str, body: bytes, given: dict[str, str], status: int) -> None:
    team(bot)
    got, answer = _post(bot, body, _headers(name, body, given))
    assert got == status, answer[:300]
    assert b"Traceback" not in answer
    if status != 200:
        # A refusal says what is wrong in a few words and echoes nothing of the request.
        assert len(answer) < 200
        assert b"aaaa" not in answer


def test_a_good_request_is_answered_and_a_signed_url_verification_too(bot: Bot) -> None:
    team(bot)
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode()
    status, answer = _post(bot, body, _signed(body, JSON))
    assert status == 200
    assert b"abc" in answer
