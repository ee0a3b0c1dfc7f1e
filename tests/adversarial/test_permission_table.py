"""Every cell of the permission table (bot.services.permissions.RULES): the allowed roles succeed, every
other role is refused with a message that says who may, and nothing stored changes (issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.domain import FORMATS, ItemSource
from bot.errors import DomainError
from bot.secret_box import SecretBox
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.permissions import RULES, Role
from bot.services.surveys import SurveyAnswers
from bot.services.trackers import TrackerDraft, TrackerService
from storage.models import (
    ActionItem,
    Escalation,
    Item,
    Participant,
    Response,
    Retro,
    RetroSchedule,
    TrackerConnection,
    Vote,
)
from tests.conftest import FakeClock
from tests.factories import NOW, make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

# Who plays each role: UFAC facilitates, UPART was invited, UOWN owns the action item (and is nothing else),
# UOUT is none of these (a forged payload, a shared link). The channel's retro schedule was made by USCH,
# names USFAC its facilitator and has UROT in its rotation.
PEOPLE = {
    Role.FACILITATOR: "UFAC",
    Role.PARTICIPANT: "UPART",
    Role.OWNER: "UOWN",
    Role.SCHEDULER: "USCH",
    Role.SCHEDULE_FACILITATOR: "USFAC",
    Role.IN_ROTATION: "UROT",
    None: "UOUT",
}


@pytest.fixture
def services(engine: Engine, clock: FakeClock) -> Services:
    gateway = RecordingGateway(members={"C1": ["UFAC", "UPART", "UOWN", "UOUT"]})
    for user in ("UFAC", "UPART", "UOWN", "UOUT"):
        gateway.human(user)
    return build_services(engine, clock, gateway, RecordingJobs())


def _setup(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        retro = make_retro(session, phase="completed", facilitator_name="Fay", closed_at=NOW)
        session.add(Participant(team_id="T1", retro_id=retro.id, user_id="UPART"))
        # The channel's next retro, in voting, with one item on its ballot and the same participant.
        voting = make_retro(
            session, phase="voting", facilitator_name="Fay", voting_deadline=NOW + timedelta(days=1)
        )
        session.add(Participant(team_id="T1", retro_id=voting.id, user_id="UPART"))
        make_item(session, retro_id=voting.id, category=FORMATS[voting.format].vote_on[0], text="Flaky CI")
        # Another channel's retro, collecting answers, with the same participant.
        collecting = make_retro(session, channel_id="C2", facilitator_name="Fay")
        session.add(Participant(team_id="T1", retro_id=collecting.id, user_id="UPART"))
        action_item = ActionItem(
            team_id="T1",
            retro_id=retro.id,
            text="Fix CI",
            owner_id="UOWN",
            owner_name="Owen",
            due_date=(NOW + timedelta(days=7)).date(),
            created_at=NOW,
        )
        session.add(action_item)
        session.add(
            RetroSchedule(
                team_id="T1",
                channel_id="C1",
                created_by="USCH",
                facilitator_id="USFAC",
                facilitation="rotation",
                rotation=["UROT", "UPART2"],
                updated_at=NOW,
                cadence="weekly",
                next_at=NOW + timedelta(days=3),
            )
        )
        session.commit()
        return retro.id, action_item.id


def _snapshot(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        stored = [a.model_dump() for a in session.exec(select(ActionItem).order_by(col(ActionItem.id)))]
        for model in (Vote, Item, Response, Participant, RetroSchedule, Escalation, TrackerConnection):
            stored += sorted((row.model_dump() for row in session.exec(select(model))), key=lambda r: r["id"])
        return stored


def _collecting(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(Retro.id).where(Retro.phase == "collecting")).one()


def _on_the_ballot(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        retro = session.exec(select(Retro).where(Retro.phase == "voting")).one()
        item = session.exec(select(Item).where(Item.retro_id == retro.id)).one()
        return retro.id, item.id


def _do(
    services: Services,
    engine: Engine,
    action: str,
    user: str,
    retro_id: int,
    action_item_id: int,
    clock: FakeClock,
) -> None:
    progress = services.action_item_progress
    calls: dict[str, Callable[[], object]] = {
        "open_action_item_modal": lambda: services.action_items.new_item(
            team_id="T1", retro_id=retro_id, user_id=user
        ),
        "create_action_item": lambda: services.action_items.create(
            ActionItemDraft(
                team_id="T1",
                retro_id=retro_id,
                created_by=user,
                text="Write it down",
                owner_id="UOWN",
                due_text=None,
            )
        ),
        "complete_action_item": lambda: progress.complete(
            team_id="T1", action_item_id=action_item_id, user_id=user
        ),
        "change_due_date": lambda: (
            progress.for_change(
                team_id="T1", action_item_id=action_item_id, user_id=user, action="change_due_date"
            ),
            progress.change_due(
                team_id="T1",
                action_item_id=action_item_id,
                user_id=user,
                due=(clock() + timedelta(days=30)).date(),
            ),
        ),
        "vote": lambda: services.voting.vote(
            team_id="T1", retro_id=_on_the_ballot(engine)[0], user_id=user, item_id=_on_the_ballot(engine)[1]
        ),
        "cannot_do": lambda: (
            progress.for_change(
                team_id="T1", action_item_id=action_item_id, user_id=user, action="cannot_do"
            ),
            progress.cannot_do(team_id="T1", action_item_id=action_item_id, user_id=user, reason="No time"),
        ),
        "change_schedule": lambda: _change_schedule(services, engine, user),
        "change_escalation": lambda: [
            services.escalations.configure(team_id="T1", channel_id="C1", user_id=user, args=args)
            for args in ("<#CBOARD|board> 10", "<#CBOARD>", "off")
        ],
        "change_tracker": lambda: _change_tracker(services, engine, user),
    }
    calls["add_item"] = lambda: (
        services.items.for_adding(team_id="T1", retro_id=_collecting(engine), user_id=user),
        services.items.add(
            team_id="T1",
            retro_id=_collecting(engine),
            user_id=user,
            entries=[("went_well", "Pairing")],
            wants_anonymous=False,
            source=ItemSource.DM,
        ),
    )
    calls["answer_survey"] = lambda: (
        services.surveys.saved(team_id="T1", retro_id=_collecting(engine), user_id=user),
        services.surveys.submit(
            team_id="T1",
            retro_id=_collecting(engine),
            user_id=user,
            answers=SurveyAnswers(items={"went_well": "Pairing"}, smoothness=7, surprise=None),
        ),
    )
    assert set(calls) == set(RULES), "every rule in the table has its call here"
    calls[action]()


def _change_schedule(services: Services, engine: Engine, user: str) -> None:
    with Session(engine) as session:
        schedule_id = session.exec(select(RetroSchedule)).one().id
    schedules = services.schedules
    schedules.edit_form(team_id="T1", schedule_id=schedule_id, user_id=user)
    schedules.pause(team_id="T1", schedule_id=schedule_id, user_id=user)
    schedules.resume(team_id="T1", schedule_id=schedule_id, user_id=user)
    schedules.delete(team_id="T1", schedule_id=schedule_id, user_id=user)


def _change_tracker(services: Services, engine: Engine, user: str) -> None:
    """C1's tracker, set by the facilitator of its latest retro, in a deployment with REARVIEW_SECRET."""
    trackers = TrackerService(
        engine=engine,
        outbox=services.outbox,
        clock=services.clock,
        timers=services.timers,
        home=services.home,
        box=SecretBox("permission-table-" + "k" * 16),
    )
    trackers.form(team_id="T1", channel_id="C1", user_id=user)
    trackers.save(
        TrackerDraft(
            team_id="T1", channel_id="C1", user_id=user, kind="github", project="acme/ops", secret="t"
        )
    )


CELLS = [(action, role) for action in RULES for role in PEOPLE]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a}-{r or 'outsider'}" for a, r in CELLS])
def test_every_cell_of_the_permission_table(
    services: Services, engine: Engine, clock: FakeClock, action: str, role: Role | None
) -> None:
    retro_id, action_item_id = _setup(engine)
    before = _snapshot(engine)
    allowed = role in RULES[action].who
    if allowed:
        _do(services, engine, action, PEOPLE[role], retro_id, action_item_id, clock)
        return
    with pytest.raises(DomainError) as refused:
        _do(services, engine, action, PEOPLE[role], retro_id, action_item_id, clock)
    # The refusal says who may, by role; and nothing was stored.
    assert "Only the" in refused.value.message and "facilitator" in refused.value.message
    assert "Only the" in refused.value.plain and "<@" not in refused.value.plain
    assert _snapshot(engine) == before
