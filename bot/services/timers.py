"""Which timed jobs a retro or an action item should have, derived from its state alone.

Services schedule and cancel through here, by exact ids; on start-up `reconcile` re-creates whatever
a crash lost (APScheduler deletes a one-off job as it starts it, and a process can die before it
schedules what a committed change implies).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import MAX_PLAN_REMINDERS, Phase, PlanStatus, TurnStatus
from bot.jobs import Job, JobKind, job_id
from bot.scheduler import Jobs
from bot.timing import next_daytime, nudge_time, zone
from storage import action_items as action_item_queries
from storage import discussion as discussion_queries
from storage import escalations as escalation_queries
from storage import plans as plan_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import ActionItem, Escalation, Participant, Retro, RetroPlan, RetroSchedule, Turn

logger = logging.getLogger(__name__)


def zone_of(name: str | None) -> str:
    """The time zone a person's nudges are grouped by: their own, or UTC when Slack gave none we know."""
    return zone(name).key


REMINDERS = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}
REMIND_AT = time(9, 0)  # local time of an action item's owner
ACTION_NOTICES = ("before", "due", "overdue")


@dataclass
class Later:
    """Jobs to schedule and cancel once the transaction that implies them has committed."""

    jobs: list[Job] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)

    def run(self, timers: Timers) -> None:
        timers.cancel(self.cancel)
        timers.schedule(self.jobs)


def followup_at(retro: Retro) -> datetime:
    return retro.deadline + timedelta(weeks=retro.followup_weeks)


def followup_date(retro: Retro) -> date:
    return followup_at(retro).date()


