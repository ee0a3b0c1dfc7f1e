"""A survey edit replaces the person's answers in this retro only, named or anonymous."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.services import Services
from bot.services.surveys import SurveyAnswers
from storage.models import Item, Participant, Response
from tests.conftest import FakeClock
from tests.factories import make_retro


def answers(text: str, *, anonymous: bool = False) -> SurveyAnswers:
    return SurveyAnswers(items={"went_well": text}, smoothness=4, surprise=None, anonymous=anonymous)


@pytest.mark.parametrize("anonymous", [False, True])
def test_editing_one_retros_survey_leaves_the_persons_other_retros_alone(
    services: Services, engine: Engine, clock: FakeClock, anonymous: bool
) -> None:
    with Session(engine) as session:
        ids = [
            make_retro(
                session,
                channel_id=channel,
                anonymity="optional",
                created_at=clock(),
                deadline=clock() + timedelta(days=1),
            ).id
            or 0
            for channel in ("C1", "C2")
        ]
        session.add_all(Participant(team_id="T1", retro_id=r, user_id=u) for r in ids for u in ("U1", "U2"))
        session.commit()
    first, second = ids
    surveys = services.surveys
    surveys.submit(
        team_id="T1", retro_id=first, user_id="U1", answers=answers("Pairing", anonymous=anonymous)
    )
    surveys.submit(team_id="T1", retro_id=first, user_id="U2", answers=answers("Demos", anonymous=anonymous))
    surveys.submit(team_id="T1", retro_id=second, user_id="U1", answers=answers("CI", anonymous=anonymous))
    surveys.submit(
        team_id="T1", retro_id=second, user_id="U1", answers=answers("Fast CI", anonymous=anonymous)
    )
    with Session(engine) as session:
        stored = {(i.retro_id, i.text) for i in session.exec(select(Item))}
        responses = sorted(r.retro_id for r in session.exec(select(Response)))
    assert stored == {(first, "Pairing"), (first, "Demos"), (second, "Fast CI")}
    assert responses == [first, first, second]
