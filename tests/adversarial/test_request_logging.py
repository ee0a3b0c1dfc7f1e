"""No request body reaches any log, at any level (issue 12): neither through the front door nor from Bolt
itself, which wrote whole bodies of requests whose signature failed."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk.socket_mode.builtin import SocketModeClient

from bot.runtime import _socket_mode_handler
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


def test_slack_sdk_logs_no_message_at_debug(bot: Bot, everything_logged: pytest.LogCaptureFixture) -> None:
    """slack_sdk's own loggers write whole Web API requests and responses and whole Socket Mode envelopes at
    DEBUG. With every level at DEBUG (a user's choice), the body filter still keeps them out: a Web API call
    through the bot's client, and a Socket Mode message through the runtime's handler and slack_sdk's own
    client (its default logger), each carrying the marker."""
    team(bot)
    bot.runtime.app.client.chat_postMessage(channel="CRELEASES", text=f"anonymous {MARKER}")
    envelope = json.dumps(
        {"envelope_id": "e1", "type": "events_api", "payload": {"event": {"type": "message", "text": MARKER}}}
    )
    settings = dataclasses.replace(bot.settings, app_token="xapp-1-test")
    handler = _socket_mode_handler(bot.runtime.app, settings)
    handler.client.socket_mode_request_listeners.clear()  # logged as received, never dispatched to the app
    plain = SocketModeClient(app_token="xapp-1-test", web_client=bot.runtime.app.client)
    try:
        for client in (handler.client, plain):
            client._on_message(envelope)
            client.logger.debug(f"Received bytes: b'{MARKER}'")  # as slack_sdk's internals log raw frames
    finally:
        handler.client.close()
        plain.close()
    sdk = [r for r in everything_logged.records if r.name.startswith(("slack_sdk", "rearview.bolt"))]
    assert any("Sending a request" in r.getMessage() for r in sdk), "slack_sdk still logs that it calls"
    assert any("on_message invoked" in r.getMessage() for r in sdk), "and that a message came"
    logged = "\n".join(r.getMessage() for r in everything_logged.records)
    assert MARKER not in logged
