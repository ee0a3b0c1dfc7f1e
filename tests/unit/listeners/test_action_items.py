"""Action-item handlers, called directly with typed requests: what they answer and what they change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import DomainError, InvalidInput, NotFacilitator
from bot.listeners import action_items as handlers
from bot.listeners.answers import OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission, ViewState
from bot.services import Services
from messages import action_items, kickoff, rounds
from messages.common import VALUE_ACTION
from storage.models import ActionItem, Retro
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import NOW, make_item, make_retro
from tests.recording import RecordingGateway


def _retro(engine: Engine, **overrides: Any) -> Retro:
    with Session(engine) as session:
        retro = make_retro(session, **overrides)
        session.refresh(retro)
        session.expunge(retro)
        return retro


def _action_item(
    engine: Engine, retro_id: int, *, owner: str = "U1", text: str = "Fix <CI>", **extra: Any
) -> int:
    with Session(engine) as session:
        row = ActionItem(
            team_id="T1",
            retro_id=retro_id,
            text=text,
            owner_id=owner,
            due_date=NOW.date() + timedelta(days=7),
            created_at=NOW,
            **extra,
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def _row(engine: Engine, action_item_id: int) -> ActionItem:
    with Session(engine) as session:
        row = session.get(ActionItem, action_item_id)
        assert row is not None
        return row


def _click(action_id: str, value: str, **overrides: Any) -> Click:
    fields: dict[str, Any] = {
        "team_id": "T1",
        "user_id": "UFAC",
        "action_id": action_id,
        "value": value,
        "trigger_id": "trig",
        "response_url": "https://hooks.example/r",
        "channel_id": "C1",
        "message_ts": "1.1",
    }
    fields.update(overrides)
    return Click(**fields)


def _submission(
    callback_id: str, metadata: dict[str, Any], values: dict[str, Any], user: str = "UFAC"
) -> Submission:
    state = {block: {VALUE_ACTION: value} for block, value in values.items()}
    return Submission(
        team_id="T1",
        user_id=user,
        callback_id=callback_id,
        view_id="V1",
        metadata=metadata,
        state=ViewState(state),
    )


def _command(subcommand: str, args: str, user: str = "UFAC") -> Command:
    return Command(team_id="T1", channel_id="C1", user_id=user, subcommand=subcommand, args=args)


# ------------------------------------------------------------ commands


def test_retro_action_creates_and_says_whom_it_told(services: Services, engine: Engine) -> None:
    _retro(engine)
    answer = handlers.create(services, _command("action", "Automate the <rollback> <@U2> tomorrow"))
    assert isinstance(answer, Reply)
    assert answer.text.startswith(":dart: Action item for <@U2>, due ")
    assert ">Automate the &lt;rollback&gt;\nI've told them by DM." in answer.text
    with Session(engine) as session:
        (row,) = session.exec(select(ActionItem)).all()
    assert (row.text, row.owner_id, row.due_date) == (
        "Automate the <rollback>",
        "U2",
        NOW.date() + timedelta(days=1),
    )


def test_retro_action_without_an_owner_shows_the_usage(services: Services, engine: Engine) -> None:
    _retro(engine)
    assert handlers.create(services, _command("action", "Automate it")) == Reply(action_items.ACTION_USAGE)


def test_retro_action_explains_what_to_fix(services: Services, engine: Engine) -> None:
    _retro(engine)
    with pytest.raises(InvalidInput) as caught:
        handlers.create(services, _command("action", "Fix it <@U2> someday <maybe>"))
    assert list(caught.value.errors) == ["due"]
    explained = handlers._explain_create(caught.value)
    assert explained.startswith("I couldn't create that action item: ")
    assert "&lt;maybe&gt;" in explained and "<maybe>" not in explained
    assert explained.endswith(action_items.ACTION_USAGE)


def test_retro_actions_lists_the_open_ones(services: Services, engine: Engine) -> None:
    retro = _retro(engine)
    _action_item(engine, retro.id)
    answer = handlers.listing(services, _command("actions", "mine", user="U1"))
    assert isinstance(answer, Reply)
    assert answer.text == "Open action items of <@U1>"
    assert answer.blocks is not None and "Fix &lt;CI&gt;" in mrkdwn_text(answer.blocks)
    assert handlers.listing(services, _command("actions", "everything")) == Reply(
        "Usage: `/retro actions [mine | @person | all]`."
    )


# ------------------------------------------------------------ clicks


def test_a_results_menu_opens_the_action_item_modal_from_that_result(
    services: Services, engine: Engine
) -> None:
    retro = _retro(engine, phase="actions")
    with Session(engine) as session:
        item_id = make_item(
            session, retro_id=retro.id, category="went_wrong", text="Slow <review>", number=2
        ).id
    answer = handlers.result_menu(services, _click(rounds.RESULT_MENU_ACTION, f"action:{item_id}"))
    assert isinstance(answer, OpenModal) and not answer.push
    assert answer.view["callback_id"] == action_items.ACTION_CALLBACK
    assert "From *#2* Slow &lt;review&gt;" in mrkdwn_text(answer.view["blocks"])
    root = handlers.result_menu(services, _click(rounds.RESULT_MENU_ACTION, f"root:{item_id}"))
    assert isinstance(root, OpenModal) and root.view["callback_id"] == rounds.ROOT_CAUSE_CALLBACK
    with pytest.raises(DomainError, match="That item no longer exists"):
        handlers.result_menu(services, _click(rounds.RESULT_MENU_ACTION, "action:999"))


def test_new_action_item_is_for_the_facilitator(services: Services, engine: Engine) -> None:
    retro = _retro(engine, phase="actions")
    answer = handlers.new_action_item(services, _click(rounds.NEW_ACTION_ACTION, str(retro.id)))
    assert isinstance(answer, OpenModal) and answer.view["callback_id"] == action_items.ACTION_CALLBACK
    with pytest.raises(NotFacilitator):
        handlers.new_action_item(services, _click(rounds.NEW_ACTION_ACTION, str(retro.id), user_id="U9"))


def test_previous_action_item_decides_and_redraws_the_kickoff(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    earlier = _retro(engine, title="Sprint 11", phase="completed", closed_at=NOW)
    open_one = _action_item(engine, earlier.id)
    clock.advance(days=1)
    current = _retro(engine, title="Sprint 12", created_at=clock(), kickoff_ts="1.1")
    click = _click(kickoff.PREVIOUS_ACTION, f"done:{open_one}")
    assert handlers.previous_action_item(services, click) is None
    assert _row(engine, open_one).status == "done"
    assert [p["ts"] for kind, p in gateway.sent if kind == "update"] == ["1.1"]
    with pytest.raises(DomainError, match="That action item is already done"):
        handlers.previous_action_item(services, click)
    with pytest.raises(DomainError, match="That retro no longer exists"):
        handlers.previous_action_item(
            services, _click(kickoff.PREVIOUS_ACTION, f"done:{open_one}", message_ts="9.9")
        )
    assert current.id is not None


def test_done_answers_in_place(services: Services, engine: Engine) -> None:
    retro = _retro(engine)
    action_item_id = _action_item(engine, retro.id)
    answer = handlers.done(services, _click(action_items.DONE_ACTION, str(action_item_id), user_id="U1"))
    assert answer == Respond(":white_check_mark: Done: Fix &lt;CI&gt;. Thank you!")
    assert _row(engine, action_item_id).status == "done"
    with pytest.raises(NotFacilitator) as refused:
        handlers.done(services, _click(action_items.DONE_ACTION, str(action_item_id), user_id="U9"))
    assert refused.value.message == (
        "Only the owner, <@U1>, or the facilitator, <@UFAC>, can change this action item."
    )
    assert "<@" not in refused.value.plain and "can change this action item" in refused.value.plain


def test_change_due_and_cannot_do_open_their_modals(services: Services, engine: Engine) -> None:
    retro = _retro(engine)
    action_item_id = _action_item(engine, retro.id)
    due = handlers.change_due(services, _click(action_items.DUE_ACTION, str(action_item_id), user_id="U1"))
    assert isinstance(due, OpenModal) and due.view["callback_id"] == action_items.DUE_CALLBACK
    assert ">Fix &lt;CI&gt;" in mrkdwn_text(due.view["blocks"])
    cant = handlers.cannot_do(services, _click(action_items.CANT_ACTION, str(action_item_id), user_id="U1"))
    assert isinstance(cant, OpenModal) and cant.view["callback_id"] == action_items.CANT_CALLBACK
    with pytest.raises(DomainError, match="That action item no longer exists"):
        handlers.change_due(services, _click(action_items.DUE_ACTION, "999"))
    with pytest.raises(DomainError, match="That action item no longer exists"):
        handlers.cannot_do(services, _click(action_items.CANT_ACTION, "999"))


# ------------------------------------------------------------ submissions


def _action_item_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        action_items.WHAT_BLOCK: {"value": "Automate the rollback"},
        action_items.OWNER_BLOCK: {"selected_user": "U2"},
        action_items.DUE_BLOCK: {"value": None},
        action_items.PRIORITY_BLOCK: {"selected_option": {"value": "high"}},
        action_items.LINK_BLOCK: {"value": "https://wiki.example/rollback"},
    }
    values.update(overrides)
    return values


def test_submitted_creates_the_action_item(
    services: Services, engine: Engine, gateway: RecordingGateway
) -> None:
    retro = _retro(engine, phase="actions")
    submitted = _submission(
        action_items.ACTION_CALLBACK, {"retro_id": retro.id, "source_item_id": None}, _action_item_form()
    )
    assert handlers.submitted(services, submitted) is None
    with Session(engine) as session:
        (row,) = session.exec(select(ActionItem)).all()
    assert (row.text, row.owner_id, row.priority, row.link) == (
        "Automate the rollback",
        "U2",
        "high",
        "https://wiki.example/rollback",
    )
    (told,) = gateway.messages_to("U2")
    assert told["text"] == "New action item for you: Automate the rollback"


def test_submitted_errors_are_keyed_by_field(services: Services, engine: Engine) -> None:
    retro = _retro(engine, phase="actions")
    form = _action_item_form(
        **{
            action_items.WHAT_BLOCK: {"value": " "},
            action_items.OWNER_BLOCK: {},
            action_items.DUE_BLOCK: {"value": "someday"},
            action_items.PRIORITY_BLOCK: {"selected_option": {"value": "urgent"}},
            action_items.LINK_BLOCK: {"value": "wiki"},
        }
    )
    with pytest.raises(InvalidInput) as caught:
        handlers.submitted(services, _submission(action_items.ACTION_CALLBACK, {"retro_id": retro.id}, form))
    assert set(caught.value.errors) == {"text", "owner", "due", "priority", "link"}
    assert set(caught.value.errors) <= set(action_items.FIELDS)
    assert caught.value.errors["owner"] == "Pick an owner: an action item is never left unowned."


def test_due_submitted_moves_the_date_or_says_why_not(services: Services, engine: Engine) -> None:
    retro = _retro(engine)
    action_item_id = _action_item(engine, retro.id)
    later = NOW.date() + timedelta(days=20)
    chosen = {action_items.DUE_BLOCK: {"selected_date": later.isoformat()}}
    assert (
        handlers.due_submitted(
            services, _submission(action_items.DUE_CALLBACK, {"action_id": action_item_id}, chosen, "U1")
        )
        is None
    )
    assert _row(engine, action_item_id).due_date == later
    past = {action_items.DUE_BLOCK: {"selected_date": date(2020, 1, 1).isoformat()}}
    with pytest.raises(InvalidInput) as caught:
        handlers.due_submitted(
            services, _submission(action_items.DUE_CALLBACK, {"action_id": action_item_id}, past, "U1")
        )
    assert caught.value.errors == {"due": "Pick today or a later date."}
    with pytest.raises(NotFacilitator):
        handlers.due_submitted(
            services, _submission(action_items.DUE_CALLBACK, {"action_id": action_item_id}, chosen, "U9")
        )


def test_cant_submitted_drops_it_and_tells_the_facilitator(
    services: Services, engine: Engine, gateway: RecordingGateway
) -> None:
    retro = _retro(engine)
    action_item_id = _action_item(engine, retro.id)
    empty = {action_items.REASON_BLOCK: {"value": "  "}}
    with pytest.raises(InvalidInput) as caught:
        handlers.cant_submitted(
            services, _submission(action_items.CANT_CALLBACK, {"action_id": action_item_id}, empty, "U1")
        )
    assert caught.value.errors == {"reason": "Say why, so the facilitator can find another way."}
    reason = {action_items.REASON_BLOCK: {"value": "No <access>"}}
    assert (
        handlers.cant_submitted(
            services, _submission(action_items.CANT_CALLBACK, {"action_id": action_item_id}, reason, "U1")
        )
        is None
    )
    row = _row(engine, action_item_id)
    assert (row.status, row.status_note) == ("dropped", "No <access>")
    (told,) = gateway.messages_to("UFAC")
    assert "*Reason:* No &lt;access&gt;" in told["text"]
    with pytest.raises(DomainError, match="This action item is already dropped"):
        handlers.cant_submitted(
            services, _submission(action_items.CANT_CALLBACK, {"action_id": action_item_id}, reason, "U1")
        )
