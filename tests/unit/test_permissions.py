"""Who may do what: the facilitator moves a retro on, closes and cancels it and decides on earlier action
items; an action item's owner (or the facilitator) answers for it; people edit only their own items.

Every refusal leaves everything as it was and says who can do it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import DomainError, NoRetroHere, NotFacilitator
from bot.services import Services
from storage.models import ActionItem, Item, Retro
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro


def retro_in(engine: Engine, clock: FakeClock, phase: str, **fields: str) -> int:
    with Session(engine) as session:
        retro = make_retro(
            session,
            phase=phase,
            title=fields.get("title", "Q3 <launch>"),
            channel_id=fields.get("channel_id", "C1"),
            deadline=clock() + timedelta(days=1),
            created_at=clock(),
        )
        return retro.id


def phase_of(engine: Engine, retro_id: int) -> str:
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        return retro.phase


def refused(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(NotFacilitator) as caught:
        call()
    assert caught.value.message == message


def test_only_the_facilitator_moves_the_round_robin_on(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = retro_in(engine, clock, "discussing")
    discussion = services.facilitation
    where = {"team_id": "T1", "channel_id": "C1", "user_id": "U1"}
    refused(lambda: discussion.next_step(**where), "Only the facilitator, <@UFAC>, can move the retro on.")
    refused(lambda: discussion.skip(**where), "Only the facilitator, <@UFAC>, can skip a turn.")
    refused(lambda: discussion.pause(**where), "Only the facilitator, <@UFAC>, can pause the round-robin.")
    refused(lambda: discussion.resume(**where), "Only the facilitator, <@UFAC>, can resume the round-robin.")
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.phase == "discussing" and retro.paused_at is None
    # The facilitator may: pausing works, and the refusals above were about the person.
    services.facilitation.pause(team_id="T1", channel_id="C1", user_id="UFAC")
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.paused_at is not None
    assert services.facilitation.next_step(team_id="T1", channel_id="C1", user_id="UFAC").id == retro_id


def test_only_the_facilitator_closes_or_cancels(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = retro_in(engine, clock, "actions")
    retros = services.closing
    close = "Only the facilitator, <@UFAC>, can close *Q3 &lt;launch&gt;*."
    refused(lambda: retros.start_close(team_id="T1", channel_id="C1", user_id="U1"), close)
    refused(lambda: retros.close(team_id="T1", channel_id="C1", user_id="U1"), close)
    refused(lambda: retros.close_by_id(team_id="T1", retro_id=retro_id, user_id="U1"), close)
    refused(
        lambda: retros.cancel(team_id="T1", channel_id="C1", user_id="U1", reason="wrong channel"),
        "Only the facilitator, <@UFAC>, can cancel *Q3 &lt;launch&gt;*.",
    )
    assert phase_of(engine, retro_id) == "actions"
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.closed_at is None and retro.cancel_reason is None
    retros.cancel(team_id="T1", channel_id="C1", user_id="UFAC", reason="wrong channel")
    assert phase_of(engine, retro_id) == "cancelled"


def store_action(engine: Engine, retro_id: int, clock: FakeClock) -> int:
    with Session(engine) as session:
        action = ActionItem(
            team_id="T1",
            retro_id=retro_id,
            text="Fix CI",
            owner_id="U2",
            due_date=clock().date() + timedelta(days=7),
            created_at=clock(),
        )
        session.add(action)
        session.commit()
        return action.id


def action_state(engine: Engine, action_id: int) -> tuple[str, date | None]:
    with Session(engine) as session:
        action = session.get(ActionItem, action_id)
        assert action is not None
        return action.status, action.due_date


def test_only_the_owner_or_the_facilitator_answers_for_an_action_item(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = retro_in(engine, clock, "actions")
    action_id = store_action(engine, retro_id, clock)
    before = action_state(engine, action_id)
    progress = services.action_item_progress
    message = "Only the owner, <@U2>, or the facilitator, <@UFAC>, can change this action item."
    later = clock().date() + timedelta(days=9)
    refused(lambda: progress.complete(team_id="T1", action_item_id=action_id, user_id="U3"), message)
    refused(
        lambda: progress.check_change(team_id="T1", action_item_id=action_id, user_id="U3", reason="busy"),
        message,
    )
    refused(
        lambda: progress.cannot_do(team_id="T1", action_item_id=action_id, user_id="U3", reason="busy"),
        message,
    )
    refused(
        lambda: progress.change_due(team_id="T1", action_item_id=action_id, user_id="U3", due=later),
        message,
    )
    assert action_state(engine, action_id) == before
    # Only the facilitator opens the dialog that creates action items from the results.
    refused(
        lambda: services.action_items.new_item(team_id="T1", retro_id=retro_id, user_id="U2"),
        "Only the facilitator, <@UFAC>, creates action items here. "
        "Participants can use `/retro action <what> @owner [due]` in the channel.",
    )
    services.action_items.new_item(team_id="T1", retro_id=retro_id, user_id="UFAC")
    # The facilitator may move the date; the owner may close it.
    progress.change_due(team_id="T1", action_item_id=action_id, user_id="UFAC", due=later)
    assert action_state(engine, action_id) == ("open", later)
    progress.complete(team_id="T1", action_item_id=action_id, user_id="U2")
    assert action_state(engine, action_id) == ("done", later)


def test_only_the_new_facilitator_decides_on_earlier_action_items(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    earlier = retro_in(engine, clock, "completed", title="Sprint 11")
    with Session(engine) as session:
        old = session.get(Retro, earlier)
        assert old is not None
        old.closed_at = clock()
        session.add(old)
        session.commit()
    action_id = store_action(engine, earlier, clock)
    clock.advance(days=14)
    current = retro_in(engine, clock, "collecting", title="Sprint 12")
    refused(
        lambda: services.action_item_carryover.decide_previous(
            team_id="T1", retro_id=current, action_item_id=action_id, user_id="U2", decision="done"
        ),
        "Only the facilitator, <@UFAC>, decides on earlier action items.",
    )
    assert action_state(engine, action_id)[0] == "open"
    services.action_item_carryover.decide_previous(
        team_id="T1", retro_id=current, action_item_id=action_id, user_id="UFAC", decision="drop"
    )
    assert action_state(engine, action_id)[0] == "dropped"


def test_people_see_edit_and_delete_only_their_own_items(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = retro_in(engine, clock, "collecting")
    items = services.items
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        hidden = items.attribution(retro, "U1", wants_anonymous=True)
        assert hidden.author_id is None and hidden.author_hash
        named = make_item(session, retro_id=retro_id, text="Named", author_id="U1").id
        anonymous = make_item(
            session, retro_id=retro_id, text="Anonymous", author_id=None, author_hash=hidden.author_hash
        ).id
        assert anonymous is not None
        make_item(session, retro_id=retro_id, text="Someone else's", author_id="U2")
        make_item(
            session,
            retro_id=retro_id,
            text="Someone else's, anonymous",
            author_id=None,
            author_hash=items.attribution(retro, "U2", wants_anonymous=True).author_hash,
        )
    _retro, mine = items.mine(team_id="T1", retro_id=retro_id, user_id="U1")
    assert sorted(i.text for i in mine) == ["Anonymous", "Named"]  # ids are random: no order to rely on
    for item_id in (named, anonymous):
        attempts: dict[str, Callable[[], object]] = {
            "open": partial(items.get_own, team_id="T1", item_id=item_id, user_id="U2"),
            "edit": partial(
                items.edit, team_id="T1", item_id=item_id, user_id="U2", category="went_well", text="X"
            ),
            "delete": partial(items.delete, team_id="T1", item_id=item_id, user_id="U2"),
            "other workspace": partial(items.get_own, team_id="T2", item_id=item_id, user_id="U1"),
        }
        for what, attempt in attempts.items():
            with pytest.raises(NoRetroHere) as caught:
                attempt()
            assert caught.value.message == "That item no longer exists, or it is not yours.", what
    with Session(engine) as session:
        assert {i.text for i in session.exec(select(Item))} == {
            "Named",
            "Anonymous",
            "Someone else's",
            "Someone else's, anonymous",
        }
    # The author may.
    items.edit(team_id="T1", item_id=anonymous, user_id="U1", category="went_wrong", text="  Edited  ")
    items.delete(team_id="T1", item_id=named, user_id="U1")
    _retro, mine = items.mine(team_id="T1", retro_id=retro_id, user_id="U1")
    assert [(i.category, i.text) for i in mine] == [("went_wrong", "Edited")]


def test_items_can_no_longer_change_after_collection(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = retro_in(engine, clock, "collecting")
    with Session(engine) as session:
        item_id = make_item(session, retro_id=retro_id, author_id="U1").id
    clock.advance(days=1)
    items = services.items
    attempts: list[Callable[[], object]] = [
        partial(items.edit, team_id="T1", item_id=item_id, user_id="U1", category="went_well", text="Late"),
        partial(items.delete, team_id="T1", item_id=item_id, user_id="U1"),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as caught:
            attempt()
        assert "closed" in caught.value.message and "<@UFAC>" in caught.value.message
    assert items.get_own(team_id="T1", item_id=item_id, user_id="U1")[1].text == "Fast review"


def test_round_robin_controls_and_cancel_need_the_right_retro(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    with pytest.raises(NoRetroHere) as none:
        services.closing.cancel(team_id="T1", channel_id="C1", user_id="UFAC", reason="x")
    assert none.value.message == "There is no open retro in this channel to cancel."
    with pytest.raises(DomainError) as why:
        services.closing.cancel(team_id="T1", channel_id="C1", user_id="UFAC", reason="  ")
    assert why.value.message == "Say why, so the team knows: `/retro cancel <reason>`."
    retro_id = retro_in(engine, clock, "collecting")
    with pytest.raises(DomainError) as early:
        services.facilitation.skip(team_id="T1", channel_id="C1", user_id="UFAC")
    assert early.value.message == "*Q3 &lt;launch&gt;* has no round-robin running (phase: collecting)."
    services.closing.cancel(team_id="T1", channel_id="C1", user_id="UFAC", reason=" " + "r" * 1001)
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None and retro.cancel_reason == "r" * 1000


def test_a_finished_retro_cannot_be_closed_or_moved_on_again(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    cancelled = retro_in(engine, clock, "cancelled")
    with pytest.raises(NoRetroHere) as refused:
        services.closing.close_by_id(team_id="T1", retro_id=cancelled, user_id="UFAC")
    assert refused.value.message == "*Q3 &lt;launch&gt;* was cancelled. Start the next one with `/retro new`."
    with Session(engine) as session:
        retro = session.get(Retro, cancelled)
        assert retro is not None
        retro.phase, retro.report_file_id, retro.closed_at = "completed", "F1", clock()
        session.add(retro)
        session.commit()
    with pytest.raises(NoRetroHere) as refused:
        services.closing.close_by_id(team_id="T1", retro_id=cancelled, user_id="UFAC")
    assert refused.value.message == (
        "*Q3 &lt;launch&gt;* is already closed and its report is in the channel. Start the next one with `/retro new`."
    )
    retro_in(engine, clock, "actions", title="Sprint 12")
    with pytest.raises(DomainError) as over:
        services.facilitation.next_step(team_id="T1", channel_id="C1", user_id="UFAC")
    assert over.value.message == (
        "Voting is over and the results are in the thread. Run `/retro close` to publish the report."
    )
