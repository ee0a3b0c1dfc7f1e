"""The collection deadline: closing by itself, nudges at local hours, reminding now, extending."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase
from bot.errors import InvalidInput, NoRetroHere
from bot.intents import Purpose
from bot.outbox import Outbox
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.permissions import only_facilitator
from bot.services.timers import REMINDERS, Timers, zone_of
from messages import common, deadlines
from storage import items as stored
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Delivery, Nudge, Retro

if TYPE_CHECKING:
    from bot.services.round_robin import RoundRobin

logger = logging.getLogger(__name__)

__all__ = ["MAX_LEAD_TIME", "MIN_LEAD_TIME", "REMINDERS", "DeadlineService"]
MIN_LEAD_TIME = timedelta(minutes=10)
MAX_LEAD_TIME = timedelta(days=90)


@dataclass(frozen=True)
class Reminding:
    """`/retro remind`: `queued` of the `pending` people who have not answered are reminded."""

    queued: int
    pending: int


class DeadlineService:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        round_robin: RoundRobin,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.round_robin = round_robin

    # ------------------------------------------------------------ scheduling

    def schedule(self, *, team_id: str, retro_id: int) -> None:
        """(Re)schedule the closing job and every pending nudge; safe to call again after a change."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            people = retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
            stale = self.timers.collection_ids(retro, people)
            jobs = self.timers.collection(session, retro)
        # Outside the transaction: the job store writes through a connection of its own.
        self.timers.cancel(stale)
        self.timers.schedule(jobs)

    # ------------------------------------------------------------ jobs

    def close_at_deadline(self, *, team_id: str, retro_id: int) -> None:
        """Runs at the deadline (or once on start-up if it was missed). Does nothing the second time."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None or retro.phase != Phase.COLLECTING or self.clock() < retro.deadline:
                return  # already moved on, or the deadline moved: a newer job is in charge
        self.round_robin.begin(team_id=team_id, retro_id=retro_id)

    def nudge(
        self,
        *,
        team_id: str,
        retro_id: int,
        reminder: str,
        zone: str | None = None,
        user_ids: Collection[str] | None = None,
    ) -> int:
        """Remind everyone in time zone `zone`, or these people, who has not answered yet. Returns how many
        were reminded. The records and the messages commit together: nobody is reminded twice, even
        after a crash."""
        for _attempt in range(3):
            try:
                return self._nudge(team_id, retro_id, reminder, zone, user_ids)
            except IntegrityError:
                continue  # someone of them was reminded meanwhile (a job of an older version): look again
        return 0

    def _nudge(
        self, team_id: str, retro_id: int, reminder: str, zone: str | None, user_ids: Collection[str] | None
    ) -> int:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None or retro.phase != Phase.COLLECTING or now >= retro.deadline:
                return 0
            reminded = stored.reminded(session, team_id=team_id, retro_id=retro_id, reminder=reminder)
            due = [
                person.user_id
                for person in retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
                if person.responded_at is None
                and person.user_id not in reminded
                and (person.user_id in user_ids if user_ids is not None else zone_of(person.tz) == zone)
            ]
            message = deadlines.nudge_message(retro=retro, now=now)
            if due:  # the records in one statement, the messages in another
                session.execute(
                    insert(Nudge),
                    [
                        {
                            "team_id": team_id,
                            "retro_id": retro_id,
                            "user_id": user_id,
                            "reminder": reminder,
                            "sent_at": now,
                        }
                        for user_id in due
                    ],
                )
            with self.outbox.batch(session):
                for user_id in due:
                    self._post_nudge(session, retro, user_id, reminder, message)
            session.commit()
            return len(due)

    def _post_nudge(
        self, session: Session, retro: Retro, user_id: str, reminder: str, message: common.Message
    ) -> None:
        self.outbox.post(
            session,
            team_id=retro.team_id,
            channel=user_id,
            text=message.text,
            blocks=message.blocks,
            key=f"nudge:{retro.id}:{user_id}:{reminder}",
            purpose=Purpose.NUDGE,
            retro_id=retro.id,
            report_to=retro.facilitator_id if reminder.startswith("manual") else None,
            extra={"reminder": reminder},
            what=deadlines.nudge_what(user_id=user_id),
        )

    def record_failure(self, session: Session, delivery: Delivery, error: str) -> None:
        """A reminder that could not be delivered: kept on its record, for `/retro status` and the report."""
        if delivery.purpose != Purpose.NUDGE:
            return
        record = stored.nudge_record(
            session,
            team_id=delivery.team_id,
            retro_id=delivery.retro_id or 0,
            user_id=str(delivery.payload["channel"]),
            reminder=str(delivery.payload.get("reminder")),
        )
        if record is not None:
            record.error = error
            session.add(record)

    # ------------------------------------------------------------ facilitator commands

    def remind_now(self, *, team_id: str, channel_id: str, user_id: str) -> Reminding:
        """Nudge everyone who has not answered, now."""
        with unit_of_work(self.engine) as session:
            retro = self._collecting_retro_of(session, team_id, channel_id, user_id)
            retro.manual_reminders += 1
            reminder = f"manual-{retro.manual_reminders}"
            session.add(retro)
            session.commit()
            pending = [
                p.user_id
                for p in retro_queries.participants(session, team_id=team_id, retro_id=retro.id)
                if p.responded_at is None
            ]
        if not pending:
            return Reminding(queued=0, pending=0)
        queued = self.nudge(team_id=team_id, retro_id=retro.id, user_ids=set(pending), reminder=reminder)
        return Reminding(queued=queued, pending=len(pending))

    def check_extend(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id)
            only_facilitator(retro, user_id, deadlines.may_change_deadline(retro=retro))
            if retro.phase != Phase.COLLECTING:
                raise NoRetroHere(deadlines.deadline_fixed_text(retro=retro))
            return retro

    def extend(self, *, team_id: str, retro_id: int, user_id: str, deadline: datetime | None) -> Retro:
        now = self.clock()
        if deadline is None or deadline < now + MIN_LEAD_TIME:
            raise InvalidInput({"deadline": "Pick a time at least 10 minutes from now."})
        if deadline > now + MAX_LEAD_TIME:
            raise InvalidInput({"deadline": "Pick a time within the next 90 days."})
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            only_facilitator(
                retro,
                user_id,
                deadlines.may_change_deadline(retro=retro),
                may_plain=deadlines.may_change_deadline(retro=retro, mrkdwn=False),
            )
            if retro.phase != Phase.COLLECTING:
                raise InvalidInput({"deadline": "Collection is over; the deadline can no longer change."})
            if retro.deadline == deadline:
                return retro  # the same modal submitted twice, or the same time picked again: nothing to say
            retro.deadline = deadline
            session.add(retro)
            announcement = deadlines.deadline_moved_message(retro=retro)
            self.outbox.in_thread(session, retro, text=announcement.text, blocks=announcement.blocks)
            session.commit()
            session.refresh(retro)
        self.schedule(team_id=team_id, retro_id=retro_id)
        return retro

    def _collecting_retro_of(self, session: Session, team_id: str, channel_id: str, user_id: str) -> Retro:
        retro = require_channel_retro(session, team_id, channel_id)
        only_facilitator(retro, user_id, deadlines.may_remind(retro=retro))
        if retro.phase != Phase.COLLECTING:
            raise NoRetroHere(deadlines.not_collecting_text(retro=retro))
        return retro
