"""A channel's cadence runs itself: at `next_at - plan_lead_hours` a SCHEDULE_DUE job makes the occurrence's
plan (PlanService.propose, facilitated by the rotation's next person still in the channel) and moves
`next_at` to the following occurrence. The job is derived from the schedule alone (Timers.schedule_due), so
`Timers.reconcile` re-creates it after a crash; the plan is unique per occurrence, so a task run twice makes
one. A schedule whose retros got no answers twice in a row pauses itself (`count_collection`)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cadence import Cadence, Slot, next_occurrence, parse_time
from bot.clock import Clock
from bot.errors import DomainError
from bot.gateway import SlackGateway
from bot.outbox import Outbox
from bot.services.people import People
from bot.services.plans import PlanService
from bot.services.timers import Later, Timers
from messages import schedule as schedule_messages
from storage import plans as plan_queries
from storage.db import unit_of_work
from storage.models import Retro, RetroPlan, RetroSchedule

logger = logging.getLogger(__name__)

PAUSE_AFTER_EMPTY = 2  # retros in a row with no answers


def slot_of(schedule: RetroSchedule) -> Slot:
    return Slot(
        cadence=Cadence(schedule.cadence or Cadence.WEEKLY),
        weekday=schedule.weekday,
        at=parse_time(schedule.at_time),
        tz=schedule.tz,
        every_weeks=schedule.every_weeks,
        anchor=schedule.anchor,
    )


def runs(schedule: RetroSchedule) -> bool:
    """A cadence that is not paused: it has a next occurrence to plan."""
    return schedule.cadence is not None and schedule.paused_at is None and schedule.next_at is not None


class ScheduleService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        outbox: Outbox,
        timers: Timers,
        plans: PlanService,
        people: People,
        gateway: SlackGateway,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.timers = timers
        self.plans = plans
        self.people = people
        self.gateway = gateway

    # ------------------------------------------------------------ the cadence's job

    def due(self, *, team_id: str, schedule_id: int, occurrence: str) -> None:
        """Task: plan the occurrence `occurrence` (ISO, UTC) of a schedule, once, and move on to the next.
        A firing for an occurrence already passed (the schedule moved on, was edited or paused) does nothing."""
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id)
            if schedule is None or not self._current(schedule, occurrence):
                return
            rotation = list(schedule.rotation) if schedule.facilitation == "rotation" else []
            channel_id = schedule.channel_id
        # Slack before the transaction: who is still in the channel, and still active (a passing failure
        # raises, and the task runs again later).
        present: set[str] | None = None
        if rotation:
            present = set(self.gateway.channel_members(channel=channel_id))
            self.people.resolve(team_id, rotation)
        later = Later()
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id, lock=True)
            if schedule is None or not self._current(schedule, occurrence):
                return
            assert schedule.next_at is not None
            start = schedule.next_at
            if schedule.skip_next:
                schedule.skip_next = False  # "skip the next one": this is it
            elif (
                plan_queries.plan_for_occurrence(
                    session, team_id=team_id, schedule_id=schedule.id, occurrence=start
                )
                is None
            ):
                later = self._plan(session, schedule, start, present)
            schedule.next_at = next_occurrence(slot_of(schedule), start)
            schedule.updated_at = self.clock()
            session.add(schedule)
            session.commit()
            jobs = self.timers.schedule_due(schedule)
        later.run(self.timers)
        self.timers.schedule(jobs)

    @staticmethod
    def _current(schedule: RetroSchedule, occurrence: str) -> bool:
        return runs(schedule) and schedule.next_at is not None and schedule.next_at.isoformat() == occurrence

    def _plan(
        self, session: Session, schedule: RetroSchedule, start: datetime, present: set[str] | None
    ) -> Later:
        facilitation = self.plans.facilitation(
            session,
            team_id=schedule.team_id,
            channel_id=schedule.channel_id,
            advance=True,
            can_facilitate=None if present is None else present.__contains__,
        )
        if facilitation is None:
            self.outbox.post(
                session,
                team_id=schedule.team_id,
                channel=schedule.channel_id,
                text=schedule_messages.nobody_to_facilitate_text(),
                key=f"schedule-nobody:{schedule.id}:{start.isoformat()}",
            )
            return Later()
        plan = RetroPlan(
            team_id=schedule.team_id,
            channel_id=schedule.channel_id,
            schedule_id=schedule.id,
            source="cadence",
            occurrence=start,
            settings=dict(schedule.settings),
            facilitator_id=facilitation.facilitator,
            next_facilitator_id=facilitation.next_facilitator,
            planned_start=start,
            collection_days=schedule.collection_days,
            created_at=self.clock(),  # propose sets both again
            updated_at=self.clock(),
        )
        return self.plans.propose(session, plan)

    # ------------------------------------------------------------ pause and resume

    def pause(self, *, team_id: str, schedule_id: int, reason: str) -> RetroSchedule:
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id)
            if schedule.paused_at is None:
                pause_in(session, schedule, now=self.clock(), reason=reason)
                session.commit()
            ids = self.timers.schedule_due_ids(schedule)
        self.timers.cancel(ids)
        return schedule

    def resume(self, *, team_id: str, schedule_id: int) -> RetroSchedule:
        """The cadence goes on from its next occurrence after now; the streak of empty retros starts again."""
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id)
            now = self.clock()
            schedule.paused_at = None
            schedule.pause_reason = None
            schedule.empty_streak = 0
            if schedule.cadence is not None and (schedule.next_at is None or schedule.next_at <= now):
                schedule.next_at = next_occurrence(slot_of(schedule), now)
            schedule.updated_at = now
            session.add(schedule)
            session.commit()
            jobs = self.timers.schedule_due(schedule)
        self.timers.schedule(jobs)
        return schedule

    @staticmethod
    def _require(session: Session, team_id: str, schedule_id: int) -> RetroSchedule:
        schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id, lock=True)
        if schedule is None:
            raise DomainError("This channel has no retro schedule any more.")
        return schedule


def pause_in(session: Session, schedule: RetroSchedule, *, now: datetime, reason: str) -> None:
    schedule.paused_at = now
    schedule.pause_reason = reason[:200]
    schedule.updated_at = now
    session.add(schedule)


def count_collection(
    session: Session, retro: Retro, *, answered: bool, outbox: Outbox, now: datetime, later: Later
) -> None:
    """At the close of a retro's collection, in the caller's transaction: a cadence retro that nobody
    answered lengthens its schedule's streak, one with answers ends it; the second empty one in a row pauses
    the schedule and tells the channel (with a Resume button)."""
    plan = plan_queries.plan_of_retro(session, team_id=retro.team_id, retro_id=retro.id)
    if plan is None or plan.schedule_id is None or plan.source != "cadence":
        return
    schedule = plan_queries.get_schedule(
        session, team_id=retro.team_id, schedule_id=plan.schedule_id, lock=True
    )
    if schedule is None:
        return
    schedule.empty_streak = 0 if answered else schedule.empty_streak + 1
    session.add(schedule)
    if schedule.empty_streak < PAUSE_AFTER_EMPTY or schedule.paused_at is not None:
        return
    pause_in(session, schedule, now=now, reason=f"the last {schedule.empty_streak} retros got no answers")
    message = schedule_messages.paused_message(schedule_id=schedule.id, streak=schedule.empty_streak)
    outbox.post(
        session,
        team_id=retro.team_id,
        channel=retro.channel_id,
        text=message.text,
        blocks=message.blocks,
        key=f"schedule-paused:{schedule.id}:{retro.id}",
    )
    later.cancel += Timers.schedule_due_ids(schedule)
