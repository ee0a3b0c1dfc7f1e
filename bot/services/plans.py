"""Retros that start themselves: a plan, made by a cadence or a posted release, is sent to its facilitator
to review (Start now / Edit / Skip this one) and becomes a retro at its planned time.

Every step is one transaction with the intents it implies (the plan DM, the retro's launch), and the plan's
start job is derived from its state (Timers.plan), so a crash at any point resumes from what is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cadence import rotate
from bot.clock import Clock
from bot.domain import DEFAULT_TURN_HOURS, DEFAULT_VOTES, OPEN_PLAN_STATUSES, Anonymity, PlanStatus
from bot.errors import DomainError, InvalidInput
from bot.outbox import Outbox
from bot.services.people import People
from bot.services.permissions import only_facilitator_of_plan
from bot.services.retro_drafts import ReleaseInfo, RetroDraft, draft_errors, settings_draft
from bot.services.retros import RetroService
from bot.services.timers import Later, Timers
from messages import plan as plan_messages
from storage import plans as plan_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Retro, RetroPlan, RetroSchedule

logger = logging.getLogger(__name__)

DEFAULT_FORMAT = "start_stop_continue"
DEFAULT_COLLECTION_DAYS = 3
MAX_COLLECTION_DAYS = 14  # as a schedule allows
MAX_PLAN_AHEAD = timedelta(days=90)  # as far ahead as /retro new's deadline


def settings_of(retro: Retro | None) -> dict[str, Any]:
    """A plan's retro settings, taken from the channel's last retro (or the defaults without one)."""
    if retro is None:
        return {
            "participant_ids": [],
            "format": DEFAULT_FORMAT,
            "anonymity": str(Anonymity.OPTIONAL),
            "custom_questions": [],
            "round_robin_scope": "everyone",
            "turn_hours": DEFAULT_TURN_HOURS,
            "votes_per_person": DEFAULT_VOTES,
            "followup_weeks": 2,
        }
    return {
        "participant_ids": [],  # everyone in the channel: the last retro's list may be stale
        "format": retro.format,
        "anonymity": retro.anonymity,
        "custom_questions": list(retro.custom_questions),
        "round_robin_scope": retro.round_robin_scope,
        "turn_hours": retro.turn_hours,
        "votes_per_person": retro.votes_per_person,
        "followup_weeks": retro.followup_weeks,
    }


def release_info(release: dict[str, Any]) -> ReleaseInfo:
    """The release outcome as the retro stores it; lists (incidents, links...) become lines."""

    def lines(key: str) -> str | None:
        value = release.get(key)
        if not value:
            return None
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return str(value)

    deployed = release.get("deployed_at")
    notes = [
        part
        for part in (lines("links"), lines("metrics") and f"Metrics:\n{lines('metrics')}", lines("notes"))
        if part
    ]
    return ReleaseInfo(
        version=release.get("version"),
        deploy_date=date.fromisoformat(str(deployed)[:10]) if deployed else None,
        scope=lines("scope"),
        incidents=lines("incidents"),
        rollbacks=lines("rollbacks"),
        hotfixes=lines("hotfixes"),
        notes="\n".join(notes) or None,
    )


def plan_title(plan: RetroPlan) -> str:
    if plan.settings.get("title"):
        return str(plan.settings["title"])
    if plan.release_version:
        return f"Release {plan.release_version} retro"[:150]
    return f"Retro {plan.planned_start:%b} {plan.planned_start.day}"


@dataclass(frozen=True)
class PlanEdit:
    """What the plan's Edit modal holds."""

    team_id: str
    plan_id: int
    user_id: str
    title: str
    planned_start: datetime | None
    collection_days: int
    settings: dict[str, Any]


def edit_errors(change: PlanEdit, plan: RetroPlan, now: datetime) -> dict[str, str]:
    """What is wrong with an edited plan, by field: its settings as the new-retro modal checks them."""
    errors: dict[str, str] = {}
    if change.planned_start is None:
        errors["planned_start"] = "Pick when the retro starts."
    elif change.planned_start < now:
        errors["planned_start"] = "Pick a time from now on (or press Start now on the plan)."
    elif change.planned_start > now + MAX_PLAN_AHEAD:
        errors["planned_start"] = "Pick a time within the next 90 days."
    if not 1 <= change.collection_days <= MAX_COLLECTION_DAYS:
        errors["collection_days"] = f"Pick between 1 and {MAX_COLLECTION_DAYS} days."
    settings = change.settings
    start = (
        change.planned_start if change.planned_start is not None and "planned_start" not in errors else now
    )
    draft = settings_draft(
        settings,
        team_id=plan.team_id,
        channel_id=plan.channel_id,
        facilitator_id=plan.facilitator_id,
        title=change.title,
        deadline=start + timedelta(days=max(1, change.collection_days)),
    )
    found = draft_errors(draft, now)
    found.pop("deadline", None)  # the start and the days are checked above
    return {**found, **errors}


