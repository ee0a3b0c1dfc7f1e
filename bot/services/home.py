"""The App Home tab, redrawn whenever something in it changes.

Changes queue a redraw (coalesced per person); the dispatcher draws the tab from what is stored when
it sends it, so a burst of changes costs one views.publish.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import Phase
from bot.outbox import Outbox
from messages.home import home_view
from storage.db import unit_of_work
from storage.models import ActionItem, Participant, Retro

logger = logging.getLogger(__name__)


class HomeService:
    def __init__(self, *, engine: Engine, outbox: Outbox, clock: Clock) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock

    def publish(self, *, team_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            self.outbox.home(session, team_id=team_id, user_id=user_id)
            session.commit()

    def queue(self, session: Session, *, team_id: str, user_id: str) -> None:
        self.outbox.home(session, team_id=team_id, user_id=user_id)

    def publish_retro(self, session: Session, retro: Retro) -> None:
        """Everyone whose Home shows this retro: its facilitator and its participants."""
        people = session.exec(
            select(Participant.user_id).where(
                Participant.team_id == retro.team_id, Participant.retro_id == retro.id
            )
        ).all()
        for user_id in dict.fromkeys([retro.facilitator_id, *people]):
            self.outbox.home(session, team_id=retro.team_id, user_id=user_id)

    def view_for(self, session: Session, *, team_id: str, user_id: str) -> dict[str, Any]:
        actions = session.exec(
            select(ActionItem)
            .where(ActionItem.team_id == team_id, ActionItem.owner_id == user_id, ActionItem.status == "open")
            .order_by(col(ActionItem.due_date), col(ActionItem.id))
        ).all()
        surveys = session.exec(
            select(Retro)
            .join(Participant, col(Participant.retro_id) == col(Retro.id))
            .where(
                Retro.team_id == team_id,
                Retro.phase == Phase.COLLECTING,
                Participant.team_id == team_id,
                Participant.user_id == user_id,
                col(Participant.responded_at).is_(None),
            )
            .order_by(col(Retro.deadline))
        ).all()
        facilitating = session.exec(
            select(Retro)
            .where(Retro.team_id == team_id, Retro.facilitator_id == user_id, col(Retro.closed_at).is_(None))
            .order_by(col(Retro.created_at).desc())
        ).all()
        return home_view(
            actions=actions, surveys=surveys, facilitating=facilitating, today=self.clock().date()
        )
