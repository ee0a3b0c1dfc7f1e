"""Retro plans: proposed to the facilitator, started at their time (or at once), skipped, or left waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain import PlanStatus
from bot.errors import DomainError, NotFacilitator
from bot.jobs import JobKind
from bot.services import Services
from storage.models import Retro, RetroPlan, RetroSchedule
from tests.blockkit import buttons
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM, channel_gateway, make_retro
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def gateway() -> RecordingGateway:
    return channel_gateway()


def propose(services: Services, engine: Engine, clock: FakeClock, **fields: object) -> int:
    with Session(engine) as session:
        plan = RetroPlan(
            team_id=TEAM,
            channel_id=CHANNEL,
            source="release",
            release_version="2.4.0",
            release={"version": "2.4.0", "deployed_at": "2026-11-20T10:00:00Z", "rollbacks": ["api 2.3.9"]},
            facilitator_id="UFAC",
            planned_start=clock() + timedelta(days=2),
            settings={"format": "start_stop_continue", "participant_ids": ["U1", "U2"]},
            created_at=clock(),
            updated_at=clock(),
            **fields,  # type: ignore[arg-type]
        )
        later = services.plans.propose(session, plan)
        session.commit()
        later.run(services.timers)
        return plan.id


def plan_of(engine: Engine, plan_id: int) -> RetroPlan:
    with Session(engine) as session:
        plan = session.get(RetroPlan, plan_id)
        assert plan is not None
        return plan


def test_a_plan_is_sent_to_its_facilitator_and_starts_at_its_time(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs
) -> None:
    plan_id = propose(services, engine, clock)
    (dm,) = gateway.messages_to("UFAC")
    assert dm["text"] == "Retro plan: Release 2.4.0 retro"
    assert [b[0] for b in buttons(dm["blocks"])] == ["plan_start", "plan_skip"]
    assert "Scope: _not given_" in str(dm["blocks"]) and "api 2.3.9" in str(dm["blocks"])
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_START]
    assert job.run_at == clock() + timedelta(days=2) and job.args == {"plan_id": plan_id}

    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    services.plans.due(team_id=TEAM, plan_id=plan_id)  # a second firing starts nothing more
    plan = plan_of(engine, plan_id)
    assert plan.status == PlanStatus.STARTED and plan.retro_id is not None
    with Session(engine) as session:
        (retro,) = session.exec(select(Retro)).all()
    assert (retro.title, retro.release_version, retro.rollbacks) == (
        "Release 2.4.0 retro",
        "2.4.0",
        "api 2.3.9",
    )
    assert retro.deadline == clock() + timedelta(days=plan.collection_days)
    assert next(m["text"] for m in gateway.messages_to(CHANNEL)).startswith("Retrospective started")


def test_only_the_facilitator_starts_or_skips_a_plan(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    plan_id = propose(services, engine, clock)
    with pytest.raises(NotFacilitator):
        services.plans.start_now(team_id=TEAM, plan_id=plan_id, user_id="U1")
    with pytest.raises(NotFacilitator):
        services.plans.skip(team_id=TEAM, plan_id=plan_id, user_id="U1")
    with pytest.raises(DomainError):  # another workspace's plan is no plan
        services.plans.skip(team_id="T2", plan_id=plan_id, user_id="UFAC")
    assert plan_of(engine, plan_id).status == PlanStatus.PROPOSED

    services.plans.skip(team_id=TEAM, plan_id=plan_id, user_id="UFAC")
    assert plan_of(engine, plan_id).status == PlanStatus.SKIPPED
    assert not [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_START]
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    with Session(engine) as session:
        assert session.exec(select(Retro)).all() == []


def test_start_now_starts_at_once(services: Services, engine: Engine, clock: FakeClock) -> None:
    plan_id = propose(services, engine, clock)
    retro = services.plans.start_now(team_id=TEAM, plan_id=plan_id, user_id="UFAC")
    plan = plan_of(engine, plan_id)
    assert plan.retro_id == retro.id and plan.reviewed_by == "UFAC"
    with pytest.raises(DomainError, match="already started"):
        services.plans.start_now(team_id=TEAM, plan_id=plan_id, user_id="UFAC")


def test_an_unreviewed_plan_waits_where_the_channel_says_so(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    with Session(engine) as session:
        session.add(
            RetroSchedule(
                team_id=TEAM,
                channel_id=CHANNEL,
                created_by="UFAC",
                facilitator_id="UFAC",
                unreviewed="wait",
                updated_at=clock(),
            )
        )
        session.commit()
    plan_id = propose(services, engine, clock)
    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    assert plan_of(engine, plan_id).status == PlanStatus.WAITING
    assert any("nobody reviewed its plan" in m["text"] for m in gateway.messages_to("UFAC"))
    with Session(engine) as session:
        assert session.exec(select(Retro)).all() == []
    services.plans.start_now(team_id=TEAM, plan_id=plan_id, user_id="UFAC")
    assert plan_of(engine, plan_id).status == PlanStatus.STARTED


def test_a_plan_whose_channel_has_an_open_retro_waits_and_says_why(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    with Session(engine) as session:
        make_retro(session, channel_id=CHANNEL)
    plan_id = propose(services, engine, clock)
    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    assert plan_of(engine, plan_id).status == PlanStatus.WAITING
    assert any("could not start" in m["text"] for m in gateway.messages_to("UFAC"))


def test_the_facilitator_comes_from_the_schedule_its_rotation_or_the_last_retro(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    with Session(engine) as session:
        assert services.plans.facilitation(session, team_id=TEAM, channel_id=CHANNEL, advance=False) is None
        make_retro(session, channel_id=CHANNEL, facilitator_id="ULAST", phase="completed")
        found = services.plans.facilitation(session, team_id=TEAM, channel_id=CHANNEL, advance=False)
        assert found is not None and (found.facilitator, found.next_facilitator) == ("ULAST", None)
        session.add(
            RetroSchedule(
                team_id=TEAM,
                channel_id=CHANNEL,
                created_by="UFAC",
                facilitator_id="UFAC",
                facilitation="rotation",
                rotation=["UANA", "UBEN", "UCAT"],
                updated_at=clock(),
            )
        )
        session.commit()
    chosen = []
    for _ in range(4):
        with Session(engine) as session:
            found = services.plans.facilitation(session, team_id=TEAM, channel_id=CHANNEL, advance=True)
            assert found is not None
            chosen.append((found.facilitator, found.next_facilitator))
            session.commit()
    assert chosen == [("UANA", "UBEN"), ("UBEN", "UCAT"), ("UCAT", "UANA"), ("UANA", "UBEN")]
