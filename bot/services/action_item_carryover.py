"""Earlier retros' action items at a new retro's kickoff: listed there, and carried over, marked done or
dropped by the new retro's facilitator."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.clock import Clock
from bot.errors import DomainError
from bot.services.action_items import require_action_item
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.permissions import only_facilitator
from bot.services.timers import Timers, followup_date
from storage import action_items as queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import ActionItem, Retro


class ActionItemCarryOver:
    def __init__(self, *, engine: Engine, clock: Clock, timers: Timers, home: HomeService) -> None:
        self.engine = engine
        self.clock = clock
        self.timers = timers
        self.home = home

    def retro_of_kickoff(self, *, team_id: str, channel_id: str, ts: str) -> int:
        with unit_of_work(self.engine) as session:
            retro = retro_queries.retro_by_kickoff(
                session, team_id=team_id, channel_id=channel_id, thread_ts=ts
            )
            if retro is None:
                raise DomainError("That retro no longer exists.")
            return retro.id

    def previous_items(self, *, retro: Retro) -> tuple[Retro | None, list[ActionItem]]:
        """The previous retro's action items still open when this retro began (and what became of them)."""
        with unit_of_work(self.engine) as session:
            previous = retro_queries.previous_retro(session, team_id=retro.team_id, retro=retro)
            if previous is None:
                return None, []
            listed = [
                a
                for a in queries.action_items(session, team_id=retro.team_id, retro_id=previous.id)
                if a.status == "open" or (a.closed_at is not None and a.closed_at >= retro.created_at)
            ]
            return previous, listed

    def decide_previous(
        self, *, team_id: str, retro_id: int, action_item_id: int, user_id: str, decision: str
    ) -> None:
        """The new retro's facilitator carries an earlier open item over, marks it done, or drops it."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            only_facilitator(retro, user_id, "decides on earlier action items")
            action = require_action_item(session, team_id, action_item_id)
            previous = retro_queries.previous_retro(session, team_id=team_id, retro=retro)
            if previous is None or action.retro_id != previous.id:
                raise DomainError("That action item is not from the previous retro.")
            if action.status != "open":
                raise DomainError(f"That action item is already {action.status}.")
            action.status = {"carry": "carried", "done": "done", "drop": "dropped"}[decision]
            action.closed_at = now
            if decision == "drop":
                action.status_note = f"Dropped at the next retro, {retro.title}"
            session.add(action)
            carried = None
            if decision == "carry":
                due = (
                    action.due_date
                    if action.due_date and action.due_date >= now.date()
                    else followup_date(retro)
                )
                carried = ActionItem(
                    team_id=team_id,
                    retro_id=retro_id,
                    text=action.text,
                    owner_id=action.owner_id,
                    owner_name=action.owner_name,
                    owner_tz=action.owner_tz,
                    due_date=due,
                    priority=action.priority,
                    link=action.link,
                    created_by=user_id,
                    carried_from_id=action.id,
                    created_at=now,
                )
                session.add(carried)
            self.home.queue(session, team_id=team_id, user_id=action.owner_id)
            session.commit()
        self.timers.cancel(self.timers.action_item_ids(action))
        if carried is not None:
            self.timers.reschedule_action_item(carried)
