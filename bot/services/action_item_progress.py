"""Progress on an action item: its owner (or the facilitator) marks it done, moves its due date, or says
it can't be done (the facilitator is told why)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.errors import DomainError, InvalidInput
from bot.outbox import Outbox
from bot.services.action_items import require_action_item
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.permissions import require_action_item_changer
from bot.services.timers import Timers
from bot.timing import zone
from messages import action_items
from storage.db import unit_of_work
from storage.models import ActionItem


class ActionItemProgress:
    def __init__(
        self, *, engine: Engine, outbox: Outbox, clock: Clock, timers: Timers, home: HomeService
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.home = home

    def complete(self, *, team_id: str, action_item_id: int, user_id: str) -> ActionItem:
        return self._close(team_id, action_item_id, user_id, "done", note=None)

    def check_change(self, *, team_id: str, action_item_id: int, user_id: str, reason: str) -> None:
        """What can be checked before a "can't do it" modal closes."""
        if not reason.strip():
            raise InvalidInput({"reason": "Say why, so the facilitator can find another way."})
        with unit_of_work(self.engine) as session:
            action_item = require_action_item(session, team_id, action_item_id)
            self._may_change(session, action_item, user_id, "cannot_do")
            if action_item.status != "open":
                raise DomainError(f"This action item is already {action_item.status}.")

    def for_change(self, *, team_id: str, action_item_id: int, user_id: str, action: str) -> ActionItem:
        """The action item whose "Change due date" or "Can't do it" modal is opening, for its owner or the
        facilitator only (`action`: change_due_date or cannot_do)."""
        with unit_of_work(self.engine) as session:
            action_item = require_action_item(session, team_id, action_item_id)
            self._may_change(session, action_item, user_id, action)
            return action_item

    def cannot_do(self, *, team_id: str, action_item_id: int, user_id: str, reason: str) -> ActionItem:
        self.check_change(team_id=team_id, action_item_id=action_item_id, user_id=user_id, reason=reason)
        return self._close(team_id, action_item_id, user_id, "dropped", note=reason.strip())

    def change_due(self, *, team_id: str, action_item_id: int, user_id: str, due: date | None) -> ActionItem:
        """Store the new date and move the reminders (no Slack calls: it runs before the modal's ack)."""
        with unit_of_work(self.engine) as session:
            action_item = require_action_item(session, team_id, action_item_id, lock=True)
            self._may_change(session, action_item, user_id, "change_due_date")
            today = self.clock().astimezone(zone(action_item.owner_tz)).date()
            if due is None or due < today:
                raise InvalidInput({"due": "Pick today or a later date."})
            if action_item.status != "open":
                raise InvalidInput({"due": f"This action item is already {action_item.status}."})
            action_item.due_date = due
            session.add(action_item)
            self.home.queue(session, team_id=team_id, user_id=action_item.owner_id)
            session.commit()
            session.refresh(action_item)
        self.timers.reschedule_action_item(action_item)
        return action_item

    def _close(
        self, team_id: str, action_item_id: int, user_id: str, status: str, *, note: str | None
    ) -> ActionItem:
        with unit_of_work(self.engine) as session:
            # Locked: two clicks at once on PostgreSQL would both see it open and tell the facilitator twice.
            action_item = require_action_item(session, team_id, action_item_id, lock=True)
            self._may_change(session, action_item, user_id, "complete_action_item")
            if action_item.status == status:
                return action_item  # a double click
            if action_item.status != "open":
                raise DomainError(f"This action item is already {action_item.status}.")
            action_item.status = status
            action_item.status_note = note
            action_item.closed_at = self.clock()
            session.add(action_item)
            self.home.queue(session, team_id=team_id, user_id=action_item.owner_id)
            if status == "dropped" and note is not None:
                retro = require_retro(session, team_id, action_item.retro_id)
                self.outbox.tell(
                    session,
                    team_id=team_id,
                    user=retro.facilitator_id,
                    channel=None,
                    text=action_items.cannot_do_text(action_item=action_item, user_id=user_id),
                )
            session.commit()
            session.refresh(action_item)
        self.timers.cancel(self.timers.action_item_ids(action_item))
        return action_item

    def _may_change(self, session: Session, action_item: ActionItem, user_id: str, action: str) -> None:
        retro = require_retro(session, action_item.team_id, action_item.retro_id)
        require_action_item_changer(session, action, retro, action_item, user_id)
