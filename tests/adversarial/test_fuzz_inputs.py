"""Property-based fuzzing of the text people type: every /retro subcommand's arguments, items sent by DM
or in a kickoff thread, every modal's inputs (submitted through the real router, by its person and by an
outsider, menus and pickers forged too), and signed requests to the running bot over HTTP.

Whatever the text, the bot answers without an unexpected exception (never a 500), nothing it sends carries
a live mention or link that came from the text (Slack would ping or link it), no template is evaluated
(`{{ 7*7 }}` stays literal), and a modal's inline errors, which Slack shows as plain text, carry no markup
of ours.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from bot.errors import DomainError
from bot.listeners import AREAS, action_items, collection, retros
from bot.listeners.requests import Command, Posted, Submission, ViewState
from bot.listeners.routing import answer_command, answer_submission
from bot.services import Services
from bot.services.reports import build_report
from messages import action_items as action_messages
from messages import closing, common, deadlines, items, new_retro, rounds, survey
from messages import kudos as kudos_messages
from messages import plan as plan_messages
from messages import schedule as schedule_messages
from messages import trackers as tracker_messages
from messages.common import VALUE_ACTION
from storage.models import ActionItem, Retro, RetroPlan, RetroSchedule, Turn
from tests.conftest import Bot, FakeClock
from tests.factories import add_participants, make_item, make_retro
from tests.fakeslack import BOT_USER_ID
from tests.integration.helpers import CHANNEL, FACILITATOR, team
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Where the database does not matter, one backend: PostgreSQL refuses NUL and enforces column lengths, so
# every test that stores what was typed runs on both.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
MODAL_FUZZ = settings(FUZZ, max_examples=25, database=None)  # per modal: eleven of them

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
    '{{ "tmpl" ~ "evaluated" }}',
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
SUBCOMMANDS = ["new", "status", "close", "report", "export", "escalate", "cancel", "history", "help", "action", "actions", "mine",
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
    """The unit tests' services: real ones, a recording gateway, the outbox delivered when it is read; with
    a REARVIEW_SECRET, so that the tracker modal stores what it is given."""
    return build_services(engine, clock, gateway, RecordingJobs(), secret="fuzz-" + "k" * 27)


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
    # Through the parser, as the bot reads Slack's event (it drops what no keyboard types, such as NUL).
    event = {
        "type": "message",
        "channel": "DUBOB" if in_dm else channel,
        "user": "UBOB",
        "ts": f"2.{next(_channels)}",
        "text": slack_escaped(text),
        "channel_type": "im" if in_dm else "channel",
    }
    if not in_dm:
        event["thread_ts"] = "1.0"
    posted = Posted.parse({"team_id": "T1"}, event)
    assert posted is not None
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


@SQLITE_ONLY  # the factory stores the text; what is under test is the rendering
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


# ---------------------------------------------------------------- every other modal, through the router

SUBMISSIONS = {route.callback_id: route for area in AREAS for route in area.submissions}
# Markup Slack would render in mrkdwn; a modal's inline errors are plain text, so none may come from us.
MARKUP = re.compile(r"\*[^*\n]+\*|(?<![\w])_[^_\n]+_(?![\w])|~[^~\n]+~|`[^`\n]+`|<[@#!][^>\n]*>")
EVALUATED = "tmplevaluated"  # what the NASTY template below would render to


def typed(text: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": text}


def picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def forged_or(*valid: str) -> st.SearchStrategy[str]:
    """A select's value: one of its options, or what a forged payload carries instead."""
    return st.one_of(st.sampled_from(valid), texts)


def submit(
    services: Services, callback_id: str, user: str, metadata: dict[str, Any], values: dict[str, Any]
) -> Acks:
    """A submission as Bolt would hand it over, answered by the real router (its error mapping included)."""
    state = ViewState({block: {VALUE_ACTION: value} for block, value in values.items()})
    request = Submission(team_id="T1", user_id=user, callback_id=callback_id, view_id=f"V{next(_channels)}",
                         metadata=metadata, state=state)  # fmt: skip
    acks = Acks()
    answer_submission(services, SUBMISSIONS[callback_id], request, acks)
    return acks


