"""A channel's cadence runs itself: at `next_at - plan_lead_hours` a SCHEDULE_DUE job makes the occurrence's
plan (PlanService.propose, facilitated by the rotation's next person still in the channel) and moves
`next_at` to the following occurrence. The job is derived from the schedule alone (Timers.schedule_due), so
`Timers.reconcile` re-creates it after a crash; the plan is unique per occurrence, so a task run twice makes
one. A schedule whose retros got no answers twice in a row pauses itself (`count_collection`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cadence import EVERY_WEEKS, Cadence, Slot, next_occurrence, parse_time
from bot.clock import Clock
from bot.errors import DomainError, InvalidInput
from bot.gateway import SlackGateway
from bot.outbox import Outbox
from bot.services.people import People
from bot.services.permissions import require_schedule_keeper
from bot.services.plans import PlanService, settings_of
from bot.services.retro_drafts import draft_errors as retro_draft_errors
from bot.services.retro_drafts import settings_draft
from bot.services.timers import Later, Timers
from bot.timing import zone
from messages import schedule as schedule_messages
from messages.schedule import SETTINGS_FIELDS, ScheduleForm
from storage import plans as plan_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Retro, RetroPlan, RetroSchedule

logger = logging.getLogger(__name__)

PAUSE_AFTER_EMPTY = 2  # retros in a row with no answers
RELEASE_RULES = ("every", "significant", "major_minor")
UNREVIEWED = ("start", "wait")
MAX_COLLECTION_DAYS = 14
MAX_WINDOW_DAYS = 60
MAX_ROTATION = 30


@dataclass(frozen=True)
class ScheduleDraft:
    """What `/retro schedule`'s modal submits. `schedule_id` None makes the channel's schedule."""

    team_id: str
    channel_id: str
    user_id: str  # who saved it
    cadence: str | None  # "weekly", "monthly", or None (releases only)
    every_weeks: int
    weekday: int
    at_time: str | None  # "HH:MM"
    collection_days: int
    settings: dict[str, Any]  # RetroDraft's settings fields, as RetroPlan.settings stores them
    facilitation: str  # "fixed" or "rotation"
    facilitator_id: str | None
    rotation: tuple[str, ...]
    release_rule: str
    release_window_days: int
    unreviewed: str
    schedule_id: int | None = None


def draft_errors_of(draft: ScheduleDraft, now: datetime) -> dict[str, str]:
    """What is wrong with a schedule, by field (messages/schedule.py FIELDS maps them to blocks)."""
    errors: dict[str, str] = {}
    if draft.cadence not in (None, *Cadence):
        errors["cadence"] = "Pick one of the listed cadences."
    elif draft.cadence == Cadence.WEEKLY and draft.every_weeks not in EVERY_WEEKS:
        errors["cadence"] = "Pick every 1, 2, 3 or 4 weeks."
    if not 0 <= draft.weekday <= 6:
        errors["weekday"] = "Pick a day of the week."
    try:
        parse_time(draft.at_time or "")
    except ValueError:
        errors["at_time"] = "Pick the time the retro starts."
    if not 1 <= draft.collection_days <= MAX_COLLECTION_DAYS:
        errors["collection_days"] = f"Pick between 1 and {MAX_COLLECTION_DAYS} days."
    if draft.facilitation == "fixed":
        if not draft.facilitator_id:
            errors["facilitator"] = "Pick who facilitates, or choose a rotation."
    elif draft.facilitation == "rotation":
        if not draft.rotation:
            errors["rotation"] = "Pick the people who take turns facilitating."
        elif len(draft.rotation) > MAX_ROTATION:
            errors["rotation"] = f"Pick at most {MAX_ROTATION} people."
    else:
        errors["facilitation"] = "Pick one person or a rotation."
    if draft.release_rule not in RELEASE_RULES:
        errors["release_rule"] = "Pick which releases start a retro."
    if not 1 <= draft.release_window_days <= MAX_WINDOW_DAYS:
        errors["release_window_days"] = f"Pick between 1 and {MAX_WINDOW_DAYS} days."
    if draft.unreviewed not in UNREVIEWED:
        errors["unreviewed"] = "Pick what happens to a plan nobody reviewed."
    settings = draft.settings
    retro = settings_draft(
        settings,
        team_id=draft.team_id,
        channel_id=draft.channel_id,
        facilitator_id=draft.user_id,
        title="schedule",
        deadline=now + timedelta(days=1),
    )
    errors.update({k: v for k, v in retro_draft_errors(retro, now).items() if k in SETTINGS_FIELDS})
    return errors


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

    # ------------------------------------------------------------ /retro schedule

    def current(self, *, team_id: str, channel_id: str) -> RetroSchedule | None:
        with unit_of_work(self.engine) as session:
            return plan_queries.schedule_for_channel(session, team_id=team_id, channel_id=channel_id)

    def new_form(self, *, team_id: str, channel_id: str, user_id: str) -> ScheduleForm:
        """The modal for a channel without a schedule: the settings of its last retro, run by whoever asks,
        every two weeks on Monday at 10:00."""
        with unit_of_work(self.engine) as session:
            last = retro_queries.latest_in_channel(session, team_id=team_id, channel_id=channel_id, limit=1)
            settings = settings_of(last[0] if last else None)
        return ScheduleForm(
            channel_id=channel_id,
            cadence="weekly:2",
            weekday=0,
            at_time="10:00",
            collection_days=3,
            settings=settings,
            facilitation="fixed",
            facilitator_id=user_id,
            rotation=[],
            release_rule="every",
            release_window_days=7,
            unreviewed="start",
        )

    def edit_form(self, *, team_id: str, schedule_id: int, user_id: str) -> ScheduleForm:
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id, lock=False)
            require_schedule_keeper(schedule, user_id, "edit this channel's retro schedule")
        cadence = (
            "none"
            if schedule.cadence is None
            else "monthly"
            if schedule.cadence == Cadence.MONTHLY
            else f"weekly:{schedule.every_weeks}"
        )
        return ScheduleForm(
            channel_id=schedule.channel_id,
            cadence=cadence,
            weekday=schedule.weekday,
            at_time=schedule.at_time,
            collection_days=schedule.collection_days,
            settings={**settings_of(None), **schedule.settings},
            facilitation=schedule.facilitation,
            facilitator_id=schedule.facilitator_id,
            rotation=list(schedule.rotation),
            release_rule=schedule.release_rule,
            release_window_days=schedule.release_window_days,
            unreviewed=schedule.unreviewed,
            schedule_id=schedule.id,
        )

    def save(self, draft: ScheduleDraft) -> RetroSchedule:
        """Make or change the channel's schedule; raises InvalidInput by field. Its time zone is the one
        People has cached for the facilitator (the person saving it, for a rotation); the `schedule_zone`
        task asks Slack when nothing is cached and moves the cadence to the right zone."""
        now = self.clock()
        errors = draft_errors_of(draft, now)
        if errors:
            raise InvalidInput(errors)
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.schedule_for_channel(
                session, team_id=draft.team_id, channel_id=draft.channel_id, lock=True
            )
            if schedule is not None:
                require_schedule_keeper(schedule, draft.user_id, "change this channel's retro schedule")
                before = (schedule.cadence, schedule.every_weeks, schedule.weekday, schedule.at_time)
            else:
                schedule = RetroSchedule(
                    team_id=draft.team_id,
                    channel_id=draft.channel_id,
                    created_by=draft.user_id,
                    facilitator_id=draft.user_id,
                    updated_at=now,
                )
                before = None
            schedule.cadence = draft.cadence
            schedule.every_weeks = draft.every_weeks
            schedule.weekday = draft.weekday
            schedule.at_time = parse_time(draft.at_time or "").strftime("%H:%M")
            schedule.collection_days = draft.collection_days
            schedule.settings = dict(draft.settings)
            schedule.facilitation = draft.facilitation
            schedule.facilitator_id = (
                draft.facilitator_id
                if draft.facilitation == "fixed" and draft.facilitator_id
                else draft.user_id
            )
            rotation = list(draft.rotation) if draft.facilitation == "rotation" else []
            if rotation != list(schedule.rotation):
                schedule.rotation_next = 0
            schedule.rotation = rotation
            schedule.release_rule = draft.release_rule
            schedule.release_window_days = draft.release_window_days
            schedule.unreviewed = draft.unreviewed
            schedule.updated_at = now
            known = self.people.cached(session, draft.team_id, self.zone_keeper(schedule))
            tz = known.tz if known and known.tz else schedule.tz
            if before != (schedule.cadence, schedule.every_weeks, schedule.weekday, schedule.at_time):
                self._restart(schedule, tz, now)
            session.add(schedule)
            session.flush()
            self.outbox.tell(
                session,
                team_id=draft.team_id,
                user=draft.user_id,
                channel=draft.channel_id,
                text=schedule_messages.saved_text(schedule),
                key=f"schedule-saved:{schedule.id}:{now.isoformat()}",
            )
            self.outbox.task(
                session,
                team_id=draft.team_id,
                name="schedule_zone",
                args={"schedule_id": schedule.id},
                key=f"schedule-zone:{schedule.id}:{now.isoformat()}",
            )
            session.commit()
            jobs = self.timers.schedule_due(schedule)
            stale = self.timers.schedule_due_ids(schedule)
        self.timers.cancel(stale)
        self.timers.schedule(jobs)
        return schedule

    @staticmethod
    def zone_keeper(schedule: RetroSchedule) -> str:
        """Whose time zone the cadence's time is in: the fixed facilitator's, or its creator's."""
        return schedule.facilitator_id if schedule.facilitation == "fixed" else schedule.created_by

    @staticmethod
    def _restart(schedule: RetroSchedule, tz: str, now: datetime) -> None:
        """The cadence from now on, in `tz`: the first occurrence after now is its anchor."""
        schedule.tz = tz
        schedule.anchor = None
        schedule.next_at = None
        schedule.skip_next = False
        if schedule.cadence is None:
            return
        first = next_occurrence(slot_of(schedule), now)
        schedule.next_at = first
        schedule.anchor = first.astimezone(zone(tz)).date()

    def settle_zone(self, *, team_id: str, schedule_id: int) -> None:
        """Task: the facilitator's time zone from Slack (users.info, cached by People); a cadence in another
        zone starts again in theirs."""
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id)
            if schedule is None:
                return
            keeper = self.zone_keeper(schedule)
        found = self.people.resolve(team_id, [keeper]).people.get(keeper)
        if found is None or not found.tz:
            return
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id, lock=True)
            if schedule is None or schedule.tz == zone(found.tz).key:
                return
            self._restart(schedule, zone(found.tz).key, self.clock())
            schedule.updated_at = self.clock()
            session.add(schedule)
            session.commit()
            jobs = self.timers.schedule_due(schedule)
            stale = self.timers.schedule_due_ids(schedule)
        self.timers.cancel(stale)
        self.timers.schedule(jobs)

    def delete(self, *, team_id: str, schedule_id: int, user_id: str) -> None:
        """The schedule goes; plans already sent stay with their facilitators (no longer counted)."""
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id)
            require_schedule_keeper(schedule, user_id, "delete this channel's retro schedule")
            for plan in plan_queries.plans_of_schedule(session, team_id=team_id, schedule_id=schedule_id):
                plan.schedule_id = None
                session.add(plan)
            session.flush()
            stale = self.timers.schedule_due_ids(schedule)
            session.delete(schedule)
            session.commit()
        self.timers.cancel(stale)

    # ------------------------------------------------------------ pause and resume

    def pause(self, *, team_id: str, schedule_id: int, user_id: str) -> RetroSchedule:
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id)
            require_schedule_keeper(schedule, user_id, "pause this channel's retro schedule")
            reason = f"by <@{user_id}>"
            if schedule.paused_at is None:
                pause_in(session, schedule, now=self.clock(), reason=reason)
                session.commit()
            ids = self.timers.schedule_due_ids(schedule)
        self.timers.cancel(ids)
        return schedule

    def resume(self, *, team_id: str, schedule_id: int, user_id: str) -> RetroSchedule:
        """The cadence goes on from its next occurrence after now; the streak of empty retros starts again."""
        with unit_of_work(self.engine) as session:
            schedule = self._require(session, team_id, schedule_id)
            require_schedule_keeper(schedule, user_id, "resume this channel's retro schedule")
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
    def _require(session: Session, team_id: str, schedule_id: int, *, lock: bool = True) -> RetroSchedule:
        schedule = plan_queries.get_schedule(session, team_id=team_id, schedule_id=schedule_id, lock=lock)
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
    pause_in(
        session, schedule, now=now, reason=f"because the last {schedule.empty_streak} retros got no answers"
    )
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
