"""The plan DM's buttons, called directly with typed requests; and clicked many times at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain import PlanStatus
from bot.errors import DomainError, NotFacilitator
from bot.listeners import plans as handlers
from bot.listeners.answers import Respond
from bot.listeners.requests import Click
from bot.services import Services
from messages import plan
from storage.models import Retro, RetroPlan
from tests.adversarial.test_concurrent_clicks import at_once
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM, channel_gateway
from tests.recording import RecordingGateway


@pytest.fixture
def gateway() -> RecordingGateway:
    return channel_gateway()


def _plan(services: Services, engine: Engine, clock: FakeClock) -> int:
    with Session(engine) as session:
        proposed = RetroPlan(
            team_id=TEAM,
            channel_id=CHANNEL,
            source="release",
            release_version="3.0.0",
            facilitator_id="UFAC",
            planned_start=clock() + timedelta(days=1),
            created_at=clock(),
            updated_at=clock(),
        )
        later = services.plans.propose(session, proposed)
        session.commit()
        later.run(services.timers)
        return proposed.id


def click(action_id: str, value: object, user: str = "UFAC") -> Click:
    return Click(team_id=TEAM, user_id=user, action_id=action_id, value=str(value), response_url="https://r")


def test_start_now_starts_the_retro_and_says_where(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    plan_id = _plan(services, engine, clock)
    answer = handlers.start_now(services, click(plan.PLAN_START_ACTION, plan_id))
    assert isinstance(answer, Respond)
    assert answer.text == f"Started *Release 3.0.0 retro* in <#{CHANNEL}>: its kickoff is on its way."
    with Session(engine) as session:
        assert [r.title for r in session.exec(select(Retro))] == ["Release 3.0.0 retro"]


def test_skip_is_the_facilitators_and_says_so(services: Services, engine: Engine, clock: FakeClock) -> None:
    plan_id = _plan(services, engine, clock)
    with pytest.raises(NotFacilitator):
        handlers.skip(services, click(plan.PLAN_SKIP_ACTION, plan_id, user="U1"))
    answer = handlers.skip(services, click(plan.PLAN_SKIP_ACTION, plan_id))
    assert isinstance(answer, Respond) and answer.text.startswith("Skipped *Release 3.0.0 retro*")
    with Session(engine) as session:
        assert session.get(RetroPlan, plan_id).status == PlanStatus.SKIPPED  # type: ignore[union-attr]


def test_a_forged_value_is_no_plan(services: Services) -> None:
    with pytest.raises(DomainError, match="no longer exists"):
        handlers.start_now(services, click(plan.PLAN_START_ACTION, "1; drop"))


def test_start_now_clicked_at_once_starts_one_retro(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    plan_id = _plan(services, engine, clock)
    results = at_once(8, lambda _: handlers.start_now(services, click(plan.PLAN_START_ACTION, plan_id)))
    assert sum(isinstance(r, Respond) for r in results) == 1
    with Session(engine) as session:
        assert len(session.exec(select(Retro)).all()) == 1
