"""What Rearview tells an action item's owner after creating it: reminders before and after the due date,
the follow-up 2-4 weeks after the retro, each recorded once (table `action_notice`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.intents import Priority, Purpose
from bot.outbox import Outbox
from bot.services.lookup import require_retro
from messages import action_items
from storage import action_items as queries
from storage.db import unit_of_work
from storage.models import ActionItem, ActionNotice, Delivery, Retro

if TYPE_CHECKING:
    from bot.services.trackers import TrackerService


class ActionItemNotices:
    def __init__(
        self, *, engine: Engine, outbox: Outbox, clock: Clock, tickets: TrackerService | None = None
    ) -> None:
        self.tickets = tickets  # tickets closed in the tracker are read first: closed there is done here
        self.engine = engine
        self.outbox = outbox
        self.clock = clock

    # ------------------------------------------------------------ reminders

    def remind(self, *, team_id: str, action_item_id: int, kind: str) -> bool:
        """Job: a reminder or overdue notice, once per kind and due date, only while the item is open (and
        its ticket, if it has one, is not closed in the tracker)."""
        if self.tickets is not None:
            self.tickets.sync(team_id=team_id, action_item_ids=[action_item_id])
        with unit_of_work(self.engine) as session:
            action_item = queries.get(session, team_id=team_id, action_item_id=action_item_id)
            if action_item is None or action_item.status != "open" or action_item.due_date is None:
                return False
            if not kind.endswith(action_item.due_date.isoformat()):
                return False  # the due date changed since this was scheduled
            retro = require_retro(session, team_id, action_item.retro_id)
            if not self.notice(
                session,
                action_item,
                retro,
                kind,
                action_items.reminder_message(action_item=action_item, retro=retro, kind=kind.split(":")[0]),
            ):
                return False
            if kind.startswith("overdue"):
                self.outbox.tell(
                    session,
                    team_id=team_id,
                    user=retro.facilitator_id,
                    channel=None,
                    text=action_items.overdue_text(action_item=action_item),
                    key=f"overdue:{action_item.id}:{kind}",
                )
            try:
                session.commit()
            except IntegrityError:
                return False  # sent already (a restart, a double fire)
        return True

    # ------------------------------------------------------------ follow-up

    def followup(self, *, team_id: str, retro_id: int) -> bool:
        """Job: ask each owner of an open item for news and post the summary in the channel, once. Tickets
        closed in the tracker count as done first."""
        if self.tickets is not None:
            with unit_of_work(self.engine) as session:
                retro = require_retro(session, team_id, retro_id)
                if retro.followup_posted_at is not None:
                    return False
                open_ids = [
                    a.id
                    for a in queries.of_retro(session, team_id=team_id, retro_id=retro_id)
                    if a.status == "open"
                ]
            self.tickets.sync(team_id=team_id, action_item_ids=open_ids)
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if retro.followup_posted_at is not None:
                return False
            retro.followup_posted_at = now
            session.add(retro)
            listed = list(queries.of_retro(session, team_id=team_id, retro_id=retro_id))
            sent = queries.noticed(
                session, team_id=team_id, action_item_ids=[a.id for a in listed], kind="followup"
            )
            for action_item in listed:
                if action_item.status == "open" and action_item.id not in sent:
                    ask = action_items.followup_ask_message(action_item=action_item, retro=retro)
                    self.notice(session, action_item, retro, "followup", ask)
            summary = action_items.followup_summary_message(
                retro=retro, action_items=listed, today=now.date()
            )
            self.outbox.post(
                session,
                team_id=team_id,
                channel=retro.channel_id,
                text=summary.text,
                blocks=summary.blocks,
                key=f"followup:{retro_id}",
                retro_id=retro_id,
                report_to=retro.facilitator_id,
                what=action_items.followup_what(retro=retro),
            )
            session.commit()
        return True

    def record_failure(self, session: Session, delivery: Delivery, error: str) -> None:
        """A notice about an action item that could not be delivered: kept on its record."""
        notice = queries.notice(
            session,
            team_id=delivery.team_id,
            action_item_id=int(delivery.payload.get("action_id") or 0),
            kind=str(delivery.payload.get("notice")),
        )
        if notice is not None:
            notice.error = error[:100]
            session.add(notice)

    # ------------------------------------------------------------ helpers

    def notice(
        self,
        session: Session,
        action_item: ActionItem,
        retro: Retro,
        kind: str,
        message: action_items.Message,
        *,
        priority: int = Priority.NORMAL,
        report_to: str | None = None,
        what: str | None = None,
    ) -> bool:
        """Record a notice and queue it, in the caller's transaction: the record's unique key is what stops
        a second one. False if it is recorded already."""
        if (
            queries.notice(session, team_id=action_item.team_id, action_item_id=action_item.id, kind=kind)
            is not None
        ):
            return False
        session.add(
            ActionNotice(
                team_id=action_item.team_id, action_id=action_item.id, kind=kind, sent_at=self.clock()
            )
        )
        self.outbox.post(
            session,
            team_id=action_item.team_id,
            channel=action_item.owner_id,
            text=message.text,
            blocks=message.blocks,
            key=f"notice:{action_item.id}:{kind}",
            priority=priority,
            purpose=Purpose.NOTICE,
            retro_id=retro.id,
            report_to=report_to,
            extra={"notice": kind, "action_id": action_item.id},
            what=what,
        )
        return True