def assert_answered_safely(acks: Acks, gateway: RecordingGateway, values: dict[str, Any]) -> None:
    """One ack; nothing live and no template evaluated anywhere; inline errors in plain words (markup
    only where the person typed it)."""
    assert len(acks.calls) == 1, acks.calls
    # Slack shows a modal's inline errors as plain text: what the person typed, quoted there, is not live
    # (and escaping it would show `&lt;`); everything else is rendered.
    assert_nothing_live(
        [{k: v for k, v in call.items() if k != "errors"} for call in acks.calls], gateway.sent
    )
    typed_text = "\n".join(_strings(values))
    assert EVALUATED not in json.dumps([acks.calls, gateway.sent], ensure_ascii=False, default=str)
    for block, message in (acks.calls[0].get("errors") or {}).items():
        made = [m for m in MARKUP.findall(message) if m not in typed_text]
        assert not made, f"the error on {block} shows markup as plain text: {message!r}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


@dataclass(frozen=True)
class Modal:
    callback_id: str
    user: str
    setup: Callable[[Session, FakeClock], dict[str, Any]]  # the state it is submitted in -> its metadata
    values: st.SearchStrategy[dict[str, Any]]  # block id -> what the input holds

    def __str__(self) -> str:
        return self.callback_id


def _collecting(session: Session, clock: FakeClock) -> Retro:
    retro = make_retro(session, channel_id=f"CM{next(_channels)}", created_at=clock(),
                       deadline=clock() + timedelta(days=2), custom_questions=["What surprised you?"])  # fmt: skip
    add_participants(session, retro.id, "UBOB")
    return retro


def _action_item(session: Session, clock: FakeClock) -> dict[str, Any]:
    retro = make_retro(session, channel_id=f"CM{next(_channels)}", phase="completed", closed_at=clock())
    action_item = ActionItem(team_id="T1", retro_id=retro.id, text="Fix CI", owner_id="UOWN", owner_name="Owen",
                             due_date=(clock() + timedelta(days=7)).date(), created_at=clock())  # fmt: skip
    session.add(action_item)
    session.commit()
    return {"action_id": action_item.id}


def _bobs_item(session: Session, clock: FakeClock) -> dict[str, Any]:
    retro = _collecting(session, clock)
    item = make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", author_id="UBOB")
    return {"item_id": item.id}


def _running_turn(session: Session, clock: FakeClock) -> dict[str, Any]:
    retro = make_retro(session, channel_id=f"CM{next(_channels)}", phase="discussing", created_at=clock())
    make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
    turn = Turn(team_id="T1", retro_id=retro.id, position=1, user_id="UBOB", status="active", starts_at=clock(),
                due_at=clock() + timedelta(hours=4))  # fmt: skip
    session.add(turn)
    session.add(Turn(team_id="T1", retro_id=retro.id, position=2, user_id="UCAROL"))
    session.commit()
    return {"turn_id": turn.id}


def _on_the_ballot(session: Session, clock: FakeClock) -> dict[str, Any]:
    retro = make_retro(session, channel_id=f"CM{next(_channels)}", phase="voting", created_at=clock(),
                       voting_deadline=clock() + timedelta(days=1))  # fmt: skip
    item = make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
    return {"item_id": item.id}


def _facilitators_plan(session: Session, clock: FakeClock) -> dict[str, Any]:
    """A release's plan UFAC facilitates: nobody else may edit it."""
    plan = RetroPlan(team_id="T1", channel_id=f"CM{next(_channels)}", source="release", release_version="1.0",
                     facilitator_id="UFAC", planned_start=clock() + timedelta(days=1), created_at=clock(),
                     updated_at=clock())  # fmt: skip
    session.add(plan)
    session.commit()
    return {"plan_id": plan.id}


def _facilitators_schedule(session: Session, clock: FakeClock) -> dict[str, Any]:
    """A channel whose schedule UFAC made: someone outside its rotation may not change it."""
    channel = f"CM{next(_channels)}"
    session.add(RetroSchedule(team_id="T1", channel_id=channel, created_by="UFAC", facilitator_id="UFAC",
                              updated_at=clock()))  # fmt: skip
    session.commit()
    return {"channel_id": channel}


