"""Property-based fuzzing of the text people type: every /retro subcommand's arguments, the new-retro
and action-item modals, and items sent by DM or in a kickoff thread.

Whatever the text, the bot answers without an unexpected exception, nothing it sends carries a live
mention or link that came from the text (Slack would ping or link it), and the report renders templates
as text (`{{ 7*7 }}` stays literal).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from bot.errors import DomainError
from bot.listeners import action_items, collection, retros
from bot.listeners.requests import Command, Posted, Submission, ViewState
from bot.listeners.routing import answer_command
from bot.services import Services
from bot.services.reports import build_report
from messages import new_retro
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# What an attacker would type: live mentions, spoofed links, templates, markup, control characters.
NASTY = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@UEVIL>",
    "<#CEVIL>",
    "<http://evil.test|click>",
    "<https://evil.test>",
    "<mailto:evil@evil.test|mail>",
    "{{ 7*7 }}",
    "{% if 1 %}x{% endif %}",
    "*bold* _it_ ~s~ `code` ```block```",
    "&amp; &lt; &gt; & < >",
    "\u202e\u0000\t\r\n",
    "\"'\\",
    "+ - * >",
    "x" * 1100,
]
LIVE = (
    "<!channel",
    "<!here",
    "<!everyone",
    "<@UEVIL",
    "<#CEVIL",
    "<http://evil",
    "<https://evil",
    "<mailto:",
)
SUBCOMMANDS = ["new", "status", "close", "report", "cancel", "history", "help", "action", "actions", "mine",
               "next", "frobnicate"]  # fmt: skip

texts = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=40)), min_size=0, max_size=4).map(
    " ".join
)
_channels = itertools.count(1)


@pytest.fixture(name="gateway")
def _gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture(name="services")
def _services(engine: Engine, clock: FakeClock, gateway: RecordingGateway) -> Services:
    """The unit tests' services: real ones, a recording gateway, the outbox delivered when it is read."""
    return build_services(engine, clock, gateway, RecordingJobs())


