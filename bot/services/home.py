"""The App Home tab, republished whenever something in it changes."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.clock import Clock
from bot.domain import Phase
from bot.gateway import SlackCallFailed, SlackGateway
from messages.home import home_view
from storage.db import unit_of_work
from storage.models import ActionItem, Participant, Retro

logger = logging.getLogger(__name__)


class HomeService:
    def __init__(self, *, engine: Engine, gateway: SlackGateway, clock: Clock) -> None:
        self.engine = engine
        self.gateway = gateway
        self.clock = clock

    def publish(self, *, team_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            actions = session.exec(
                select(ActionItem)
                .where(
                    ActionItem.team_id == team_id, ActionItem.owner_id == user_id, ActionItem.status == "open"
                )
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
                .where(
                    Retro.team_id == team_id, Retro.facilitator_id == user_id, col(Retro.closed_at).is_(None)
                )
                .order_by(col(Retro.created_at).desc())
            ).all()
        view = home_view(
            actions=actions, surveys=surveys, facilitating=facilitating, today=self.clock().date()
        )
        try:
            self.gateway.publish_home(user_id=user_id, view=view)
        except SlackCallFailed as exc:
            logger.warning("could not publish a Home tab: %s", exc.error)

    def publish_many(self, *, team_id: str, user_ids: list[str]) -> None:
        for user_id in dict.fromkeys(user_ids):
            self.publish(team_id=team_id, user_id=user_id)

    def publish_retro(self, *, team_id: str, retro_id: int) -> None:
        """Everyone whose Home shows this retro: its facilitator and its participants."""
        with unit_of_work(self.engine) as session:
            retro = session.exec(select(Retro).where(Retro.team_id == team_id, Retro.id == retro_id)).first()
            if retro is None:
                return
            people = session.exec(
                select(Participant.user_id).where(
                    Participant.team_id == team_id, Participant.retro_id == retro_id
                )
            ).all()
        self.publish_many(team_id=team_id, user_ids=[retro.facilitator_id, *people])