def _facilitated_channel(session: Session, clock: FakeClock) -> dict[str, Any]:
    """A channel whose latest retro UFAC facilitated: UFAC sets its tracker, nobody else."""
    retro = make_retro(session, channel_id=f"CM{next(_channels)}", phase="completed", created_at=clock())
    return {"channel_id": retro.channel_id}


_categories = forged_or("went_well", "went_wrong", "to_improve")
_days = st.one_of(st.dates().map(date.isoformat), texts)
_moments = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), texts)

MODALS = [
    Modal(action_messages.ACTION_CALLBACK, "UFAC",
          lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              action_messages.WHAT_BLOCK: texts.map(typed),
              action_messages.OWNER_BLOCK: forged_or("UBOB", "UFAC").map(lambda u: {"selected_user": u}),
              action_messages.DUE_BLOCK: st.one_of(st.sampled_from(["tomorrow", "due 2026-12-20", "by friday"]),
                                                texts).map(typed),
              action_messages.PRIORITY_BLOCK: forged_or("high", "medium", "low").map(picked),
              action_messages.LINK_BLOCK: st.one_of(texts, texts.map(lambda t: f"https://ok.example/{t}")).map(typed),
          })),
    Modal(action_messages.DUE_CALLBACK, "UOWN", _action_item,
          st.fixed_dictionaries({action_messages.DUE_BLOCK: _days.map(lambda d: {"selected_date": d})})),
    Modal(action_messages.CANT_CALLBACK, "UOWN", _action_item,
          st.fixed_dictionaries({action_messages.REASON_BLOCK: texts.map(typed)})),
    Modal(closing.CLOSE_CALLBACK, "UFAC", lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              closing.STAKEHOLDER_BLOCK: forged_or("C1", "CSTAKE").map(lambda c: {"selected_conversation": c}),
          })),
    Modal(deadlines.EXTEND_CALLBACK, "UFAC", lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              deadlines.EXTEND_DEADLINE_BLOCK: _moments.map(lambda m: {"selected_date_time": m}),
          })),
    Modal(items.ITEM_CALLBACK, "UBOB", lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              items.ITEM_CATEGORY_BLOCK: _categories.map(picked),
              items.ITEM_TEXT_BLOCK: texts.map(typed),
              common.ANONYMOUS_BLOCK: st.sampled_from([[], [common.ANONYMOUS_VALUE]]).map(
                  lambda o: {"selected_options": [{"value": v} for v in o]}),
          })),
    Modal(items.ITEM_CALLBACK + ":edit", "UBOB", _bobs_item,
          st.fixed_dictionaries({items.ITEM_CATEGORY_BLOCK: _categories.map(picked),
                                 items.ITEM_TEXT_BLOCK: texts.map(typed)})),
    Modal(survey.SURVEY_CALLBACK, "UBOB", lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              survey.survey_block_id("went_well"): texts.map(typed),
              survey.survey_block_id("went_wrong"): texts.map(typed),
              survey.survey_block_id("to_improve"): texts.map(typed),
              survey.SURVEY_SMOOTHNESS_BLOCK: forged_or("1", "3", "5").map(picked),
              survey.SURVEY_SURPRISE_BLOCK: texts.map(typed),
              survey.custom_block_id(0): texts.map(typed),
              kudos_messages.KUDOS_USER_BLOCK: forged_or("UFAC", "UBOB").map(lambda u: {"selected_user": u}),
              kudos_messages.KUDOS_TEXT_BLOCK: texts.map(typed),
          })),
    Modal(kudos_messages.KUDOS_CALLBACK, "UBOB", lambda session, clock: {"retro_id": _collecting(session, clock).id},
          st.fixed_dictionaries({
              kudos_messages.KUDOS_USER_BLOCK: forged_or("UFAC", "UBOB").map(lambda u: {"selected_user": u}),
              kudos_messages.KUDOS_TEXT_BLOCK: texts.map(typed),
          })),
    Modal(rounds.TURN_COMMENT_CALLBACK, "UBOB", _running_turn,
          st.fixed_dictionaries({
              rounds.TURN_ITEM_BLOCK: st.one_of(forged_or("1", "2").map(picked), texts.map(typed)),
              rounds.TURN_TEXT_BLOCK: texts.map(typed),
          })),
    Modal(rounds.TURN_ADD_CALLBACK, "UBOB", _running_turn,
          st.fixed_dictionaries({items.ITEM_CATEGORY_BLOCK: _categories.map(picked),
                                 items.ITEM_TEXT_BLOCK: texts.map(typed)})),
    Modal(rounds.ROOT_CAUSE_CALLBACK, "UFAC", _on_the_ballot,
          st.fixed_dictionaries({rounds.ROOT_CAUSE_BLOCK: texts.map(typed)})),
    Modal(schedule_messages.SCHEDULE_CALLBACK, "UFAC", _facilitators_schedule,
          st.fixed_dictionaries({
              schedule_messages.CADENCE_BLOCK: forged_or("weekly:2", "monthly", "none").map(picked),
              schedule_messages.WEEKDAY_BLOCK: forged_or("0", "4").map(picked),
              schedule_messages.TIME_BLOCK: forged_or("10:00", "23:59").map(lambda t: {"selected_time": t}),
              schedule_messages.COLLECTION_BLOCK: forged_or("3", "14").map(picked),
              schedule_messages.FACILITATION_BLOCK: forged_or("fixed", "rotation").map(picked),
              schedule_messages.FACILITATOR_BLOCK: forged_or("UFAC", "UBOB").map(lambda u: {"selected_user": u}),
              schedule_messages.ROTATION_BLOCK: st.lists(forged_or("UFAC", "UBOB"), max_size=3).map(
                  lambda us: {"selected_users": us}),
              new_retro.NEW_QUESTIONS_BLOCK: texts.map(typed),
              new_retro.NEW_FORMAT_BLOCK: forged_or("start_stop_continue", "4ls").map(picked),
              schedule_messages.RELEASE_RULE_BLOCK: forged_or("every", "significant").map(picked),
              schedule_messages.WINDOW_BLOCK: forged_or("7", "30").map(picked),
              schedule_messages.UNREVIEWED_BLOCK: forged_or("start", "wait").map(picked),
          })),
    Modal(plan_messages.PLAN_EDIT_CALLBACK, "UFAC", _facilitators_plan,
          st.fixed_dictionaries({
              new_retro.NEW_TITLE_BLOCK: texts.map(typed),
              plan_messages.PLAN_START_BLOCK: _moments.map(lambda m: {"selected_date_time": m}),
              plan_messages.PLAN_DAYS_BLOCK: forged_or("3", "14").map(picked),
              new_retro.NEW_PARTICIPANTS_BLOCK: st.lists(forged_or("UFAC", "UBOB"), max_size=3).map(
                  lambda us: {"selected_users": us}),
              new_retro.NEW_FORMAT_BLOCK: forged_or("start_stop_continue", "4ls").map(picked),
              new_retro.NEW_QUESTIONS_BLOCK: texts.map(typed),
              new_retro.NEW_VOTES_BLOCK: forged_or("1", "3").map(picked),
          })),
    # Addresses where nothing listens: a saved connection's check is refused at once, never sent out.
    Modal(tracker_messages.TRACKER_CALLBACK, "UFAC", _facilitated_channel,
          st.fixed_dictionaries({
              tracker_messages.KIND_BLOCK: forged_or("github", "jira", "webhook", "none").map(picked),
              tracker_messages.URL_BLOCK: forged_or("http://127.0.0.1:9/hook", "").map(typed),
              tracker_messages.PROJECT_BLOCK: forged_or("acme/ops", "OPS").map(typed),
              tracker_messages.EMAIL_BLOCK: forged_or("ops@acme.test").map(typed),
              tracker_messages.SECRET_BLOCK: texts.map(typed),
          })),
]  # fmt: skip


