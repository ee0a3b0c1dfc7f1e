"""Earlier retros' action items at a new retro's kickoff: listed there, and carried over, marked done or
dropped by the new retro's facilitator (each decision redraws the kickoff, in its own transaction)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.errors import DomainError
from bot.outbox import Outbox
from bot.services.action_items import require_action_item
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.permissions import only_facilitator
from bot.services.recurrence import recurring_problems
from bot.services.timers import Timers, followup_date
from messages import common, kickoff
from storage import action_items as queries
from storage import plans as plan_queries
from storage import retros as retro_queries
from storage import trackers as tracker_queries
from storage.db import unit_of_work
from storage.models import ActionItem, Retro


def previous_items(session: Session, retro: Retro) -> tuple[Retro | None, list[ActionItem]]:
    """The previous retro's action items still open when this retro began (and what became of them)."""
    previous = retro_queries.previous_retro(session, team_id=retro.team_id, retro=retro)
    if previous is None:
        return None, []
    listed = [
        a
        for a in queries.of_retro(session, team_id=retro.team_id, retro_id=previous.id)
        if a.status == "open" or (a.closed_at is not None and a.closed_at >= retro.created_at)
    ]
    return previous, listed


def kickoff_message(session: Session, retro: Retro, participant_ids: list[str]) -> common.Message:
    """The kickoff as stored now: with the previous retro's action items and the problems that recur."""
    previous, listed = previous_items(session, retro)
    recurring: list[tuple[str, int, int]] = []
    if previous is not None:
        recurring = [(r.item.text, r.raised_in, r.window) for r in recurring_problems(session, previous)]
    return kickoff.kickoff_message(
        retro=retro,
        participant_ids=participant_ids,
        previous=previous,
        previous_items=listed,
        recurring=recurring,
        plan=plan_queries.plan_of_retro(session, team_id=retro.team_id, retro_id=retro.id),
    )


def queue_kickoff_redraw(session: Session, outbox: Outbox, retro: Retro) -> None:
    """Redraw the kickoff after a change it shows (decisions on earlier action items), in the caller's
    transaction; nothing if it was never posted."""
    if retro.kickoff_ts is None:
        return
    people = [
        p.user_id for p in retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id)
    ]
    message = kickoff_message(session, retro, people)
    outbox.update(
        session,
        team_id=retro.team_id,
        channel=retro.channel_id,
        ts=retro.kickoff_ts,
        text=message.text,
        blocks=message.blocks,
        key=f"redraw:kickoff:{retro.id}",
    )


class ActionItemCarryOver:
    def __init__(
        self, *, engine: Engine, outbox: Outbox, clock: Clock, timers: Timers, home: HomeService
    ) -> None:
        self.engine = engine
        self.outbox = outbox
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

    def decide_previous(
        self, *, team_id: str, retro_id: int, action_item_id: int, user_id: str, decision: str
    ) -> None:
        """The new retro's facilitator carries an earlier open item over, marks it done, or drops it; the
        kickoff, which lists it, is redrawn."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            # The retro locked: two decisions at once take turns, so the second kickoff redraw shows both.
            retro = require_retro(session, team_id, retro_id, lock=True)
            only_facilitator(retro, user_id, "decides on earlier action items")
            # Locked: two decisions at once must not both find it open (and carry it over twice).
            action_item = require_action_item(session, team_id, action_item_id, lock=True)
            previous = retro_queries.previous_retro(session, team_id=team_id, retro=retro)
            if previous is None or action_item.retro_id != previous.id:
                raise DomainError("That action item is not from the previous retro.")
            if action_item.status != "open":
                raise DomainError(f"That action item is already {action_item.status}.")
            action_item.status = {"carry": "carried", "done": "done", "drop": "dropped"}[decision]
            action_item.closed_at = now
            if decision == "drop":
                action_item.status_note = f"Dropped at the next retro, {retro.title}"
            session.add(action_item)
            carried = None
            if decision == "carry":
                due = (
                    action_item.due_date
                    if action_item.due_date and action_item.due_date >= now.date()
                    else followup_date(retro)
                )
                carried = ActionItem(
                    team_id=team_id,
                    retro_id=retro_id,
                    text=action_item.text,
                    owner_id=action_item.owner_id,
                    owner_name=action_item.owner_name,
                    owner_tz=action_item.owner_tz,
                    due_date=due,
                    priority=action_item.priority,
                    link=action_item.link,
                    created_by=user_id,
                    carried_from_id=action_item.id,
                    created_at=now,
                    ticket_url=action_item.ticket_url,
                )
                session.add(carried)
                session.flush()
                # The same work: its ticket in the tracker follows it (and is read back for it).
                tracker_queries.carry_ticket(session, from_item=action_item, to_item=carried, now=now)
            self.home.queue(session, team_id=team_id, user_id=action_item.owner_id)
            queue_kickoff_redraw(session, self.outbox, retro)
            session.commit()
        self.timers.cancel(self.timers.action_item_ids(action_item))
        if carried is not None:
            self.timers.reschedule_action_item(carried)
