"""The discussion's handlers, called directly: /retro next|skip|pause|resume, answering a turn, the
ballot's buttons and the root-cause notes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import DomainError, InvalidInput, NotFacilitator
from bot.listeners import discussion
from bot.listeners.answers import OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission, ViewState
from bot.services import Services
from bot.services.turns import TurnGone
from messages import items, rounds
from messages.common import VALUE_ACTION
from storage.models import Comment, Item, Retro, Turn
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import add_participants, make_item, make_retro
from tests.recording import RecordingGateway


def command(subcommand: str, user_id: str = "UFAC") -> Command:
    return Command(team_id="T1", channel_id="C1", user_id=user_id, subcommand=subcommand)


def click(action_id: str, value: str, user_id: str = "U1", **fields: Any) -> Click:
    return Click(team_id="T1", user_id=user_id, action_id=action_id, value=value, trigger_id="TR", **fields)


def submission(
    callback_id: str, metadata: dict[str, Any], values: dict[str, Any], user_id: str = "U1"
) -> Submission:
    state = ViewState({block: {VALUE_ACTION: value} for block, value in values.items()})
    return Submission(team_id="T1", user_id=user_id, callback_id=callback_id, metadata=metadata, state=state)


@pytest.fixture
def turn(engine: Engine, clock: FakeClock) -> tuple[int, int, int]:
    """A round-robin in C1 with U1's turn running and U2's waiting, on one numbered item: (retro, turn, item)."""
    with Session(engine) as session:
        retro = make_retro(session, title="Q3 <launch>", phase="discussing", created_at=clock())
        item = make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
        running = Turn(
            team_id="T1",
            retro_id=retro.id,
            position=1,
            user_id="U1",
            status="active",
            starts_at=clock(),
            due_at=clock() + timedelta(hours=4),
        )
        session.add(running)
        session.add(Turn(team_id="T1", retro_id=retro.id, position=2, user_id="U2"))
        session.commit()
        return retro.id, running.id, item.id


def turn_of(engine: Engine, turn_id: int) -> Turn:
    with Session(engine) as session:
        found = session.get(Turn, turn_id)
        assert found is not None
        return found


def retro_of(engine: Engine, retro_id: int) -> Retro:
    with Session(engine) as session:
        found = session.get(Retro, retro_id)
        assert found is not None
        return found


# ---------------------------------------------------------------- commands


def test_next_moves_the_retro_on(services: Services, engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        retro_id = make_retro(session, created_at=clock()).id
    answer = discussion.next_step(services, command("next"))
    assert isinstance(answer, Reply) and answer.text
    # Nobody takes part, so the round-robin is over as it begins and voting opens.
    assert retro_of(engine, retro_id).phase == "voting"
    with pytest.raises(NotFacilitator):
        discussion.next_step(services, command("next", user_id="U1"))


def test_skip_ends_the_running_turn(services: Services, engine: Engine, turn: tuple[int, int, int]) -> None:
    _retro_id, turn_id, _item_id = turn
    assert discussion.skip(services, command("skip")) == Reply("Skipped <@U1>'s turn.")
    assert turn_of(engine, turn_id).status == "skipped"


def test_skip_needs_a_running_round_robin(services: Services, engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        make_retro(session, title="Q3 <launch>", created_at=clock())
    with pytest.raises(DomainError) as refused:
        discussion.skip(services, command("skip"))
    assert refused.value.message == "*Q3 &lt;launch&gt;* has no round-robin running (phase: collecting)."


def test_pause_and_resume(services: Services, engine: Engine, turn: tuple[int, int, int]) -> None:
    retro_id, _turn_id, _item_id = turn
    assert discussion.pause(services, command("pause")) == Reply(
        "The round-robin is paused. `/retro resume` continues it where it stopped."
    )
    assert retro_of(engine, retro_id).paused_at is not None
    with pytest.raises(DomainError) as again:
        discussion.pause(services, command("pause"))
    assert again.value.message == "The round-robin is already paused. `/retro resume` continues it."
    assert discussion.resume(services, command("resume")) == Reply("The round-robin continues.")
    assert retro_of(engine, retro_id).paused_at is None
    with pytest.raises(DomainError) as running:
        discussion.resume(services, command("resume"))
    assert running.value.message == "The round-robin is not paused."


# ---------------------------------------------------------------- answering a turn


def test_turn_comment_opens_the_comment_modal(services: Services, turn: tuple[int, int, int]) -> None:
    _retro_id, turn_id, _item_id = turn
    answer = discussion.turn_comment(services, click(rounds.TURN_COMMENT_ACTION, str(turn_id)))
    assert isinstance(answer, OpenModal) and not answer.push
    assert answer.view["callback_id"] == rounds.TURN_COMMENT_CALLBACK
    assert "Flaky CI" in str(answer.view["blocks"])
    with pytest.raises(TurnGone) as theirs:
        discussion.turn_comment(services, click(rounds.TURN_COMMENT_ACTION, str(turn_id), user_id="U2"))
    assert theirs.value.message == "This is <@U1>'s turn, not yours: you can answer on your own turn."
    assert "<@" not in theirs.value.plain and theirs.value.plain.endswith(
        "not yours: you can answer on your own turn."
    )


def test_turn_add_opens_the_item_modal(services: Services, turn: tuple[int, int, int]) -> None:
    _retro_id, turn_id, _item_id = turn
    answer = discussion.turn_add(services, click(rounds.TURN_ADD_ACTION, str(turn_id)))
    assert isinstance(answer, OpenModal)
    assert answer.view["callback_id"] == rounds.TURN_ADD_CALLBACK
    with pytest.raises(TurnGone) as gone:
        discussion.turn_add(services, click(rounds.TURN_ADD_ACTION, "999"))
    assert gone.value.message == "That turn no longer exists."


def test_turn_pass_ends_the_turn_and_thanks_through_the_response_url(
    services: Services, engine: Engine, gateway: RecordingGateway, turn: tuple[int, int, int]
) -> None:
    _retro_id, turn_id, _item_id = turn
    request = click(rounds.TURN_PASS_ACTION, str(turn_id), response_url="https://hooks/r1")
    assert discussion.turn_pass(services, request) is None
    assert turn_of(engine, turn_id).status == "passed"
    responses = [p for kind, p in gateway.sent if kind == "response"]
    assert [(r["response_url"], r["text"]) for r in responses] == [
        ("https://hooks/r1", "You passed. Thanks! The next person is up.")
    ]
    with pytest.raises(TurnGone):
        discussion.turn_pass(services, request)


def test_turn_comment_submitted_records_the_comment(
    services: Services, engine: Engine, turn: tuple[int, int, int]
) -> None:
    _retro_id, turn_id, item_id = turn
    meta = {"turn_id": turn_id}
    with pytest.raises(InvalidInput) as no_item:
        discussion.turn_comment_submitted(
            services,
            submission(
                rounds.TURN_COMMENT_CALLBACK,
                meta,
                {rounds.TURN_ITEM_BLOCK: {"value": "7"}, rounds.TURN_TEXT_BLOCK: {"value": "Agreed"}},
            ),
        )
    assert no_item.value.errors == {"item": "Pick an item from the list (its number, like 12)."}
    assert set(rounds.TURN_COMMENT_FIELDS) == {"item", "text"}
    answer = discussion.turn_comment_submitted(
        services,
        submission(
            rounds.TURN_COMMENT_CALLBACK,
            meta,
            {
                rounds.TURN_ITEM_BLOCK: {"selected_option": {"value": "1"}},
                rounds.TURN_TEXT_BLOCK: {"value": " Agreed "},
            },
        ),
    )
    assert answer is None
    with Session(engine) as session:
        assert [(c.item_id, c.text) for c in session.exec(select(Comment))] == [(item_id, "Agreed")]
    assert turn_of(engine, turn_id).status == "answered"


def test_turn_add_submitted_adds_a_numbered_item(
    services: Services, engine: Engine, turn: tuple[int, int, int]
) -> None:
    _retro_id, turn_id, _item_id = turn
    meta = {"turn_id": turn_id}
    with pytest.raises(InvalidInput) as wrong:
        discussion.turn_add_submitted(
            services,
            submission(
                rounds.TURN_ADD_CALLBACK,
                meta,
                {
                    items.ITEM_CATEGORY_BLOCK: {"selected_option": {"value": "nonsense"}},
                    items.ITEM_TEXT_BLOCK: {"value": "Docs"},
                },
            ),
        )
    assert wrong.value.errors == {"category": "Pick one of this retro's categories."}
    assert rounds.TURN_ADD_FIELDS == {"category": items.ITEM_CATEGORY_BLOCK, "text": items.ITEM_TEXT_BLOCK}
    answer = discussion.turn_add_submitted(
        services,
        submission(
            rounds.TURN_ADD_CALLBACK,
            meta,
            {
                items.ITEM_CATEGORY_BLOCK: {"selected_option": {"value": "to_improve"}},
                items.ITEM_TEXT_BLOCK: {"value": "Docs"},
            },
        ),
    )
    assert answer is None
    with Session(engine) as session:
        added = session.exec(select(Item).where(Item.text == "Docs")).one()
    assert (added.category, added.number, added.source) == ("to_improve", 2, "round_robin")


# ---------------------------------------------------------------- voting and results


@pytest.fixture
def voting(engine: Engine, clock: FakeClock) -> tuple[int, int]:
    """A retro voting until tomorrow, one vote each, on one item: (retro, item)."""
    with Session(engine) as session:
        retro = make_retro(
            session,
            title="Q3 <launch>",
            phase="voting",
            votes_per_person=1,
            voting_deadline=clock() + timedelta(days=1),
            created_at=clock(),
        )
        item = make_item(session, retro_id=retro.id, category="went_wrong", text="Flaky CI", number=1)
        add_participants(session, retro.id, "U1", "U2")
        return retro.id, item.id


def test_vote_and_unvote_redraw_the_clicked_ballot(
    services: Services, clock: FakeClock, voting: tuple[int, int]
) -> None:
    retro_id, item_id = voting
    value, shown = f"{retro_id}:{item_id}", (f"ballot_{item_id}",)
    answer = discussion.vote(services, click(rounds.VOTE_ACTION, value, message_block_ids=shown))
    assert isinstance(answer, Respond) and answer.replace and answer.blocks is not None
    assert answer.text == "Your ballot for Q3 &lt;launch&gt;"
    assert "You have *0 of 1* votes left." in mrkdwn_text(answer.blocks)
    assert "Remove vote" in str(answer.blocks)
    answer = discussion.unvote(services, click(rounds.UNVOTE_ACTION, value, message_block_ids=shown))
    assert isinstance(answer, Respond) and answer.blocks is not None
    assert "You have *1 of 1* votes left." in mrkdwn_text(answer.blocks)
    clock.advance(days=1)
    with pytest.raises(DomainError) as closed:
        discussion.vote(services, click(rounds.VOTE_ACTION, value))
    assert closed.value.message == "Voting for *Q3 &lt;launch&gt;* is closed."


def test_root_cause_modal_is_the_facilitators(services: Services, voting: tuple[int, int]) -> None:
    _retro_id, item_id = voting
    view = discussion.root_cause_modal(services, team_id="T1", item_id=item_id, user_id="UFAC")
    assert view["callback_id"] == rounds.ROOT_CAUSE_CALLBACK
    assert "*#1* Flaky CI" in mrkdwn_text(view["blocks"])
    with pytest.raises(NotFacilitator):
        discussion.root_cause_modal(services, team_id="T1", item_id=item_id, user_id="U1")


def test_root_cause_submitted_notes_it(services: Services, engine: Engine, voting: tuple[int, int]) -> None:
    _retro_id, item_id = voting
    meta = {"item_id": item_id}
    with pytest.raises(InvalidInput) as long:
        discussion.root_cause_submitted(
            services,
            submission(
                rounds.ROOT_CAUSE_CALLBACK,
                meta,
                {rounds.ROOT_CAUSE_BLOCK: {"value": "w" * 3001}},
                user_id="UFAC",
            ),
        )
    assert long.value.errors == {"root_cause": "Keep the note under 3,000 characters."}
    with pytest.raises(NotFacilitator):
        discussion.root_cause_submitted(
            services,
            submission(rounds.ROOT_CAUSE_CALLBACK, meta, {rounds.ROOT_CAUSE_BLOCK: {"value": "CI"}}),
        )
    answer = discussion.root_cause_submitted(
        services,
        submission(
            rounds.ROOT_CAUSE_CALLBACK, meta, {rounds.ROOT_CAUSE_BLOCK: {"value": "CI"}}, user_id="UFAC"
        ),
    )
    assert answer is None
    with Session(engine) as session:
        noted = session.get(Item, item_id)
        assert noted is not None and noted.root_cause == "CI"