def test_every_modal_is_fuzzed() -> None:
    """A new modal gets its row in MODALS (the new-retro modal has its own test above)."""
    fuzzed = {modal.callback_id.partition(":")[0] for modal in MODALS} | {new_retro.NEW_RETRO_CALLBACK}
    assert fuzzed == set(SUBMISSIONS)


def _fuzzed(callback_id: str) -> Callable[..., None]:
    """One test per modal (hypothesis draws its inputs from its own strategy)."""
    modal = next(m for m in MODALS if m.callback_id == callback_id)

    @MODAL_FUZZ
    @given(values=modal.values, outsider=st.booleans())
    def test(services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway,
             values: dict[str, Any], outsider: bool) -> None:  # fmt: skip
        """Submitted by the person it was opened for, or by anyone else (a forged payload: refused)."""
        for user, name in (
            ("UFAC", "fac"),
            ("UBOB", "bob"),
            ("UCAROL", "carol"),
            ("UOWN", "owen"),
            ("UOUT", "x"),
        ):
            gateway.human(user, name)
        with Session(engine) as session:
            metadata = modal.setup(session, clock)
        user = "UOUT" if outsider else modal.user
        acks = submit(services, modal.callback_id.partition(":")[0], user, metadata, values)
        assert_answered_safely(acks, gateway, values)
        if outsider:
            assert acks.calls[0].get("response_action") == "errors", "someone else's modal is refused"

    return test


