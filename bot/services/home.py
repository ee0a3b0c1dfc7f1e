"""The App Home tab, redrawn whenever something in it changes.

Changes queue a redraw (coalesced per person); the dispatcher draws the tab from what is stored when
it sends it, so a burst of changes costs one views.publish.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import Outbox
from messages.home import PAIRS, home_view
from storage import action_items as action_item_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Retro

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
        people = [
            p.user_id for p in retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id)
        ]
        for user_id in dict.fromkeys([retro.facilitator_id, *people]):
            self.outbox.home(session, team_id=retro.team_id, user_id=user_id)

    def view_for(self, session: Session, *, team_id: str, user_id: str) -> dict[str, Any]:
        """The tab loads no more action items and surveys than it can show (`PAIRS` of each), with their
        totals for the "…and N more": the same work for 5 open action items as for 5,000."""
        action_items, total_action_items = action_item_queries.first_open_items(
            session, team_id=team_id, owner_id=user_id, limit=PAIRS
        )
        surveys, total_surveys = retro_queries.first_surveys_waiting(
            session, team_id=team_id, user_id=user_id, limit=PAIRS
        )
        facilitating = retro_queries.facilitating(session, team_id=team_id, user_id=user_id)
        return home_view(
            action_items=action_items,
            surveys=surveys,
            facilitating=facilitating,
            today=self.clock().date(),
            total_action_items=total_action_items,
            total_surveys=total_surveys,
        )
