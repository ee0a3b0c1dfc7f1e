"""No request body reaches any log, at any level (issue 12): neither through the front door nor from Bolt
itself, which wrote whole bodies of requests whose signature failed."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest

from tests.adversarial.test_signatures import FORM, _post, _signed
from tests.conftest import Bot
from tests.integration.helpers import team

MARKER = "anonymous-secret-7f3a"


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The worst case: every logger at DEBUG, Bolt's and slack_sdk's included."""
    names = ["slack_bolt", "slack_sdk", "rearview.bolt", "bot", "waitress"]
    before = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def _body(text: str) -> bytes:
    return urlencode(
        {"command": "/retro", "text": text, "team_id": "T0TEAM", "user_id": "UBOB", "channel_id": "CRELEASES"}
    ).encode()


def test_forged_and_signed_requests_leave_no_body_in_the_log(
    bot: Bot, everything_logged: pytest.LogCaptureFixture
) -> None:
    team(bot)
    body = _body(f"anonymous {MARKER} " + "x" * 5000)
    now = str(int(time.time()))
    attempts = [
        {"Content-Type": FORM},
        {**_signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
        _signed(body, timestamp=str(int(now) - 3600)),
        _signed(body, secret="wrong-secret"),
        {**_signed(body), "X-Slack-Request-Timestamp": "soon"},
        _signed(body),  # a good one: its reply echoes the text, and Bolt logs replies at DEBUG
    ]
    for headers in attempts:
        _post(bot, body, headers)
    bot.settle()
    logged = "\n".join(r.getMessage() for r in everything_logged.records)
    assert MARKER not in logged
    assert "xxxxxxxxxx" not in logged


def test_bolt_itself_logs_no_body_when_a_signature_fails(
    bot: Bot, everything_logged: pytest.LogCaptureFixture
) -> None:
    """Past the front door (Socket Mode, a future route): Bolt's own check refuses and logs, without the body."""
    body = _body(f"anonymous {MARKER}").decode()
    request = BoltRequest(
        body=body,
        headers={
            "content-type": FORM,
            "x-slack-request-timestamp": str(int(time.time())),
            "x-slack-signature": "v0=" + "0" * 64,
        },
    )
    response = bot.runtime.app.dispatch(request)
    assert response.status == 401
    refused = [r for r in everything_logged.records if "signature" in r.getMessage().lower()]
    assert refused, "Bolt still says that it refused a request"
    logged = "\n".join(r.getMessage() for r in everything_logged.records)
    assert MARKER not in logged