def slack_escaped(text: str) -> str:
    """What Slack sends for typed text (should_escape): &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rendered(payload: Any) -> Any:
    """What Slack renders as markup: plain_text objects and input values are shown as typed."""
    if isinstance(payload, dict):
        if payload.get("type") == "plain_text":
            return None
        return {k: _rendered(v) for k, v in payload.items() if k not in ("initial_value", "value")}
    if isinstance(payload, list | tuple):
        return [_rendered(v) for v in payload]
    return payload


def assert_nothing_live(*payloads: Any) -> None:
    seen = json.dumps(_rendered(payloads), ensure_ascii=False, default=str)
    for live in LIVE:
        at = seen.find(live)
        assert at < 0, f"{live!r} went out live: …{seen[max(0, at - 300) : at + 80]}…"


def retro_channel(engine: Engine, **fields: Any) -> tuple[str, int]:
    """A fresh channel with a retro collecting answers, so every example starts from the same state."""
    channel = f"CF{next(_channels)}"
    with Session(engine) as session:
        retro = make_retro(session, channel_id=channel, **fields)
        return channel, retro.id


class Acks:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@FUZZ
@given(subcommand=st.sampled_from(SUBCOMMANDS), text=texts)
def test_slash_command_arguments(
    services: Services, engine: Engine, gateway: RecordingGateway, subcommand: str, text: str
) -> None:
    gateway.human("UFAC", "fac")
    channel, _ = retro_channel(engine)
    payload = {"team_id": "T1", "channel_id": channel, "channel_name": "x", "user_id": "UFAC",
               "text": f"{subcommand} {slack_escaped(text)}", "trigger_id": "t", "response_url": "https://r.test/1"}  # fmt: skip
    request = Command.parse(payload)
    routes = {
        r.name: r for area in (retros.routes, action_items.routes, collection.routes) for r in area.commands
    }
    route = routes.get(request.subcommand) or routes["*"]
    acks = Acks()
    answer_command(services, route, request, acks)
    assert len(acks.calls) == 1
    assert_nothing_live(acks.calls, gateway.sent)


@FUZZ
@given(text=texts, owner_mention=st.booleans())
def test_action_command_with_an_owner(
    services: Services, engine: Engine, gateway: RecordingGateway, text: str, owner_mention: bool
) -> None:
    """Text around a real mention (which Slack sends unescaped): only that owner is mentioned."""
    gateway.human("UOWNER", "owner")
    channel, _ = retro_channel(engine)
    args = f"{slack_escaped(text)} <@UOWNER|owner> {slack_escaped(text) if owner_mention else 'tomorrow'}"
    request = Command.parse(
        {"team_id": "T1", "channel_id": channel, "user_id": "UFAC", "text": f"action {args}"}
    )
    route = next(r for r in action_items.routes.commands if r.name == "action")
    acks = Acks()
    answer_command(services, route, request, acks)
    assert_nothing_live(acks.calls, gateway.sent)


@FUZZ
@given(text=texts, in_dm=st.booleans())
def test_items_by_dm_and_in_the_thread(
    services: Services, engine: Engine, gateway: RecordingGateway, text: str, in_dm: bool
) -> None:
    gateway.human("UBOB", "bob")
    channel, _ = retro_channel(engine, kickoff_ts="1.0")
    posted = Posted(
        team_id="T1",
        channel_id="DUBOB" if in_dm else channel,
        user_id="UBOB",
        ts=f"2.{next(_channels)}",
        text=slack_escaped(text),
        thread_ts=None if in_dm else "1.0",
        in_dm=in_dm,
    )
    collection.posted(services, posted)
    assert_nothing_live(gateway.sent)


@FUZZ
@given(title=texts, questions=texts, notes=texts)
def test_the_new_retro_modal(
    services: Services, engine: Engine, gateway: RecordingGateway, title: str, questions: str, notes: str
) -> None:
    gateway.human("UFAC", "fac")
    channel = f"CN{next(_channels)}"
    gateway.members[channel] = ["UFAC"]
    modal = new_retro.new_retro_modal(channel_id=channel, title=title, now=services.clock())
    assert_nothing_live(modal)
    deadline = int(services.clock().timestamp()) + 86400
    values: dict[str, dict[str, Any]] = {
        new_retro.NEW_TITLE_BLOCK: {"value": {"type": "plain_text_input", "value": title}},
        new_retro.NEW_QUESTIONS_BLOCK: {"value": {"type": "plain_text_input", "value": questions}},
        new_retro.RELEASE_BLOCKS["notes"]: {"value": {"type": "plain_text_input", "value": notes}},
        new_retro.NEW_DEADLINE_BLOCK: {"value": {"type": "datetimepicker", "selected_date_time": deadline}},
    }
    request = Submission(team_id="T1", user_id="UFAC", callback_id=new_retro.NEW_RETRO_CALLBACK, view_id="V1",
                         metadata={"channel_id": channel}, state=ViewState(values))  # fmt: skip
    try:
        retros.new_retro_submitted(services, request)
    except DomainError as exc:
        assert_nothing_live(exc.plain)
        return
    assert_nothing_live(gateway.sent)


@FUZZ
@given(text=texts.map(lambda t: t.replace("\x00", "")))  # stored text passed the edge, which drops NUL
def test_the_report_renders_templates_as_text(services: Services, engine: Engine, text: str) -> None:
    typed = f"{{{{ 7*7 }}}} {text}"
    with Session(engine) as session:
        retro = make_retro(session, channel_id=f"CR{next(_channels)}", title=typed[:150], phase="completed")
        make_item(session, retro_id=retro.id, text=typed)
        report = build_report(session, retro)
    assert "{{ 7\\*7 }}" in report  # as typed (Markdown-escaped), never evaluated
    assert "49" not in report.replace(text, "")
