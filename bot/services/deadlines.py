"""The collection deadline: closing by itself, nudges at local hours, reminding now, extending."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import jobs
from bot.clock import Clock
from bot.domain import Phase
from bot.errors import InvalidInput, NoRetroHere, NotFacilitator
from bot.gateway import SlackCallFailed, SlackGateway
from bot.scheduler import Jobs, retro_job_prefix
from bot.services.lookup import require_retro
from bot.timing import nudge_time, zone
from messages import blocks
from messages.text import escape, mention
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Nudge, Retro

if TYPE_CHECKING:
    from bot.services.discussion import DiscussionService

logger = logging.getLogger(__name__)

REMINDERS = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}
MIN_LEAD_TIME = timedelta(minutes=10)
MAX_LEAD_TIME = timedelta(days=90)


class DeadlineService:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        jobs: Jobs,
        discussion: DiscussionService,
    ) -> None:
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.jobs = jobs
        self.discussion = discussion

    # ------------------------------------------------------------ scheduling

    def schedule(self, *, team_id: str, retro_id: int) -> None:
        """(Re)schedule the closing job and every pending nudge; safe to call again after a change."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            people = [p for p in repo.participants(session=session, team_id=team_id, retro_id=retro_id)]
        prefix = retro_job_prefix(retro.team_id, retro.id)
        self.jobs.cancel(prefix=prefix)
        if retro.phase != Phase.COLLECTING:
            return
        self.jobs.at(
            job_id=prefix + "close",
            func=jobs.close_collection,
            run_at=retro.deadline,
            kwargs={"team_id": team_id, "retro_id": retro_id},
        )
        for person in people:
            if person.responded_at is not None:
                continue
            for key, before in REMINDERS.items():
                when = nudge_time(
                    ideal=retro.deadline - before, deadline=retro.deadline, now=now, tz=zone(person.tz)
                )
                if when is None:
                    continue
                self.jobs.at(
                    job_id=f"{prefix}nudge:{key}:{person.user_id}",
                    func=jobs.nudge,
                    run_at=when,
                    kwargs={
                        "team_id": team_id,
                        "retro_id": retro_id,
                        "user_id": person.user_id,
                        "reminder": key,
                    },
                )

    def cancel(self, retro: Retro) -> None:
        self.jobs.cancel(prefix=retro_job_prefix(retro.team_id, retro.id))

    # ------------------------------------------------------------ jobs

    def close_at_deadline(self, *, team_id: str, retro_id: int) -> None:
        """Runs at the deadline (or once on start-up if it was missed). Does nothing the second time."""
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            if retro is None or retro.phase != Phase.COLLECTING or self.clock() < retro.deadline:
                return  # already moved on, or the deadline moved: a newer job is in charge
        self.discussion.begin(team_id=team_id, retro_id=retro_id)

    def nudge(self, *, team_id: str, retro_id: int, user_id: str, reminder: str) -> bool:
        """Remind one person who has not answered. Recorded before sending: never twice, even after a crash."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            person = repo.get_participant(
                session=session, team_id=team_id, retro_id=retro_id, user_id=user_id
            )
            if retro is None or person is None or person.responded_at is not None:
                return False
            if retro.phase != Phase.COLLECTING or now >= retro.deadline:
                return False
            record = Nudge(
                team_id=team_id, retro_id=retro_id, user_id=user_id, reminder=reminder, sent_at=now
            )
            session.add(record)
            try:
                session.commit()
            except IntegrityError:
                return False  # this reminder already went to this person
            message = blocks.nudge_message(retro=retro, now=now)
            try:
                self.gateway.post_message(channel=user_id, text=message.text, blocks=message.blocks)
            except SlackCallFailed as exc:
                record.error = exc.error
                session.add(record)
                session.commit()
                return False
            return True

    # ------------------------------------------------------------ facilitator commands

    def check_remind(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            self._collecting_retro_of(session, team_id, channel_id, user_id, "send reminders")

    def remind_now(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        """Nudge everyone who has not answered, now. Returns what to tell the facilitator."""
        with unit_of_work(self.engine) as session:
            retro = self._collecting_retro_of(session, team_id, channel_id, user_id, "send reminders")
            retro.manual_reminders += 1
            reminder = f"manual-{retro.manual_reminders}"
            session.add(retro)
            session.commit()
            assert retro.id is not None
            pending = [
                p.user_id
                for p in repo.participants(session=session, team_id=team_id, retro_id=retro.id)
                if p.responded_at is None
            ]
        reached = [
            u for u in pending if self.nudge(team_id=team_id, retro_id=retro.id, user_id=u, reminder=reminder)
        ]
        if not pending:
            return "Everyone has answered already: nobody to remind."
        missed = sorted(set(pending) - set(reached))
        text = f"Reminded {len(reached)} of {len(pending)} people who have not answered yet."
        if missed:
            text += " I could not reach " + ", ".join(mention(u) for u in missed) + "."
        return text

    def check_extend(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = self._current(session, team_id, channel_id)
            self._only_facilitator(retro, user_id, "change the deadline")
            if retro.phase != Phase.COLLECTING:
                raise NoRetroHere(
                    f"Collection for *{escape(retro.title)}* is over (phase: {retro.phase}); its deadline can no longer change."
                )
            return retro

    def extend(self, *, team_id: str, retro_id: int, user_id: str, deadline: datetime | None) -> Retro:
        now = self.clock()
        if deadline is None or deadline < now + MIN_LEAD_TIME:
            raise InvalidInput({blocks.EXTEND_DEADLINE_BLOCK: "Pick a time at least 10 minutes from now."})
        if deadline > now + MAX_LEAD_TIME:
            raise InvalidInput({blocks.EXTEND_DEADLINE_BLOCK: "Pick a time within the next 90 days."})
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            self._only_facilitator(retro, user_id, "change the deadline")
            if retro.phase != Phase.COLLECTING:
                raise InvalidInput(
                    {blocks.EXTEND_DEADLINE_BLOCK: "Collection is over; the deadline can no longer change."}
                )
            retro.deadline = deadline
            session.add(retro)
            session.commit()
            session.refresh(retro)
        self.schedule(team_id=team_id, retro_id=retro_id)
        if retro.kickoff_ts:
            announcement = blocks.deadline_moved_message(retro=retro)
            try:
                self.gateway.post_message(
                    channel=retro.channel_id,
                    thread_ts=retro.kickoff_ts,
                    text=announcement.text,
                    blocks=announcement.blocks,
                )
            except SlackCallFailed as exc:
                logger.warning("could not announce the new deadline: %s", exc.error)
        return retro

    def _collecting_retro_of(
        self, session: Session, team_id: str, channel_id: str, user_id: str, action: str
    ) -> Retro:
        retro = self._current(session, team_id, channel_id)
        self._only_facilitator(retro, user_id, action)
        if retro.phase != Phase.COLLECTING:
            raise NoRetroHere(f"*{escape(retro.title)}* is no longer collecting answers.")
        return retro

    @staticmethod
    def _only_facilitator(retro: Retro, user_id: str, action: str) -> None:
        if retro.facilitator_id != user_id:
            raise NotFacilitator(
                f"Only the facilitator, {mention(retro.facilitator_id)}, can {action} for *{escape(retro.title)}*."
            )

    @staticmethod
    def _current(session: Session, team_id: str, channel_id: str) -> Retro:
        retro = repo.open_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
        if retro is None:
            raise NoRetroHere("There is no open retro in this channel. Start one with `/retro new [title]`.")
        return retro
