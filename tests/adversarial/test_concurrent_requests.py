"""The same signed request many times at once, to the real bot over HTTP: the database and the fake Slack's
record show it done once. (The services' side of every button is in test_concurrent_clicks.py; this is the
whole path once, since it is slow.)"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, col, select

from storage.models import Delivery, Retro
from tests.conftest import Bot, FakeClock
from tests.fakeslack import APP_ID, TEAM_ID
from tests.integration.helpers import CHANNEL, FACILITATOR, start_retro, team
from tests.slackclient import Reply, _state

N = 10


def test_the_close_modal_submitted_ten_times_at_once_closes_and_publishes_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    team(bot)
    kickoff = start_retro(bot)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "close")
    assert reply.status == 200 and reply.body == "", reply.body
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    view = bot.fake.views[view_id]
    assert view["callback_id"] == "retro_close"
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "acme"},
        "user": {"id": FACILITATOR, "username": "alice", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": bot.fake.new_trigger(),
        "view": {**view, "state": {"values": _state(view, {})}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    body = urlencode({"payload": json.dumps(payload)})
    threaded = len(bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts))
    stamp = int(time.time())

    # Each request reads its own time, as in production: nothing merges them by a key made of the time.
    tick = threading.Lock()

    def ticking(self: FakeClock) -> datetime:
        with tick:
            self.now += timedelta(milliseconds=1)
            return self.now

    monkeypatch.setattr(FakeClock, "__call__", ticking)
    start = threading.Barrier(N)
    replies: list[Reply | None] = [None] * N

    def send(i: int) -> None:
        start.wait()
        replies[i] = bot.slack.post(body, content_type="application/x-www-form-urlencoded", timestamp=stamp)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    bot.settle()
    monkeypatch.undo()

    assert [(r.status, r.body) if r else None for r in replies] == [(200, "")] * N
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
        assert retro.phase == "completed"
        publications = session.exec(select(Delivery.key).where(col(Delivery.key).startswith("publish:")))
        assert len(list(publications)) == 1
    assert len(bot.fake.calls_to("files.completeUploadExternal")) == 1  # one retrospective.md
    assert len(bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)) == threaded + 1  # one summary