class Timers:
    def __init__(self, *, engine: Engine, jobs: Jobs, clock: Clock) -> None:
        self.engine = engine
        self.jobs = jobs
        self.clock = clock

    # ------------------------------------------------------------ what should exist

    def collection(self, session: Session, retro: Retro) -> list[Job]:
        """The closing job, and per reminder a nudge job for each time zone with someone who has not
        answered: a thousand people in four zones make eight jobs, not two thousand."""
        if retro.phase != Phase.COLLECTING:
            return []
        now = self.clock()
        found = [
            Job(JobKind.CLOSE_COLLECTION, retro.team_id, (retro.id,), retro.deadline, {"retro_id": retro.id})
        ]
        sent = {
            (n.user_id, n.reminder)
            for n in retro_queries.nudges(session, team_id=retro.team_id, retro_id=retro.id)
        }
        waiting = {
            (reminder, zone_of(person.tz))
            for person in retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id)
            if person.responded_at is None
            for reminder in REMINDERS
            if (person.user_id, reminder) not in sent
        }
        for reminder, tz in sorted(waiting):
            ideal = retro.deadline - REMINDERS[reminder]
            when = nudge_time(ideal=ideal, deadline=retro.deadline, now=now, tz=zone(tz))
            if when is not None:
                found.append(self.nudge(retro, reminder, tz, when))
        return found

    @staticmethod
    def nudge(retro: Retro, reminder: str, tz: str, when: datetime) -> Job:
        """Everyone in time zone `tz` who has not answered, reminded at a sensible local hour."""
        return Job(
            JobKind.NUDGE,
            retro.team_id,
            (retro.id, reminder, tz),
            when,
            {"retro_id": retro.id, "reminder": reminder, "zone": tz},
        )

    @staticmethod
    def turn(retro: Retro, turn: Turn) -> list[Job]:
        """The start of a turn waiting for the person's morning, or the end of a running one."""
        if retro.phase != Phase.DISCUSSING or retro.paused_at is not None:
            return []
        args = {"retro_id": retro.id, "turn_id": turn.id}
        if turn.status == TurnStatus.SCHEDULED and turn.starts_at is not None:
            return [Job(JobKind.TURN_START, retro.team_id, (retro.id, turn.id), turn.starts_at, args)]
        if turn.status == TurnStatus.ACTIVE and turn.due_at is not None:
            return [Job(JobKind.TURN_TIMEOUT, retro.team_id, (retro.id, turn.id), turn.due_at, args)]
        return []

    @staticmethod
    def voting(retro: Retro) -> list[Job]:
        if retro.phase != Phase.VOTING or retro.voting_deadline is None:
            return []
        return [
            Job(
                JobKind.CLOSE_VOTING,
                retro.team_id,
                (retro.id,),
                retro.voting_deadline,
                {"retro_id": retro.id},
            )
        ]

    @staticmethod
    def followup(retro: Retro) -> list[Job]:
        if retro.phase == Phase.CANCELLED or retro.followup_posted_at is not None:
            return []
        return [Job(JobKind.FOLLOWUP, retro.team_id, (retro.id,), followup_at(retro), {"retro_id": retro.id})]

    def action_item(self, action_item: ActionItem) -> list[Job]:
        """Reminders the working day before and on the due date, an overdue notice the day after."""
        if action_item.status != "open" or action_item.due_date is None:
            return []
        tz = zone(action_item.owner_tz)
        now = self.clock()
        due = action_item.due_date
        day_before = due - timedelta(days=1)
        while day_before.weekday() >= 5:  # the working day before
            day_before -= timedelta(days=1)
        found = []
        for notice, day in (("before", day_before), ("due", due), ("overdue", due + timedelta(days=1))):
            when = datetime.combine(day, REMIND_AT, tzinfo=tz)
            if when <= now:
                continue
            found.append(
                Job(
                    JobKind.ACTION_REMINDER,
                    action_item.team_id,
                    (action_item.id, notice),
                    when,
                    {"action_id": action_item.id, "kind": f"{notice}:{due.isoformat()}"},
                )
            )
        return found

    def expected_for_retro(self, session: Session, retro: Retro) -> list[Job]:
        found = [*self.collection(session, retro), *self.voting(retro), *self.followup(retro)]
        turn = discussion_queries.open_turn(session, team_id=retro.team_id, retro_id=retro.id)
        if turn is not None:
            found += self.turn(retro, turn)
        return found

    # ------------------------------------------------------------ ids, for cancelling

    @staticmethod
    def collection_ids(retro: Retro, people: Iterable[Participant]) -> list[str]:
        ids = [job_id(JobKind.CLOSE_COLLECTION, retro.team_id, retro.id)]
        return ids + Timers.nudge_ids(retro, people)

    @staticmethod
    def nudge_ids(retro: Retro, people: Iterable[Participant]) -> list[str]:
        return [
            job_id(JobKind.NUDGE, retro.team_id, retro.id, reminder, tz)
            for tz in sorted({zone_of(p.tz) for p in people})
            for reminder in REMINDERS
        ]

    @staticmethod
    def turn_ids(retro: Retro, turn_id: int) -> list[str]:
        return [
            job_id(JobKind.TURN_START, retro.team_id, retro.id, turn_id),
            job_id(JobKind.TURN_TIMEOUT, retro.team_id, retro.id, turn_id),
        ]

    @staticmethod
    def voting_ids(retro: Retro) -> list[str]:
        return [job_id(JobKind.CLOSE_VOTING, retro.team_id, retro.id)]

    @staticmethod
    def followup_ids(retro: Retro) -> list[str]:
        return [job_id(JobKind.FOLLOWUP, retro.team_id, retro.id)]

    @staticmethod
    def action_item_ids(action_item: ActionItem) -> list[str]:
        return [
            job_id(JobKind.ACTION_REMINDER, action_item.team_id, action_item.id, n) for n in ACTION_NOTICES
        ]

    @staticmethod
    def plan(plan: RetroPlan) -> list[Job]:
        """A plan not started, skipped or waiting for its facilitator starts at its planned time; one that
        waits for its facilitator reminds them a day after the last time (in their daytime), three times at
        most."""
        if plan.status in (PlanStatus.PROPOSED, PlanStatus.REVIEWED):
            return [
                Job(JobKind.PLAN_START, plan.team_id, (plan.id,), plan.planned_start, {"plan_id": plan.id})
            ]
        if plan.status == PlanStatus.WAITING and plan.reminders < MAX_PLAN_REMINDERS:
            last = plan.reminded_at or plan.updated_at
            number = plan.reminders + 1
            args = {"plan_id": plan.id, "number": number}
            # A day after the last, moved out of the night where the facilitator is.
            when = next_daytime(last + timedelta(days=1), zone(plan.facilitator_tz))
            return [Job(JobKind.PLAN_REMINDER, plan.team_id, (plan.id, number), when, args)]
        return []

    @staticmethod
    def plan_ids(plan: RetroPlan) -> list[str]:
        return [job_id(JobKind.PLAN_START, plan.team_id, plan.id)] + [
            job_id(JobKind.PLAN_REMINDER, plan.team_id, plan.id, n) for n in range(1, MAX_PLAN_REMINDERS + 1)
        ]

    def schedule_due(self, schedule: RetroSchedule) -> list[Job]:
        """A running cadence plans its next occurrence `plan_lead_hours` before it (at once if that is past:
        a schedule made the day before, or a bot that was down)."""
        if schedule.cadence is None or schedule.paused_at is not None or schedule.next_at is None:
            return []
        when = max(schedule.next_at - timedelta(hours=schedule.plan_lead_hours), self.clock())
        args = {"schedule_id": schedule.id, "occurrence": schedule.next_at.isoformat()}
        return [Job(JobKind.SCHEDULE_DUE, schedule.team_id, (schedule.id,), when, args)]

    @staticmethod
    def schedule_due_ids(schedule: RetroSchedule) -> list[str]:
        return [job_id(JobKind.SCHEDULE_DUE, schedule.team_id, schedule.id)]

    def escalation(self, escalation: Escalation) -> list[Job]:
        """The weekly digest at its time (at once if that passed while the bot was down)."""
        when = max(escalation.next_at, self.clock())
        args = {"escalation_id": escalation.id, "at": escalation.next_at.isoformat()}
        return [Job(JobKind.ESCALATION_DIGEST, escalation.team_id, (escalation.id,), when, args)]

    @staticmethod
    def escalation_ids(escalation: Escalation) -> list[str]:
        return [job_id(JobKind.ESCALATION_DIGEST, escalation.team_id, escalation.id)]

    # ------------------------------------------------------------ doing it

    def schedule(self, found: Iterable[Job]) -> None:
        """All of them in one transaction of the job store (a launch's nudges, the reconciler's jobs)."""
        jobs = list(found)
        if jobs:
            self.jobs.schedule_all(jobs)

    def cancel(self, ids: Iterable[str]) -> None:
        self.jobs.cancel(ids)

    def retro_ids(self, session: Session, retro: Retro) -> list[str]:
        """The ids of every timed job of a retro but its follow-up, to cancel once the caller committed."""
        people = retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id)
        turns = retro_queries.turn_ids_in(
            session,
            team_id=retro.team_id,
            retro_id=retro.id,
            statuses=(TurnStatus.ACTIVE, TurnStatus.SCHEDULED),
        )
        ids = self.collection_ids(retro, people) + self.voting_ids(retro)
        for turn_id in turns:
            ids += self.turn_ids(retro, turn_id)
        return ids

    def reschedule_action_item(self, action_item: ActionItem) -> None:
        self.cancel(self.action_item_ids(action_item))
        self.schedule(self.action_item(action_item))

    def reconcile(self) -> int:
        """Re-create the jobs that open retros and action items should have and do not. Returns how many."""
        existing = self.jobs.existing()
        # A nudge per person, as versions before nudges by time zone scheduled them (nudge:team:retro:
        # person:reminder:), gives way to the retro's jobs for that reminder. Where there are none (its
        # ideal moment has passed while the person's own job waits for their morning) it stays: it names
        # the person, and a job per time zone would never come.
        legacy = {
            i: (team, retro_id, reminder)
            for i in existing
            if i.startswith(f"{JobKind.NUDGE}:") and i.split(":")[3] not in REMINDERS
            for _kind, team, retro_id, _person, reminder, *_ in [i.split(":")]
        }
        existing -= set(legacy)
        kept: set[tuple[str, str, str]] = set()  # a collecting retro's reminders no job per zone replaces
        missing: list[Job] = []
        with unit_of_work(self.engine) as session:
            for retro in retro_queries.not_in_phase(session, phase=Phase.CANCELLED):
                if retro.closed_at is not None and retro.followup_posted_at is not None:
                    continue
                expected = self.expected_for_retro(session, retro)
                missing += [j for j in expected if j.id not in existing]
                if retro.phase == Phase.COLLECTING:
                    replaced = {str(j.parts[1]) for j in expected if j.kind == JobKind.NUDGE}
                    kept |= {(retro.team_id, str(retro.id), r) for r in REMINDERS if r not in replaced}
            for action_item in action_item_queries.open_with_due_date(session):
                missing += [j for j in self.action_item(action_item) if j.id not in existing]
            for plan in plan_queries.open_plans(session):
                missing += [j for j in self.plan(plan) if j.id not in existing]
            for schedule in plan_queries.active_schedules(session):
                missing += [j for j in self.schedule_due(schedule) if j.id not in existing]
            for escalation in escalation_queries.all_escalations(session):
                missing += [j for j in self.escalation(escalation) if j.id not in existing]
        self.cancel(i for i, reminder in legacy.items() if reminder not in kept)
        self.schedule(missing)
        if missing:
            logger.info("re-created %d timed jobs that were missing", len(missing))
        return len(missing)