test_the_action_item_modal = _fuzzed(action_messages.ACTION_CALLBACK)
test_the_change_due_date_modal = _fuzzed(action_messages.DUE_CALLBACK)
test_the_cant_do_modal = _fuzzed(action_messages.CANT_CALLBACK)
test_the_close_modal = _fuzzed(closing.CLOSE_CALLBACK)
test_the_extend_deadline_modal = _fuzzed(deadlines.EXTEND_CALLBACK)
test_the_add_item_modal = _fuzzed(items.ITEM_CALLBACK)
test_the_edit_item_modal = _fuzzed(items.ITEM_CALLBACK + ":edit")
test_the_survey_modal = _fuzzed(survey.SURVEY_CALLBACK)
test_the_turn_comment_modal = _fuzzed(rounds.TURN_COMMENT_CALLBACK)
test_the_turn_add_modal = _fuzzed(rounds.TURN_ADD_CALLBACK)
test_the_root_cause_modal = _fuzzed(rounds.ROOT_CAUSE_CALLBACK)
test_the_schedule_modal = _fuzzed(schedule_messages.SCHEDULE_CALLBACK)
test_the_plan_edit_modal = _fuzzed(plan_messages.PLAN_EDIT_CALLBACK)
test_the_kudos_modal = _fuzzed(kudos_messages.KUDOS_CALLBACK)
test_the_tracker_modal = _fuzzed(tracker_messages.TRACKER_CALLBACK)


# ---------------------------------------------------------------- the signed HTTP path, end to end

HTTP_FUZZ = settings(FUZZ, max_examples=25, database=None)


@SQLITE_ONLY  # the same services as above, whose database paths are fuzzed on both backends
@HTTP_FUZZ
@given(subcommand=st.sampled_from(SUBCOMMANDS), text=texts, title=texts, questions=texts)
def test_signed_requests_over_http(bot: Bot, subcommand: str, text: str, title: str, questions: str) -> None:
    """Fuzzed text in signed requests to the running bot (a slash command, the new-retro modal's submission):
    every answer is a 200, and nothing live from the text reaches the fake Slack (its messages, ephemerals
    and responses)."""
    if CHANNEL not in bot.fake.channels:
        team(bot)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, f"{subcommand} {slack_escaped(text)}")
    assert reply.status == 200, reply.body
    channel = f"CHTTP{next(_channels)}"  # a channel of its own: /retro new opens the modal every time
    bot.fake.add_channel(channel, channel.lower(), [FACILITATOR, BOT_USER_ID])
    bot.slack.command(FACILITATOR, channel, "new")
    bot.settle()
    view_id = next(
        v for v, view in reversed(bot.fake.views.items()) if view.get("callback_id") == "retro_new"
    )
    values = {new_retro.NEW_TITLE_BLOCK: title, new_retro.NEW_QUESTIONS_BLOCK: questions}
    submitted = bot.slack.submit(FACILITATOR, view_id, values)
    assert submitted.status == 200, submitted.body
    bot.settle()
    answers = [reply.body, submitted.body, [r.body for r in bot.fake.responses]]
    posted = [{"text": m.text, "blocks": m.blocks} for m in bot.fake.messages]
    assert_nothing_live([a for a in answers if not str(a).startswith('{"response_action": "errors"')], posted)
