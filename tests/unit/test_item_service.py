"""ItemService: one's own items across retros, which retro a command means, and the late-answer notice."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain import MAX_ITEM_LENGTH, ItemSource
from bot.errors import InvalidInput, NoRetroHere
from bot.services.authors import AuthorKeys
from bot.services.items import CollectionClosed, ItemService
from messages.items import late_message
from storage.models import Item, Participant
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro


@pytest.fixture
def items(engine: Engine, clock: FakeClock) -> ItemService:
    return ItemService(engine=engine, clock=clock, keys=AuthorKeys(engine=engine, master_secret=None))


def collecting(engine: Engine, clock: FakeClock, channel: str, *people: str) -> int:
    with Session(engine) as session:
        retro = make_retro(
            session,
            channel_id=channel,
            title=channel,
            created_at=clock(),
            deadline=clock() + timedelta(days=1),
        )
        session.add_all(Participant(team_id="T1", retro_id=retro.id, user_id=p) for p in people)
        session.commit()
        return retro.id


def test_my_items_are_this_retros_only(items: ItemService, engine: Engine, clock: FakeClock) -> None:
    first = collecting(engine, clock, "C1", "U1")
    second = collecting(engine, clock, "C2", "U1")
    with Session(engine) as session:
        make_item(session, retro_id=first, text="In C1", author_id="U1")
        mine_in_second = make_item(session, retro_id=second, text="In C2", author_id="U1").id
    _retro, mine = items.mine(team_id="T1", retro_id=second, user_id="U1")
    assert [i.text for i in mine] == ["In C2"]
    with pytest.raises(NoRetroHere) as gone:
        items.get_own(team_id="T1", item_id=mine_in_second + 100, user_id="U1")
    assert gone.value.message == "That item no longer exists, or it is not yours."
    with pytest.raises(InvalidInput) as invalid:
        items.edit(team_id="T1", item_id=mine_in_second, user_id="U1", category="nope", text="x")
    assert invalid.value.errors == {"category": "Pick one of this retro's categories."}


def test_a_command_means_the_channels_retro_or_in_a_dm_the_persons_only_one(
    items: ItemService, engine: Engine, clock: FakeClock
) -> None:
    first = collecting(engine, clock, "C1", "U1", "U2")
    assert items.current_retro(team_id="T1", channel_id="C1", user_id="U9").id == first
    assert items.current_retro(team_id="T1", channel_id="D1", user_id="U1").id == first
    with pytest.raises(NoRetroHere) as none:
        items.current_retro(team_id="T1", channel_id="D1", user_id="U9")
    assert none.value.message == "There is no open retro here for you."
    with pytest.raises(NoRetroHere):
        items.current_retro(team_id="T2", channel_id="C1", user_id="U1")
    clock.advance(minutes=1)
    second = collecting(engine, clock, "C2", "U1")
    with pytest.raises(NoRetroHere) as two:
        items.current_retro(team_id="T1", channel_id="D1", user_id="U1")
    assert two.value.message == "There is no open retro here. Run this in the retro's channel."
    assert items.current_retro(team_id="T1", channel_id="D1", user_id="U2").id == first
    assert [r.id for r in items.open_retros_for(team_id="T1", user_id="U1")] == [second, first]
    latest = items.latest_retro_for(team_id="T1", user_id="U1")
    assert latest is not None and latest.id == second
    latest = items.latest_retro_for(team_id="T1", user_id="U2")
    assert latest is not None and latest.id == first
    assert items.latest_retro_for(team_id="T2", user_id="U1") is None


def test_the_late_notice_escapes_the_title_in_mrkdwn_and_keeps_it_plain_in_modals(clock: FakeClock) -> None:
    retro = make_retro(None, title="Q3 <launch>", facilitator_name="Ada", deadline=clock())
    mrkdwn = late_message(retro)
    assert mrkdwn.startswith("Sorry, collection for “Q3 &lt;launch&gt;” closed at <!date^")
    assert mrkdwn.endswith("If it matters, please tell <@UFAC>: they can still bring it up.")
    closed = CollectionClosed(retro)
    assert closed.message == mrkdwn
    assert closed.plain == (
        "Sorry, collection for “Q3 <launch>” closed at 2026-11-23 09:17 UTC, so I can't add this. "
        "If it matters, please tell Ada: they can still bring it up."
    )
    unnamed = make_retro(None, facilitator_name="", phase="discussing", deadline=clock())
    assert late_message(unnamed, mrkdwn=False) == (
        "Sorry, collection for “Release 2.4” closed, so I can't add this. You can still add it on your "
        "round-robin turn. If it matters, please tell the facilitator: they can still bring it up."
    )


def test_an_anonymous_item_keeps_only_the_retros_start_and_a_named_one_the_moment(
    items: ItemService, engine: Engine, clock: FakeClock
) -> None:
    started = clock()
    retro_id = collecting(engine, clock, "C1", "U1", "U9")
    clock.advance(hours=5, minutes=3, microseconds=123456)  # Slack's message ts carry microseconds too
    add = items.add
    add(
        team_id="T1",
        retro_id=retro_id,
        user_id="U1",
        entries=[("went_well", "A")],
        wants_anonymous=True,
        source=ItemSource.DM,
    )
    add(
        team_id="T1",
        retro_id=retro_id,
        user_id="U9",
        entries=[("went_well", "B")],
        wants_anonymous=False,
        source=ItemSource.DM,
    )
    with Session(engine) as session:
        stored = {i.text: (i.author_id, i.created_at) for i in session.exec(select(Item))}
        invited = session.exec(select(Participant).where(Participant.user_id == "U1")).one()
    # Its own time, even to the hour, could be matched against when each person answered.
    assert stored == {"A": (None, started), "B": ("U9", clock())}
    assert invited.responded_at == clock().replace(minute=0, second=0, microsecond=0)


def test_what_an_item_may_be(items: ItemService, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock, "C1", "U1")
    add = partial(
        items.add, team_id="T1", retro_id=retro_id, user_id="U1", wants_anonymous=False, source=ItemSource.DM
    )
    add(entries=[("went_well", "x" * MAX_ITEM_LENGTH)])
    with pytest.raises(InvalidInput) as invalid:
        add(entries=[("nope", "x")])
    assert invalid.value.errors == {"category": "Pick one of this retro's categories."}
    _retro, (item,) = items.mine(team_id="T1", retro_id=retro_id, user_id="U1")
    with pytest.raises(InvalidInput) as invalid:
        items.edit(team_id="T1", item_id=item.id, user_id="U1", category="went_well", text=" ")
    assert invalid.value.errors == {"text": "Write something: an item cannot be empty."}


def test_only_collecting_retros_take_answers_by_dm(
    items: ItemService, engine: Engine, clock: FakeClock
) -> None:
    collecting(engine, clock, "C1", "U1")
    with Session(engine) as session:
        discussing = make_retro(session, channel_id="C2", phase="discussing", created_at=clock())
        session.add(Participant(team_id="T1", retro_id=discussing.id, user_id="U1"))
        session.commit()
    assert [r.channel_id for r in items.open_retros_for(team_id="T1", user_id="U1")] == ["C1"]


def test_my_items_are_listed_by_category_then_number(
    items: ItemService, engine: Engine, clock: FakeClock
) -> None:
    """Issue 12: ids are random, so an order by time then id put one's items in no meaningful order (an
    anonymous one, at the retro's start, before everything else). Category by category, then number."""
    retro_id = collecting(engine, clock, "C1", "U1")
    for category, text, anonymous in [
        ("to_improve", "Runbook", False),
        ("went_wrong", "Flaky CI", False),
        ("went_well", "Pairing", False),
        ("to_improve", "Anonymous idea", True),
    ]:
        clock.advance(minutes=1)
        items.add(
            team_id="T1",
            retro_id=retro_id,
            user_id="U1",
            entries=[(category, text)],
            wants_anonymous=anonymous,
            source=ItemSource.DM,
        )
    _retro, mine = items.mine(team_id="T1", retro_id=retro_id, user_id="U1")
    # Before numbering, within a category as `number_items` will number them: anonymous ones first.
    assert [i.text for i in mine] == ["Pairing", "Flaky CI", "Anonymous idea", "Runbook"]
    with Session(engine) as session:
        for item in session.exec(select(Item)):
            item.number = {"Pairing": 1, "Flaky CI": 2, "Anonymous idea": 4, "Runbook": 3}[item.text]
            session.add(item)
        session.commit()
    _retro, mine = items.mine(team_id="T1", retro_id=retro_id, user_id="U1")
    assert [i.text for i in mine] == ["Pairing", "Flaky CI", "Runbook", "Anonymous idea"]
