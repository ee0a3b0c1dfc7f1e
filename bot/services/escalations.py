"""Escalation: a channel's overdue action items and recurring problems go beyond the team. `/retro escalate
#board [days]` names the channel; a weekly digest goes there (Mondays 09:00 in its setter's time zone) and
each escalated item's owner and facilitator are told once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.cadence import Cadence, Slot, next_occurrence
from bot.clock import Clock
from bot.errors import InvalidInput
from bot.outbox import Outbox
from bot.services.metrics import HISTORY_DEPTH
from bot.services.people import People
from bot.services.permissions import require_escalation_keeper
from bot.services.recurrence import Recurrence, recurring_problems
from bot.services.timers import Timers
from bot.timing import zone
from messages import escalation as screen
from storage import action_items as action_item_queries
from storage import escalations as queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import ActionItem, ActionNotice, Escalation, Retro

DIGEST_WEEKDAY = 0  # Monday
DIGEST_AT = time(9, 0)
DEFAULT_OVERDUE_DAYS = 7
MAX_OVERDUE_DAYS = 90
RECURRING_AT_LEAST = 3  # raised in this many of the last retros (this one included)
ESCALATED = "escalated"  # the ActionNotice kind: told once per item
_SET = re.compile(r"^<#(?P<channel>[CG][A-Z0-9]{1,30})(?:\|[^>]*)?>(?:\s+(?P<days>\S+))?$")


@dataclass(frozen=True)
class Overdue:
    action_item: ActionItem
    retro: Retro
    days_late: int


@dataclass(frozen=True)
class Digest:
    escalation: Escalation
    overdue: list[Overdue]
    recurring: list[Recurrence]
    window: int  # the retros the recurring problems were looked for in


@dataclass(frozen=True)
class EscalationChange:
    """What `/retro escalate` did: `escalation` is None when there is none (shown or turned off)."""

    channel_id: str
    escalation: Escalation | None
    changed: bool


def next_digest(tz: str, after: datetime) -> datetime:
    return next_occurrence(Slot(Cadence.WEEKLY, DIGEST_WEEKDAY, DIGEST_AT, tz), after)


class EscalationService:
    def __init__(
        self, *, engine: Engine, clock: Clock, outbox: Outbox, timers: Timers, people: People
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.timers = timers
        self.people = people

    # ------------------------------------------------------------ /retro escalate

    def configure(self, *, team_id: str, channel_id: str, user_id: str, args: str) -> EscalationChange:
        """`/retro escalate` shows the setting; `#channel [days]` sets it, `off` removes it. Setting it is for
        the facilitator of the channel's last retro and the keepers of its schedule."""
        words = args.strip()
        if not words:
            with unit_of_work(self.engine) as session:
                found = queries.for_channel(session, team_id=team_id, channel_id=channel_id)
                return EscalationChange(channel_id, found, changed=False)
        if words.lower() == "off":
            return self._remove(team_id, channel_id, user_id)
        match = _SET.match(words)
        if match is None:
            raise InvalidInput({"escalate": screen.USAGE})
        target = match.group("channel")
        days = DEFAULT_OVERDUE_DAYS
        if match.group("days") is not None:
            text = match.group("days").lower().removesuffix("d")
            if not text.isdigit() or not 1 <= int(text) <= MAX_OVERDUE_DAYS:
                raise InvalidInput({"escalate": screen.bad_days_text(most=MAX_OVERDUE_DAYS)})
            days = int(text)
        if target == channel_id:
            raise InvalidInput({"escalate": screen.same_channel_text()})
        return self._set(team_id, channel_id, user_id, target, days)

    def _set(self, team_id: str, channel_id: str, user_id: str, target: str, days: int) -> EscalationChange:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            require_escalation_keeper(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
            escalation = queries.for_channel(session, team_id=team_id, channel_id=channel_id, lock=True)
            cached = self.people.cached(session, team_id, user_id)
            tz = zone(cached.tz if cached and cached.tz else None).key
            if escalation is None:
                escalation = Escalation(
                    team_id=team_id,
                    channel_id=channel_id,
                    target_channel_id=target,
                    set_by=user_id,
                    tz=tz,
                    next_at=next_digest(tz, now),
                    updated_at=now,
                )
            escalation.target_channel_id = target
            escalation.overdue_days = days
            escalation.set_by = user_id
            escalation.updated_at = now
            session.add(escalation)
            session.flush()
            if cached is None:  # the setter's time zone comes from Slack, after the ack
                self.outbox.task(
                    session,
                    team_id=team_id,
                    name="escalation_zone",
                    args={"escalation_id": escalation.id},
                    key=f"escalation_zone:{escalation.id}:{now.isoformat()}",
                )
            session.commit()
            session.refresh(escalation)
            jobs = self.timers.escalation(escalation)
        self.timers.schedule(jobs)
        return EscalationChange(channel_id, escalation, changed=True)

    def _remove(self, team_id: str, channel_id: str, user_id: str) -> EscalationChange:
        with unit_of_work(self.engine) as session:
            require_escalation_keeper(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
            escalation = queries.for_channel(session, team_id=team_id, channel_id=channel_id, lock=True)
            if escalation is None:
                return EscalationChange(channel_id, None, changed=False)
            stale = self.timers.escalation_ids(escalation)
            session.delete(escalation)
            session.commit()
        self.timers.cancel(stale)
        return EscalationChange(channel_id, None, changed=True)

    def settle_zone(self, *, team_id: str, escalation_id: int) -> None:
        """Task: the setter's time zone from Slack; the digest moves to Monday 09:00 there."""
        with unit_of_work(self.engine) as session:
            escalation = queries.get(session, team_id=team_id, escalation_id=escalation_id)
            if escalation is None:
                return
            setter = escalation.set_by
        found = self.people.resolve(team_id, [setter]).people.get(setter)
        if found is None or not found.tz:
            return
        with unit_of_work(self.engine) as session:
            escalation = queries.get(session, team_id=team_id, escalation_id=escalation_id, lock=True)
            if escalation is None or escalation.tz == zone(found.tz).key:
                return
            escalation.tz = zone(found.tz).key
            escalation.next_at = next_digest(escalation.tz, self.clock())
            session.add(escalation)
            session.commit()
            jobs = self.timers.escalation(escalation)
        self.timers.schedule(jobs)  # replaces the job of the same id

    # ------------------------------------------------------------ the weekly digest

    def digest_of(self, session: Session, escalation: Escalation, now: datetime) -> Digest:
        """Open items more than `overdue_days` past due, counted on their owner's calendar (or the setter's
        when the owner's zone is unknown), and the problems raised in 3 or more of the channel's last retros."""
        overdue = []
        for action_item, retro in queries.open_action_items_of_channel(
            session, team_id=escalation.team_id, channel_id=escalation.channel_id
        ):
            assert action_item.due_date is not None  # the query's condition
            today = now.astimezone(zone(action_item.owner_tz or escalation.tz)).date()
            late = (today - action_item.due_date).days
            if late > escalation.overdue_days:
                overdue.append(Overdue(action_item, retro, late))
        latest = next(
            (
                r
                for r in retro_queries.latest_in_channel(
                    session, team_id=escalation.team_id, channel_id=escalation.channel_id, limit=10
                )
                if r.closed_at is not None and r.phase == "completed"
            ),
            None,
        )
        recurring = []
        if latest is not None:
            recurring = [r for r in recurring_problems(session, latest) if r.raised_in >= RECURRING_AT_LEAST]
        return Digest(escalation, overdue, recurring, window=HISTORY_DEPTH + 1)

    def digest(self, *, team_id: str, escalation_id: int, at: str) -> bool:
        """Job: post this week's digest (once: keyed by its moment) and tell each newly escalated item's
        owner and facilitator, once per item; then schedule next week's. Nothing to escalate: no post."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            escalation = queries.get(session, team_id=team_id, escalation_id=escalation_id, lock=True)
            if escalation is None or escalation.next_at.isoformat() != at:
                return False  # removed, or moved since this job was scheduled
            found = self.digest_of(session, escalation, now)
            if found.overdue or found.recurring:
                message = screen.digest_message(found)
                self.outbox.post(
                    session,
                    team_id=team_id,
                    channel=escalation.target_channel_id,
                    text=message.text,
                    blocks=message.blocks,
                    key=f"escalation:{escalation.id}:{at}",
                    report_to=escalation.set_by,
                    what=screen.digest_what(escalation),
                )
            told = action_item_queries.noticed(
                session,
                team_id=team_id,
                action_item_ids=[o.action_item.id for o in found.overdue],
                kind=ESCALATED,
            )
            for item in found.overdue:
                if item.action_item.id in told:
                    continue
                session.add(
                    ActionNotice(team_id=team_id, action_id=item.action_item.id, kind=ESCALATED, sent_at=now)
                )
                for person in dict.fromkeys([item.action_item.owner_id, item.retro.facilitator_id]):
                    self.outbox.post(
                        session,
                        team_id=team_id,
                        channel=person,
                        text=screen.escalated_text(
                            item=item, escalation=escalation, owner=person == item.action_item.owner_id
                        ),
                        key=f"escalated:{item.action_item.id}:{person}",
                    )
            escalation.next_at = next_digest(escalation.tz, now)
            session.add(escalation)
            try:
                session.commit()
            except IntegrityError:
                return False  # another run recorded it first
            jobs = self.timers.escalation(escalation)
        self.timers.schedule(jobs)
        return True
