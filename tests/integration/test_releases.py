"""Release triggers over real HTTP (issue 14): a token from `rearview token create`, releases posted to the
running bot's `POST /api/releases`; the same release posted twice (and twice at once) makes one plan, a
rollback sends the plan at once, bad or revoked tokens and bad fields are refused, and the rate limit."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.services.releases import RATE_LIMIT
from storage.models import ApiToken, Retro, RetroPlan
from tests.conftest import Bot
from tests.fakeslack import TEAM_ID
from tests.integration.helpers import CHANNEL, FACILITATOR, close_retro, start_retro, team

NOW = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)  # in the future: the job store runs on real time


def post(
    bot: Bot, body: object, token: str | None, *, raw: bytes | None = None
) -> tuple[int, dict[str, Any], Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"{bot.url}/api/releases", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read()), answer.headers
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, json.loads(refused.read()), refused.headers


def make_token(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    capsys.readouterr()
    assert main(["token", "create", "--channel", CHANNEL, *args]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("rv_") and len(token) > 40
    return token


def plans(bot: Bot) -> list[RetroPlan]:
    with Session(bot.engine) as session:
        return list(session.exec(select(RetroPlan)))


def plan_dms(bot: Bot) -> list[str]:
    return [m.text for m in bot.fake.dms_to(FACILITATOR) if m.text.startswith("Retro plan")]


@pytest.fixture
def ready(bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """A channel whose last retro Alice ran (so she facilitates the next), at NOW."""
    monkeypatch.chdir(tmp_path)
    team(bot)
    bot.clock.now = NOW - timedelta(days=20)
    start_retro(bot)
    close_retro(bot)
    bot.settle()
    bot.clock.now = NOW
    return bot


def test_a_release_posted_twice_makes_one_plan_and_a_later_post_updates_it(
    ready: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = ready
    token = make_token(bot, monkeypatch, capsys)  # the only workspace the database knows
    release = {"version": "2.5.0", "deployed_at": "2027-05-02T15:00:00+02:00", "scope": "Payments"}
    status, body, _ = post(bot, release, token)
    assert status == 201, body
    assert body["result"] == "planned"
    # The retro window: 7 days after the deploy, by default.
    assert datetime.fromisoformat(body["plan"]["planned_start"]) == datetime(2027, 5, 9, 13, 0, tzinfo=UTC)
    bot.settle()
    assert plan_dms(bot) == ["Retro plan: Release 2.5.0 retro"]

    status, again, _ = post(bot, release, token)
    assert (status, again["plan"]["id"]) == (200, body["plan"]["id"])
    assert again["result"] == "unchanged: this release is planned already"
    status, updated, _ = post(bot, {**release, "hotfixes": ["Fix the rounding"]}, token)
    assert status == 200 and updated["result"].startswith("updated")
    bot.settle()
    (plan,) = plans(bot)
    assert plan.release["hotfixes"] == ["Fix the rounding"]
    assert len(plan_dms(bot)) == 2  # the plan again, with what changed (not for the same post again)

    # Two posts of a new version at the same moment: one plan (its retro a day after 2.5.0's).
    later = {"version": "2.6.0", "deployed_at": "2027-05-03T15:00:00+02:00"}
    answers: list[int] = []
    both = [
        threading.Thread(target=lambda: answers.append(post(bot, {**release, **later}, token)[0]))
        for _ in range(2)
    ]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert sorted(answers) == [200, 201]
    assert sorted(str(p.release_version) for p in plans(bot)) == ["2.5.0", "2.6.0"]

    # Once started, a post changes nothing.
    bot.clock.now = plan.planned_start
    bot.run_due_jobs()
    bot.settle()
    with Session(bot.engine) as session:
        started = session.exec(select(Retro).where(Retro.release_version == "2.5.0")).one()
    assert started.hotfixes == "Fix the rounding"
    status, unchanged, _ = post(bot, {**release, "scope": "Everything"}, token)
    assert status == 200 and unchanged["result"].startswith("unchanged")


def test_a_rollback_sends_the_plan_at_once(
    ready: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = ready
    token = make_token(bot, monkeypatch, capsys, "--team", TEAM_ID, "--name", "deploys")
    status, body, _ = post(
        bot,
        {"version": "2.5.1", "deployed_at": "2027-05-03T10:00:00Z", "rollbacks": "Rolled back after 20 min",
         "links": ["https://ci.example/run/1"], "metrics": {"error_rate": 0.07, "region": "eu"}},
        token,
    )  # fmt: skip
    assert status == 201, body
    assert body["result"] == "planned: at once, after a rollback or an incident"
    assert datetime.fromisoformat(body["plan"]["planned_start"]) == NOW + timedelta(hours=1)
    bot.settle()
    assert plan_dms(bot) == ["Retro plan: Release 2.5.1 retro"]
    bot.clock.now = NOW + timedelta(hours=1)
    bot.run_due_jobs()
    bot.settle()
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro).where(Retro.release_version == "2.5.1")).one()
    assert retro.rollbacks == "Rolled back after 20 min" and retro.phase == "collecting"


def test_token_and_validation_errors(
    ready: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = ready
    token = make_token(bot, monkeypatch, capsys)
    good = {"version": "3.0.0", "deployed_at": "2027-05-03T09:00:00Z"}
    assert post(bot, good, None)[0] == 401
    assert post(bot, good, "rv_not-a-token")[0] == 401
    status, body, _ = post(
        bot, {"deployed_at": "yesterday", "links": ["javascript:alert(1)"], "colour": 1}, token
    )
    assert status == 422
    assert set(body["errors"]) == {"version", "deployed_at", "links", "colour"}
    assert "ISO 8601" in body["errors"]["deployed_at"]
    assert post(bot, None, token, raw=b"{not json")[0] == 400
    for number in (
        b"NaN",
        b"Infinity",
        b"1e400",
    ):  # Python reads them, JSON has none, no database stores them
        raw = (
            b'{"version": "8.0.0", "deployed_at": "2027-05-03T09:00:00Z", "metrics": {"a": ' + number + b"}}"
        )
        assert post(bot, None, token, raw=raw)[0] == 400
    assert post(bot, None, token, raw=b"[" * 70_000)[0] == 413
    assert plans(bot) == []  # nothing stored by any of them

    # Revoked: refused from then on.
    with Session(bot.engine) as session:
        token_id = session.exec(select(ApiToken)).one().id
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{token_id}\tci\t{TEAM_ID}\t{CHANNEL}" in listed and token not in listed
    assert main(["token", "revoke", str(token_id)]) == 0
    assert post(bot, good, token)[0] == 401
    capsys.readouterr()
    assert main(["token", "revoke", "999"]) == 2
    assert main(["token", "create", "--channel", "general"]) == 2
    assert main(["token", "create", "--channel", CHANNEL, "--name", "a\tb\nfake\trow"]) == 2
    assert main(["token", "revoke", "99999999999999999999999"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "rearview: there is no token 999; `rearview token list` shows them",
        "rearview: --channel: 'general' is not a channel id; copy it from the channel's details (C…)",
        "rearview: --name: give a name of 1 to 100 printable characters, such as ci",
        "rearview: there is no token 99999999999999999999999; `rearview token list` shows them",
    ]


def test_the_endpoint_is_rate_limited_per_token(
    ready: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = ready
    first, second = make_token(bot, monkeypatch, capsys), make_token(bot, monkeypatch, capsys)
    bad = {"version": "", "deployed_at": "2027-05-03T09:00:00Z"}  # refused with 422: nothing else happens
    assert [post(bot, bad, first)[0] for _ in range(RATE_LIMIT)] == [422] * RATE_LIMIT
    status, body, headers = post(bot, bad, first)
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
    assert "try again in" in body["error"]
    assert post(bot, bad, second)[0] == 422  # another token has its own budget


def test_an_unexpected_failure_is_a_500_that_logs_nothing_of_the_release(
    ready: Bot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = ready
    token = make_token(bot, monkeypatch, capsys)

    def broken(_token: object, data: object) -> None:
        raise RuntimeError(f"database refused {data!r}")  # as a driver error quotes the parameters

    monkeypatch.setattr(bot.runtime.services.releases, "receive", broken)
    caplog.set_level("DEBUG")
    status, body, _ = post(
        bot, {"version": "9.9.9-secret-scope", "deployed_at": "2027-05-03T09:00:00Z"}, token
    )
    assert status == 500 and "try again later" in body["error"]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "release post failed: RuntimeError" in logged
    assert "secret-scope" not in logged and token not in logged