@dataclass(frozen=True)
class Facilitation:
    facilitator: str
    next_facilitator: str | None


class PlanService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        outbox: Outbox,
        timers: Timers,
        retros: RetroService,
        people: People,
    ) -> None:
        self.people = people
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.timers = timers
        self.retros = retros

    # ------------------------------------------------------------ making plans

    def propose(self, session: Session, plan: RetroPlan) -> Later:
        """Store a new plan and queue its DM to the facilitator, in the caller's transaction. The caller
        commits, then runs the returned Later (the plan's start job)."""
        now = self.clock()
        plan.created_at = plan.updated_at = now
        session.add(plan)
        session.flush()
        self.send(session, plan, key=f"plan:{plan.id}")
        return Later(jobs=self.timers.plan(plan))

    def view_of(self, session: Session, plan: RetroPlan) -> plan_messages.PlanView:
        return plan_messages.PlanView(
            plan=plan,
            title=plan_title(plan),
            deadline=self.deadline(plan),
            waits_for_review=self._waits_for_review(session, plan),
        )

    def send(self, session: Session, plan: RetroPlan, *, key: str | None = None) -> None:
        """The plan DM to its facilitator (again after an edit, with a key of its own)."""
        message = plan_messages.plan_message(self.view_of(session, plan))
        self.outbox.post(
            session,
            team_id=plan.team_id,
            channel=plan.facilitator_id,
            text=message.text,
            blocks=message.blocks,
            key=key,
            what="the retro plan",
        )

    def deadline(self, plan: RetroPlan, start: datetime | None = None) -> datetime:
        return (start or plan.planned_start) + timedelta(days=plan.collection_days)

    def facilitation(
        self,
        session: Session,
        *,
        team_id: str,
        channel_id: str,
        advance: bool,
        can_facilitate: Callable[[str], bool] | None = None,
    ) -> Facilitation | None:
        """Who facilitates the channel's next planned retro: the schedule's fixed facilitator, the next person
        of its rotation who is still active (`advance` moves the rotation on, in the caller's transaction)
        and, where the caller knows it (`can_facilitate`: still in the channel), still there, or without a schedule the facilitator of the channel's last retro. None when nobody can."""
        schedule = plan_queries.schedule_for_channel(
            session, team_id=team_id, channel_id=channel_id, lock=advance
        )
        if schedule is None:
            last = self.last_retro(session, team_id=team_id, channel_id=channel_id)
            return Facilitation(last.facilitator_id, None) if last else None
        if schedule.facilitation != "rotation":
            return Facilitation(schedule.facilitator_id, None)

        def active(user_id: str) -> bool:
            known = self.people.cached(session, team_id, user_id)
            if known is not None and (known.deleted or known.is_bot):
                return False
            return can_facilitate is None or can_facilitate(user_id)

        turn = rotate(schedule.rotation, schedule.rotation_next, active)
        if turn is None:
            return None
        if advance:
            schedule.rotation_next = turn.next_index
            session.add(schedule)
        return Facilitation(turn.facilitator, turn.next_facilitator)

    @staticmethod
    def last_retro(session: Session, *, team_id: str, channel_id: str) -> Retro | None:
        latest = retro_queries.latest_in_channel(session, team_id=team_id, channel_id=channel_id, limit=1)
        return latest[0] if latest else None

    # ------------------------------------------------------------ starting

    def draft(self, plan: RetroPlan, start: datetime) -> RetroDraft:
        settings = plan.settings
        return RetroDraft(
            team_id=plan.team_id,
            channel_id=plan.channel_id,
            facilitator_id=plan.facilitator_id,
            title=plan_title(plan),
            participant_ids=tuple(settings.get("participant_ids", [])),
            deadline=self.deadline(plan, start),
            format=str(settings.get("format", DEFAULT_FORMAT)),
            anonymity=str(settings.get("anonymity", Anonymity.OPTIONAL)),
            custom_questions=tuple(settings.get("custom_questions", [])),
            round_robin_scope=str(settings.get("round_robin_scope", "everyone")),
            turn_hours=int(settings.get("turn_hours", DEFAULT_TURN_HOURS)),
            votes_per_person=int(settings.get("votes_per_person", DEFAULT_VOTES)),
            followup_weeks=int(settings.get("followup_weeks", 2)),
            release=release_info(plan.release),
        )

    def start_now(self, *, team_id: str, plan_id: int, user_id: str) -> Retro:
        """The facilitator's "Start now". Raises DomainError if the plan is gone, done, or not theirs."""
        retro = self._start(team_id=team_id, plan_id=plan_id, user_id=user_id)
        if retro is None:
            raise DomainError(plan_messages.not_open_text())
        return retro

    def due(self, *, team_id: str, plan_id: int) -> None:
        """Task: the plan's time has come. Reviewed plans start; unreviewed ones start anyway or wait for the
        facilitator, as the channel's schedule says."""
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id)
            if plan is None or plan.status not in (PlanStatus.PROPOSED, PlanStatus.REVIEWED):
                return
            waits = plan.status == PlanStatus.PROPOSED and self._waits_for_review(session, plan)
        if waits:
            self._wait(team_id=team_id, plan_id=plan_id)
            return
        self._start(team_id=team_id, plan_id=plan_id, user_id=None)

    def _waits_for_review(self, session: Session, plan: RetroPlan) -> bool:
        schedule: RetroSchedule | None = plan_queries.schedule_for_channel(
            session, team_id=plan.team_id, channel_id=plan.channel_id
        )
        return schedule is not None and schedule.unreviewed == "wait"

    def _wait(self, *, team_id: str, plan_id: int) -> None:
        """The plan waits for its facilitator, who is told now and reminded in their daytime (their time zone
        from Slack, before the transaction: a passing failure raises and the task runs again)."""
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id)
            if plan is None or plan.status != PlanStatus.PROPOSED:
                return
            facilitator = plan.facilitator_id
        person = self.people.resolve(team_id, [facilitator]).people.get(facilitator)
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
            if plan is None or plan.status != PlanStatus.PROPOSED:
                return
            plan.facilitator_tz = person.tz if person is not None and person.tz else None
            plan.status = PlanStatus.WAITING
            plan.reminded_at = plan.updated_at = self.clock()
            session.add(plan)
            message = plan_messages.waiting_message(plan=plan, title=plan_title(plan))
            self.outbox.post(
                session,
                team_id=team_id,
                channel=plan.facilitator_id,
                text=message.text,
                blocks=message.blocks,
                key=f"plan-waiting:{plan.id}",
            )
            session.commit()
            jobs = self.timers.plan(plan)
        self.timers.schedule(jobs)  # its first daily reminder

    def _start(self, *, team_id: str, plan_id: int, user_id: str | None) -> Retro | None:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
            if plan is None:
                raise DomainError("This plan no longer exists.")
            if user_id is not None:
                only_facilitator_of_plan(plan, user_id, "can start this retro")
            if plan.status not in OPEN_PLAN_STATUSES:
                return None
            try:
                retro = self.retros.create_in(session, self.draft(plan, now))
            except InvalidInput as exc:
                # Another retro is open in the channel (or the settings went stale): the facilitator decides.
                session.rollback()
                self._tell_blocked(team_id=team_id, plan_id=plan_id, reason=exc.plain)
                if user_id is not None:
                    raise DomainError(plan_messages.cannot_start_text(reason=exc.plain)) from exc
                return None
            plan.status = PlanStatus.STARTED
            plan.retro_id = retro.id
            plan.updated_at = now
            if plan.reviewed_at is None and user_id is not None:
                plan.reviewed_by, plan.reviewed_at = user_id, now
            session.add(plan)
            session.commit()
        self.timers.cancel(self.timers.plan_ids(plan))
        return retro

    def _tell_blocked(self, *, team_id: str, plan_id: int, reason: str) -> None:
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
            if plan is None or plan.status not in OPEN_PLAN_STATUSES:
                return
            plan.status = PlanStatus.WAITING
            plan.updated_at = self.clock()
            session.add(plan)
            self.outbox.post(
                session,
                team_id=team_id,
                channel=plan.facilitator_id,
                text=plan_messages.cannot_start_text(reason=reason),
                key=f"plan-blocked:{plan.id}:{plan.updated_at.isoformat()}",
            )
            session.commit()

    # ------------------------------------------------------------ the facilitator's other answers

    def skip(self, *, team_id: str, plan_id: int, user_id: str) -> RetroPlan:
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
            if plan is None:
                raise DomainError("This plan no longer exists.")
            only_facilitator_of_plan(plan, user_id, "can skip this retro")
            if plan.status not in OPEN_PLAN_STATUSES:
                raise DomainError(plan_messages.not_open_text())
            plan.status = PlanStatus.SKIPPED
            plan.reviewed_by, plan.reviewed_at = user_id, self.clock()
            plan.updated_at = self.clock()
            session.add(plan)
            session.commit()
        self.timers.cancel(self.timers.plan_ids(plan))
        return plan

    def _open_plan(self, session: Session, team_id: str, plan_id: int, user_id: str, may: str) -> RetroPlan:
        plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
        if plan is None:
            raise DomainError("This plan no longer exists.")
        only_facilitator_of_plan(plan, user_id, may)
        if plan.status not in OPEN_PLAN_STATUSES:
            raise DomainError(plan_messages.not_open_text())
        return plan

    def looks_good(self, *, team_id: str, plan_id: int, user_id: str) -> plan_messages.PlanView | Retro:
        """ "Looks good": reviewed, so it starts at its time. A plan whose time came while it waited starts now
        (returns the retro)."""
        with unit_of_work(self.engine) as session:
            plan = self._open_plan(session, team_id, plan_id, user_id, "can review this plan")
            waited = plan.status == PlanStatus.WAITING
        if waited:
            return self.start_now(team_id=team_id, plan_id=plan_id, user_id=user_id)
        with unit_of_work(self.engine) as session:
            plan = self._open_plan(session, team_id, plan_id, user_id, "can review this plan")
            plan.status = PlanStatus.REVIEWED
            plan.reviewed_by, plan.reviewed_at = user_id, self.clock()
            plan.updated_at = self.clock()
            session.add(plan)
            session.commit()
            return self.view_of(session, plan)

    def edit_form(self, *, team_id: str, plan_id: int, user_id: str) -> plan_messages.PlanView:
        with unit_of_work(self.engine) as session:
            plan = self._open_plan(session, team_id, plan_id, user_id, "can edit this plan")
            return self.view_of(session, plan)

    def edit(self, change: PlanEdit) -> plan_messages.PlanView:
        """The Edit modal saved: the plan takes its values and is reviewed; its start job moves with its time
        and the plan DM is redrawn in place: `chat.update` at the channel and time the outbox recorded when
        it sent the DM (never at a place the modal names, and without the click's response_url, which
        expires after 30 minutes). Raises InvalidInput by field (messages/plan.py FIELDS)."""
        now = self.clock()
        later = Later()
        with unit_of_work(self.engine) as session:
            plan = self._open_plan(
                session, change.team_id, change.plan_id, change.user_id, "can edit this plan"
            )
            errors = edit_errors(change, plan, now)
            if errors:
                raise InvalidInput(errors)
            assert change.planned_start is not None  # edit_errors says so
            later.cancel = self.timers.plan_ids(plan)
            plan.settings = {**change.settings, "title": change.title.strip()}
            plan.planned_start = change.planned_start
            plan.collection_days = change.collection_days
            plan.status = PlanStatus.REVIEWED
            plan.reviewed_by, plan.reviewed_at = change.user_id, now
            plan.updated_at = now
            session.add(plan)
            view = self.view_of(session, plan)
            message = plan_messages.plan_message(view)
            self.outbox.redraw(
                session,
                team_id=plan.team_id,
                sent_key=f"plan:{plan.id}",  # the first plan DM
                key=f"plan-redraw:{plan.id}",
                user=plan.facilitator_id,
                text=message.text,
                blocks=message.blocks,
            )
            session.commit()
            later.jobs = self.timers.plan(plan)
        later.run(self.timers)
        return view

    def remind(self, *, team_id: str, plan_id: int, number: int) -> None:
        """Job: a plan still waiting for its facilitator reminds them (once per number, at most 3)."""
        with unit_of_work(self.engine) as session:
            plan = plan_queries.get_plan(session, team_id=team_id, plan_id=plan_id, lock=True)
            if plan is None or plan.status != PlanStatus.WAITING or plan.reminders != number - 1:
                return
            plan.reminders = number
            plan.reminded_at = self.clock()
            session.add(plan)
            self.outbox.post(
                session,
                team_id=team_id,
                channel=plan.facilitator_id,
                text=plan_messages.reminder_text(plan=plan, title=plan_title(plan), number=number),
                key=f"plan-reminder:{plan.id}:{number}",
            )
            session.commit()
            jobs = self.timers.plan(plan)
        self.timers.schedule(jobs)
