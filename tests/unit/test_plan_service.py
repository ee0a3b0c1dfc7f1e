"""Retro plans: proposed to the facilitator, started at their time (or at once), skipped, or left waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain import PlanStatus
from bot.errors import DomainError, InvalidInput, NotFacilitator
from bot.jobs import Job, JobKind
from bot.services import Services
from bot.services.plans import PlanEdit
from storage.models import Delivery, Retro, RetroPlan, RetroSchedule
from tests.blockkit import buttons
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM, channel_gateway, make_retro
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def gateway() -> RecordingGateway:
    return channel_gateway()


def propose(services: Services, engine: Engine, clock: FakeClock, **fields: object) -> int:
    with Session(engine) as session:
        values: dict[str, Any] = {
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "source": "release",
            "release_version": "2.4.0",
            "release": {
                "version": "2.4.0",
                "deployed_at": "2026-11-20T10:00:00Z",
                "rollbacks": ["api 2.3.9"],
            },
            "facilitator_id": "UFAC",
            "planned_start": clock() + timedelta(days=2),
            "settings": {"format": "start_stop_continue", "participant_ids": ["U1", "U2"]},
            "created_at": clock(),
            "updated_at": clock(),
        }
        plan = RetroPlan(**{**values, **fields})
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
    assert [b[0] for b in buttons(dm["blocks"])] == ["plan_start", "plan_reviewed", "plan_edit", "plan_skip"]
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


def _waiting_channel(engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        session.add(RetroSchedule(team_id=TEAM, channel_id=CHANNEL, created_by="UFAC", facilitator_id="UFAC",
                                  unreviewed="wait", updated_at=clock()))  # fmt: skip
        session.commit()


def test_a_waiting_plan_reminds_its_facilitator_daily_three_times_through_jobs(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs,
    fire: Callable[[Job], None],
) -> None:  # fmt: skip
    _waiting_channel(engine, clock)
    plan_id = propose(services, engine, clock)
    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    reminded = []
    for number in (1, 2, 3):
        (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_REMINDER]
        assert job.run_at == clock() + timedelta(days=1) and job.args == {
            "plan_id": plan_id,
            "number": number,
        }
        clock.now = job.run_at
        del jobs.jobs[job.id]  # fired: APScheduler removes a date job
        fire(job)
        fire(job)  # a double fire reminds once
        reminded = [
            m["text"] for m in gateway.messages_to("UFAC") if "still waits for your review" in m["text"]
        ]
        assert len(reminded) == number
    assert "the last reminder" in reminded[-1]
    assert [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_REMINDER] == []  # three at most


def test_looks_good_reviews_a_plan_and_starts_one_that_waited(
    services: Services, engine: Engine, clock: FakeClock, jobs: RecordingJobs
) -> None:
    _waiting_channel(engine, clock)
    first, second = (
        propose(services, engine, clock),
        propose(services, engine, clock, release_version="2.5.0"),
    )
    with pytest.raises(NotFacilitator):
        services.plans.looks_good(team_id=TEAM, plan_id=first, user_id="U1")
    view = services.plans.looks_good(team_id=TEAM, plan_id=first, user_id="UFAC")
    assert not isinstance(view, Retro) and view.plan.status == PlanStatus.REVIEWED
    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=first)  # reviewed: it starts though the channel waits
    services.plans.due(team_id=TEAM, plan_id=second)
    assert (plan_of(engine, first).status, plan_of(engine, second).status) == (
        PlanStatus.STARTED,
        PlanStatus.WAITING,
    )
    services.closing.cancel(team_id=TEAM, channel_id=CHANNEL, user_id="UFAC", reason="a test")
    started = services.plans.looks_good(team_id=TEAM, plan_id=second, user_id="UFAC")
    assert isinstance(started, Retro)
    assert not [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_REMINDER]


def _edit(plan_id: int, clock: FakeClock, **fields: Any) -> PlanEdit:
    values: dict[str, Any] = {
        "team_id": TEAM, "plan_id": plan_id, "user_id": "UFAC", "title": "Payments retro",
        "planned_start": clock() + timedelta(days=1), "collection_days": 5,
        "settings": {"participant_ids": ["U1"], "format": "well_wrong_improve", "anonymity": "named",
                     "custom_questions": ["What slowed you down?"], "round_robin_scope": "everyone",
                     "turn_hours": 4, "votes_per_person": 3, "followup_weeks": 3},
    }  # fmt: skip
    return PlanEdit(**{**values, **fields})


def test_an_edited_plan_is_reviewed_moves_its_job_and_redraws_its_dm(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs
) -> None:
    plan_id = propose(services, engine, clock)
    before = plan_of(engine, plan_id)
    for bad, field in (({"title": " "}, "title"), ({"planned_start": clock() - timedelta(hours=1)}, "planned_start"),
                       ({"collection_days": 40}, "collection_days"), ({"planned_start": None}, "planned_start"),
                       ({"planned_start": clock() + timedelta(days=91)}, "planned_start"),
                       ({"planned_start": datetime(9999, 12, 30, tzinfo=UTC)}, "planned_start")):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            services.plans.edit(_edit(plan_id, clock, **bad))
        assert set(refused.value.errors) == {field}
    assert plan_of(engine, plan_id) == before  # nothing changed
    with pytest.raises(NotFacilitator):
        services.plans.edit(_edit(plan_id, clock, user_id="U1"))

    services.plans.edit(_edit(plan_id, clock))
    plan = plan_of(engine, plan_id)
    assert (plan.status, plan.reviewed_by, plan.collection_days) == (PlanStatus.REVIEWED, "UFAC", 5)
    assert plan.settings["custom_questions"] == ["What slowed you down?"]
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_START]
    assert job.run_at == clock() + timedelta(days=1)
    assert (
        len([p for kind, p in gateway.sent if kind == "message" and p["channel"] == "UFAC"]) == 1
    )  # no new DM
    (redrawn,) = [p for kind, p in gateway.sent if kind == "update"]
    with Session(engine) as session:
        sent = session.exec(select(Delivery).where(Delivery.key == f"plan:{plan_id}")).one()
    assert sent.result is not None and (redrawn["channel"], redrawn["ts"]) == (
        sent.result["channel"],
        sent.result["ts"],
    )
    assert redrawn["text"] == "Retro plan: Payments retro" and "Reviewed by <@UFAC>" in str(redrawn["blocks"])
    clock.advance(days=1)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    with Session(engine) as session:
        (retro,) = session.exec(select(Retro)).all()
    assert (retro.title, retro.format, retro.deadline) == (
        "Payments retro",
        "well_wrong_improve",
        clock() + timedelta(days=5),
    )


def test_the_kickoff_of_a_planned_retro_names_its_facilitators_and_an_unreviewed_plan(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    plan_id = propose(services, engine, clock, next_facilitator_id="UNEXT")
    clock.advance(days=2)
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    (kickoff,) = [m for m in gateway.messages_to(CHANNEL) if m["text"].startswith("Retrospective started")]
    shown = str(kickoff["blocks"])
    assert "Facilitator this time: <@UFAC>; next time: <@UNEXT>." in shown
    assert "Nobody reviewed this retro's plan" in shown


def test_a_waiting_plans_reminders_come_in_its_facilitators_daytime(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs
) -> None:
    _waiting_channel(engine, clock)
    gateway.human("UFAC", tz="America/Los_Angeles")
    plan_id = propose(services, engine, clock)
    clock.advance(days=2)  # 09:17 UTC: 01:17 in Los Angeles
    services.plans.due(team_id=TEAM, plan_id=plan_id)
    (job,) = [j for j in jobs.jobs.values() if j.kind == JobKind.PLAN_REMINDER]
    local = job.run_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.date(), local.hour, local.minute) == (
        (clock() + timedelta(days=1)).date(),
        8,
        0,
    )  # not at 01:17
