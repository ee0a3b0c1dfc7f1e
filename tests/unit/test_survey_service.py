"""SurveyService: validation changes nothing; edits replace the person's survey items only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import InvalidInput
from bot.outbox import Outbox
from bot.services.authors import AuthorKeys
from bot.services.home import HomeService
from bot.services.items import ItemService
from bot.services.surveys import SurveyAnswers, SurveyService
from messages.items import closed_notice
from storage.models import Item, Participant
from tests.blockkit import input_blocks, mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import make_retro


@pytest.fixture
def retro_id(engine: Engine, clock: FakeClock) -> int:
    with Session(engine) as session:
        retro = make_retro(session, title="R", deadline=clock() + timedelta(days=1), created_at=clock())
        session.add(Participant(team_id="T1", retro_id=retro.id, user_id="U1"))
        session.add(
            Item(
                team_id="T1",
                retro_id=retro.id,
                category="went_well",
                text="via thread",
                author_id="U1",
                source="thread",
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
        return retro.id


def survey_service(engine: Engine, clock: FakeClock) -> SurveyService:
    items = ItemService(engine=engine, clock=clock, keys=AuthorKeys(engine=engine, master_secret=None))
    home = HomeService(engine=engine, outbox=Outbox(clock=clock), clock=clock)
    return SurveyService(engine=engine, clock=clock, items=items, home=home)


def answers(**items: str | None) -> SurveyAnswers:
    return SurveyAnswers(items=dict(items), smoothness=None, surprise=None)


def stored(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        return {(i.source, i.text) for i in session.exec(select(Item)).all()}


def test_an_overlong_line_is_refused_and_nothing_changes(
    engine: Engine, clock: FakeClock, retro_id: int
) -> None:
    service = survey_service(engine, clock)
    service.submit(team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_well="Good"))
    with pytest.raises(InvalidInput) as caught:
        service.submit(
            team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_well="ok\n" + "x" * 1001)
        )
    assert caught.value.errors["went_well"].startswith("Line 2 is 1,001 characters long")
    assert stored(engine) == {("thread", "via thread"), ("survey", "Good")}


def test_an_empty_survey_is_refused(engine: Engine, clock: FakeClock, retro_id: int) -> None:
    with pytest.raises(InvalidInput, match="The survey is empty"):
        survey_service(engine, clock).submit(
            team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_well="  \n \n")
        )


def test_after_the_deadline_answers_are_refused(engine: Engine, clock: FakeClock, retro_id: int) -> None:
    service = survey_service(engine, clock)
    clock.advance(days=2)
    with pytest.raises(InvalidInput, match="collection for “R” closed"):
        service.submit(team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_well="late"))
    # The survey button now opens a notice instead of the form: no field to type into, who to tell instead.
    saved = service.saved(team_id="T1", retro_id=retro_id, user_id="U1")
    assert not saved.accepting and saved.answers == {}
    view = closed_notice(retro=saved.retro)
    assert view["title"]["text"] == "Retro closed"
    assert input_blocks(view) == [] and "submit" not in view
    notice = mrkdwn_text(view)
    assert notice.startswith("Sorry, collection for “R” closed at <!date^")
    assert "please tell <@UFAC>: they can still bring it up." in notice


def test_editing_keeps_items_added_other_ways(engine: Engine, clock: FakeClock, retro_id: int) -> None:
    service = survey_service(engine, clock)
    service.submit(team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_wrong="a\nb"))
    service.submit(team_id="T1", retro_id=retro_id, user_id="U1", answers=answers(went_wrong="b"))
    assert stored(engine) == {("thread", "via thread"), ("survey", "b")}


def test_another_workspace_cannot_answer(engine: Engine, clock: FakeClock, retro_id: int) -> None:
    with pytest.raises(Exception, match="no longer exists"):
        survey_service(engine, clock).submit(
            team_id="T2", retro_id=retro_id, user_id="U1", answers=answers(went_well="x")
        )
