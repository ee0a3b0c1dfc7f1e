"""Slack's edge cases at the command edge: text Slack escaped is unescaped once, the bot's membership and
group DMs are checked before the new-retro modal opens."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.listeners import action_items, retros
from bot.listeners.answers import OpenModal, Reply
from bot.listeners.requests import Command
from bot.services import Services
from messages import action_items as action_items_messages
from storage.models import ActionItem, Retro
from tests.factories import make_retro


def slash(text: str, **overrides: Any) -> Command:
    """A /retro payload as Slack sends it (should_escape: &, < and > arrive escaped)."""
    payload = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "releases",
        "user_id": "UFAC",
        "text": text,
        "trigger_id": "trig",
        "response_url": "https://hooks.slack.test/commands/1",
    }
    return Command.parse(payload | overrides)


def test_command_text_is_unescaped_once() -> None:
    assert slash("cancel A &amp; B &lt;3 &gt; all").args == "A & B <3 > all"
    # What the person typed literally as an entity stays as typed: unescaped once, not twice.
    assert slash("cancel &amp;amp; &amp;lt;").args == "&amp; &lt;"
    # Mentions and channel links are Slack's own markup, not escaped text: they stay.
    assert slash("action Fix it <@U1|nina> friday").args == "Fix it <@U1|nina> friday"


def test_a_cancel_reason_is_stored_as_typed(services: Services, engine: Engine) -> None:
    with Session(engine) as session:
        retro_id = make_retro(session).id
    retros.cancel(services, slash("cancel A &amp; B"))
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.cancel_reason == "A & B"


def test_report_finds_titles_with_escaped_characters(services: Services, engine: Engine) -> None:
    with Session(engine) as session:
        make_retro(session, title="R&D <beta> -> GA", phase="completed")
    found = services.reports.request_report_in(
        team_id="T1",
        channel_id="C1",
        which=slash("report R&amp;D &lt;beta&gt; -&gt; GA").args,
        user_id="UFAC",
    )
    assert found.title == "R&D <beta> -> GA"


def test_retro_action_reads_due_dates_as_people_type_them(services: Services, engine: Engine) -> None:
    with Session(engine) as session:
        make_retro(session)
    for typed in ("due 2026-12-20", "by Dec 20", "on 20 December"):
        answer = action_items.create(services, slash(f"action Fix &lt;CI&gt; <@U2|nina> {typed}"))
        assert isinstance(answer, Reply) and answer.text.startswith(":dart: Action item for <@U2>"), answer
    with Session(engine) as session:
        rows = session.exec(select(ActionItem)).all()
    assert {(row.text, str(row.due_date)) for row in rows} == {("Fix <CI>", "2026-12-20")}


def plain_texts(payload: object) -> list[str]:
    """Every plain_text object's text in a Block Kit payload: Slack shows them literally."""
    if isinstance(payload, dict):
        own = [str(payload["text"])] if payload.get("type") == "plain_text" else []
        return own + [t for value in payload.values() for t in plain_texts(value)]
    if isinstance(payload, list):
        return [t for value in payload for t in plain_texts(value)]
    return []


def test_the_new_retro_modal_names_the_channel_in_plain_text(services: Services) -> None:
    answer = retros.new(services, slash("new Sprint 12"))
    assert isinstance(answer, OpenModal)
    texts = plain_texts(answer.view)
    assert not [t for t in texts if re.search(r"<[#@!]|\*\w", t)], texts
    assert any("everyone in #releases" in t for t in texts)
    private = retros.new(services, slash("new", channel_name="privategroup"))
    assert isinstance(private, OpenModal)
    assert any("everyone in this channel" in t for t in plain_texts(private.view))


def test_a_typed_mention_is_not_taken_for_one(services: Services, engine: Engine) -> None:
    """`<@U…>` typed as text arrives escaped: it names nobody (a real mention arrives as Slack's markup)."""
    with Session(engine) as session:
        make_retro(session)
    assert action_items.listing(services, slash("actions &lt;@UEVIL&gt;")) == Reply(
        "Usage: `/retro actions [mine | @person | all]`."
    )
    assert action_items.create(services, slash("action Fix &lt;@UEVIL&gt; tomorrow")) == Reply(
        action_items_messages.ACTION_USAGE
    )
