"""Starting, inspecting and closing a retrospective."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.delivering import Defer
from bot.domain import (
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FOLLOWUP_WEEKS,
    FORMATS,
    MAX_CUSTOM_QUESTIONS,
    MAX_TITLE_LENGTH,
    MAX_VOTES,
    ROUND_ROBIN_SCOPES,
    TURN_HOURS,
    Anonymity,
    Phase,
    RetroStats,
)
from bot.errors import DomainError, InvalidInput, NoRetroHere, RetroAlreadyOpen
from bot.gateway import SlackCallFailed, SlackGateway
from bot.intents import Kind, Priority, Purpose, describe, kickoff_key, started_key
from bot.outbox import Outbox
from bot.services.action_item_carryover import ActionItemCarryOver
from bot.services.deadlines import MAX_LEAD_TIME, MIN_LEAD_TIME
from bot.services.home import HomeService
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.metrics import channel_history, earlier_retros, metrics_for
from bot.services.people import People
from bot.services.permissions import only_facilitator
from bot.services.recurrence import recurring_problems
from bot.services.stats import compute_stats
from bot.services.timers import Timers
from messages import closing, common, history, kickoff, new_retro, status, survey
from messages.chart import history_chart
from messages.report import ReportData, render_report
from messages.text import escape
from storage import repositories as repo
from storage.db import read_only, unit_of_work
from storage.deliveries import unreported_failures
from storage.models import Delivery, Participant, Retro

logger = logging.getLogger(__name__)

# Errors that mean the bot cannot use the channel at all, as opposed to a passing failure.
_CHANNEL_UNUSABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
PROGRESS_EVERY = 2.0  # seconds between redraws of the facilitator's "started" note


@dataclass(frozen=True)
class ReleaseInfo:
    """What the facilitator knows about the release; every field may be missing."""

    version: str | None = None
    deploy_date: date | None = None
    scope: str | None = None
    incidents: str | None = None
    rollbacks: str | None = None
    hotfixes: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class RetroDraft:
    team_id: str
    channel_id: str
    facilitator_id: str
    title: str
    participant_ids: tuple[str, ...]
    deadline: datetime | None
    format: str
    anonymity: str = Anonymity.OPTIONAL
    custom_questions: tuple[str, ...] = ()
    round_robin_scope: str = "everyone"
    turn_hours: int = DEFAULT_TURN_HOURS
    votes_per_person: int = DEFAULT_VOTES
    followup_weeks: int = 2
    release: ReleaseInfo = field(default_factory=ReleaseInfo)


@dataclass(frozen=True)
class Invitee:
    user_id: str
    name: str
    tz: str | None


class RetroService:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        outbox: Outbox,
        people: People,
        timers: Timers,
        carryover: ActionItemCarryOver,
        home: HomeService,
    ) -> None:
        self.home = home
        self.engine = engine
        self.gateway = gateway  # only for the launch task's lookups and links
        self.clock = clock
        self.outbox = outbox
        self.people = people
        self.timers = timers
        self.carryover = carryover

    # ------------------------------------------------------------ start

    def ensure_can_start(self, *, team_id: str, channel_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = repo.current_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
            if retro is not None:
                raise RetroAlreadyOpen(kickoff.already_open_text(retro=retro))

    def validate(self, draft: RetroDraft) -> None:
        """Everything that can be checked before the modal closes; raises InvalidInput."""
        errors: dict[str, str] = {}
        title = draft.title.strip()
        if not title:
            errors[new_retro.NEW_TITLE_BLOCK] = "Give the retro a title, for example “Release 2.4”."
        elif len(title) > MAX_TITLE_LENGTH:
            errors[new_retro.NEW_TITLE_BLOCK] = f"Keep the title under {MAX_TITLE_LENGTH} characters."
        now = self.clock()
        if draft.deadline is None:
            errors[new_retro.NEW_DEADLINE_BLOCK] = "Pick the date and time when collection should close."
        elif draft.deadline < now + MIN_LEAD_TIME:
            errors[new_retro.NEW_DEADLINE_BLOCK] = "Pick a time at least 10 minutes from now."
        elif draft.deadline > now + MAX_LEAD_TIME:
            errors[new_retro.NEW_DEADLINE_BLOCK] = "Pick a time within the next 90 days."
        if draft.format not in FORMATS:
            errors[new_retro.NEW_FORMAT_BLOCK] = "Pick one of the listed formats."
        if draft.round_robin_scope not in ROUND_ROBIN_SCOPES:
            errors[new_retro.NEW_SCOPE_BLOCK] = "Pick who takes part in the round-robin."
        if draft.turn_hours not in TURN_HOURS:
            errors[new_retro.NEW_TURN_HOURS_BLOCK] = "Pick one of the listed turn times."
        if not 1 <= draft.votes_per_person <= MAX_VOTES:
            errors[new_retro.NEW_VOTES_BLOCK] = f"Pick between 1 and {MAX_VOTES} votes."
        if draft.followup_weeks not in FOLLOWUP_WEEKS:
            errors[new_retro.NEW_FOLLOWUP_BLOCK] = "Pick 2, 3 or 4 weeks."
        if draft.anonymity not in set(Anonymity):
            errors[new_retro.NEW_ANONYMITY_BLOCK] = "Pick how anonymous answers should be."
        if len(draft.custom_questions) > MAX_CUSTOM_QUESTIONS:
            errors[new_retro.NEW_QUESTIONS_BLOCK] = (
                f"Ask at most {MAX_CUSTOM_QUESTIONS} extra questions (one per line); you wrote {len(draft.custom_questions)}."
            )
        elif any(len(q) > new_retro.MAX_QUESTION_LENGTH for q in draft.custom_questions):
            errors[new_retro.NEW_QUESTIONS_BLOCK] = (
                f"Keep each question under {new_retro.MAX_QUESTION_LENGTH} characters."
            )
        if errors:
            raise InvalidInput(errors)
        try:
            self.ensure_can_start(team_id=draft.team_id, channel_id=draft.channel_id)
        except RetroAlreadyOpen as exc:
            raise InvalidInput(
                {new_retro.NEW_TITLE_BLOCK: "This channel already has an open retro: close it first."}
            ) from exc

    def create(self, draft: RetroDraft) -> Retro:
        """Validate and store the retro, and queue its launch; no Slack call, so it fits before the ack."""
        self.validate(draft)
        assert draft.deadline is not None
        now = self.clock()
        release = draft.release
        with unit_of_work(self.engine) as session:
            retro = Retro(
                team_id=draft.team_id,
                channel_id=draft.channel_id,
                facilitator_id=draft.facilitator_id,
                facilitator_name=self.people.name(session, draft.team_id, draft.facilitator_id),
                title=draft.title.strip(),
                format=draft.format,
                phase=Phase.COLLECTING,
                deadline=draft.deadline,
                created_at=now,
                anonymity=draft.anonymity,
                custom_questions=list(draft.custom_questions),
                round_robin_scope=draft.round_robin_scope,
                turn_hours=draft.turn_hours,
                votes_per_person=draft.votes_per_person,
                followup_weeks=draft.followup_weeks,
                release_version=release.version,
                deploy_date=release.deploy_date,
                release_scope=release.scope,
                incidents=release.incidents,
                rollbacks=release.rollbacks,
                hotfixes=release.hotfixes,
                release_notes=release.notes,
            )
            session.add(retro)
            try:
                session.flush()
            except IntegrityError:
                # Another submit won the race for this channel.
                raise InvalidInput(
                    {new_retro.NEW_TITLE_BLOCK: "This channel already has an open retro: close it first."}
                ) from None
            self.outbox.task(
                session,
                team_id=draft.team_id,
                name="launch",
                args={"retro_id": retro.id, "participants": list(dict.fromkeys(draft.participant_ids))},
                key=f"launch:{retro.id}",
                lane=f"retro:{retro.id}",
                retro_id=retro.id,
            )
            session.commit()
        return retro

    def launch(self, *, team_id: str, retro_id: int, chosen: list[str]) -> None:
        """Task: find the participants, then queue the kickoff, every invitation, the facilitator's note and
        the Home tabs in one transaction. Runs again after a crash and does each part once."""
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            if retro is None or retro.phase != Phase.COLLECTING:
                return
            launched = bool(repo.participants(session=session, team_id=team_id, retro_id=retro_id))
        if not launched:
            try:
                candidates = chosen or self._channel_members(team_id, retro.channel_id)
                resolved = self.people.resolve(team_id, [*candidates, retro.facilitator_id])
            except SlackCallFailed as exc:
                if exc.transient:
                    raise  # the task runs again later
                self._abandon(team_id, retro_id, exc.error)
                return
            invitees = [
                resolved.people[u]
                for u in dict.fromkeys(candidates)
                if u in resolved.people and not resolved.people[u].is_bot and not resolved.people[u].deleted
            ]
            unreachable = [(u, e) for u, e in resolved.unreachable if u in candidates]
            with unit_of_work(self.engine) as session:
                retro = require_retro(session, team_id, retro_id)
                if repo.participants(session=session, team_id=team_id, retro_id=retro_id):
                    return  # another worker got here first
                if not retro.facilitator_name and retro.facilitator_id in resolved.people:
                    retro.facilitator_name = resolved.people[retro.facilitator_id].name
                    session.add(retro)
                for invitee in invitees:
                    session.add(
                        Participant(
                            team_id=team_id,
                            retro_id=retro_id,
                            user_id=invitee.id,
                            display_name=invitee.name,
                            tz=invitee.tz,
                        )
                    )
                with self.outbox.batch(session):  # a statement per kind, not one per person
                    opening = self._kickoff(retro, [i.id for i in invitees])
                    self.outbox.post(
                        session,
                        team_id=team_id,
                        channel=retro.channel_id,
                        text=opening.text,
                        blocks=opening.blocks,
                        key=kickoff_key(retro_id),
                        priority=Priority.URGENT,
                        purpose=Purpose.KICKOFF,
                        retro_id=retro_id,
                    )
                    invite = survey.survey_invite_message(retro=retro)
                    for invitee in invitees:
                        self.outbox.post(
                            session,
                            team_id=team_id,
                            channel=invitee.id,
                            text=invite.text,
                            blocks=invite.blocks,
                            key=f"invite:{retro_id}:{invitee.id}",
                            parent_key=kickoff_key(retro_id),
                            reply_to_parent=False,  # after the kickoff: nobody is invited to a retro that failed
                            priority=Priority.URGENT,
                            purpose=Purpose.INVITE,
                            retro_id=retro_id,
                            extra={"facilitator": retro.facilitator_id},  # whose progress note it moves
                        )
                    # Goes out as soon as the invitations are queued, and shows their progress as they go.
                    self.outbox.post(
                        session,
                        team_id=team_id,
                        channel=retro.facilitator_id,
                        text=kickoff.start_progress_text(
                            retro=retro, total=len(invitees), invited=0, failed=unreachable
                        ),
                        key=started_key(retro_id),
                        parent_key=kickoff_key(retro_id),
                        reply_to_parent=False,  # after the kickoff: nobody is invited to a retro that failed
                        priority=Priority.URGENT,
                        purpose=Purpose.STARTED,
                        retro_id=retro_id,
                        extra={"unreachable": unreachable, "total": len(invitees)},
                    )
                    for user_id in dict.fromkeys([retro.facilitator_id, *(i.id for i in invitees)]):
                        self.outbox.home(session, team_id=team_id, user_id=user_id)
                session.commit()
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            jobs = [*self.timers.collection(session, retro), *self.timers.followup(retro)] if retro else []
        # Scheduled outside any transaction: the deliveries go out meanwhile. A kickoff that failed in the
        # meantime discarded the retro (a `/retro cancel` ended it) and cancelled what existed then; what
        # it could not see goes now.
        self.timers.schedule(jobs)
        with unit_of_work(self.engine) as session:
            current = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            gone = current is None or current.phase == Phase.CANCELLED
        if jobs and gone:
            self.timers.cancel(job.id for job in jobs)

    def _channel_members(self, team_id: str, channel_id: str) -> list[str]:
        """The channel's members. A workspace nobody of which is cached yet is read meanwhile: the two
        page-by-page listings overlap instead of adding up before the first invitation."""
        if not self.people.knows_nobody(team_id):
            return self.gateway.channel_members(channel=channel_id)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-users-list") as pool:
            everyone = pool.submit(self.people.list_everyone, team_id)
            members = self.gateway.channel_members(channel=channel_id)
            everyone.result()
        return members

    def _abandon(self, team_id: str, retro_id: int, error: str) -> None:
        """The channel cannot be used: forget the retro and tell the facilitator why."""
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            if retro is None:
                return
            self._discard(session, retro, error)
            session.commit()

    def _discard(self, session: Session, retro: Retro, error: str) -> None:
        people = list(repo.participants(session=session, team_id=retro.team_id, retro_id=retro.id))
        ids = self.timers.collection_ids(retro, people) + self.timers.followup_ids(retro)
        # Once the caller committed: inside its transaction (it may have written: the dispatcher's outcome)
        # the job store's own connection would wait on SQLite's lock.
        event.listen(session, "after_commit", lambda _session: self.timers.cancel(ids), once=True)
        for person in people:
            session.delete(person)
        session.flush()
        session.delete(retro)
        text = (
            kickoff.not_in_channel_text(channel_id=retro.channel_id)
            if error in _CHANNEL_UNUSABLE
            else f"I couldn't start the retro because Slack answered `{escape(error)}`. Please try `/retro new` again."
        )
        self.outbox.tell(session, team_id=retro.team_id, user=retro.facilitator_id, channel=None, text=text)
        for person in people:
            self.outbox.home(session, team_id=retro.team_id, user_id=person.user_id)

    # ------------------------------------------------------------ what the dispatcher records

    def kickoff_posted(self, session: Session, delivery: Delivery, result: dict[str, Any]) -> None:
        self._posted(
            session, delivery, str(result["ts"]), ts_field="kickoff_ts", link_field="kickoff_permalink"
        )

    def kickoff_failed(self, session: Session, delivery: Delivery, error: str) -> None:
        retro = repo.get_retro(session=session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        if retro is not None and retro.kickoff_ts is None:
            self._discard(session, retro, error)

    def invite_outcome(self, session: Session, delivery: Delivery, *, error: str | None) -> None:
        """Recorded with the delivery's outcome, once per invitation: two statements, no reads."""
        team_id, retro_id = delivery.team_id, delivery.retro_id or 0
        invited_at = None if error else self.clock()
        if not repo.mark_invited(
            session=session,
            team_id=team_id,
            retro_id=retro_id,
            user_id=str(delivery.payload["channel"]),
            invited_at=invited_at,
            error=error,
        ):
            return  # the retro was discarded
        facilitator = delivery.payload.get("facilitator")
        if facilitator is None:  # an invitation queued by an older version
            facilitator = require_retro(session, team_id, retro_id).facilitator_id
        self.outbox.again(
            session,
            team_id=team_id,
            kind=Kind.UPDATE,
            key=f"progress:{retro_id}",
            payload={"render": "progress", "retro_id": retro_id},
            lane=f"conv:{facilitator}",
            parent_key=started_key(retro_id),
            delay=timedelta(seconds=PROGRESS_EVERY),
        )

    def progress_message(self, session: Session, *, team_id: str, retro_id: int) -> common.Message:
        retro = require_retro(session, team_id, retro_id)
        people = repo.participants(session=session, team_id=team_id, retro_id=retro_id)
        started = session.exec(
            select(Delivery).where(Delivery.team_id == team_id, Delivery.key == started_key(retro_id))
        ).first()
        earlier = started.payload.get("unreachable", []) if started else []
        failed = [(str(u), str(e)) for u, e in earlier] + [
            (p.user_id, p.invite_error) for p in people if p.invite_error
        ]
        return kickoff.start_progress_message(
            retro=retro,
            total=len(people),
            invited=sum(1 for p in people if p.invited_at is not None),
            failed=failed,
        )

    def summary_posted(self, session: Session, delivery: Delivery, result: dict[str, Any]) -> None:
        self._posted(session, delivery, str(result["ts"]), ts_field="summary_ts", link_field="report_url")

    def _posted(
        self, session: Session, delivery: Delivery, ts: str, *, ts_field: str, link_field: str
    ) -> None:
        """Keep a posted message's ts on the retro and fetch its permalink into `link_field`."""
        retro = repo.get_retro(session=session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        if retro is None:
            return
        setattr(retro, ts_field, ts)
        session.add(retro)
        self.outbox.task(
            session,
            team_id=retro.team_id,
            name="permalink",
            args={"retro_id": retro.id, "ts": ts, "field": link_field},
            # permalink:summary:{id} is what the stakeholder summary waits for (share_summary).
            key=f"permalink:{ts_field.removesuffix('_ts')}:{retro.id}",
        )

    def report_uploaded(self, session: Session, delivery: Delivery, result: dict[str, Any]) -> None:
        retro = repo.get_retro(session=session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        if retro is None:
            return
        retro.report_file_id = str(result["file_id"])
        session.add(retro)
        self.outbox.home(session, team_id=retro.team_id, user_id=retro.facilitator_id)

    def store_permalink(self, *, team_id: str, retro_id: int, ts: str, field: str) -> None:
        """Task: a convenience link (for "already open" answers and the audit trail); absent if Slack says no."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
        try:
            link: str | None = self.gateway.permalink(channel=retro.channel_id, ts=ts)
        except SlackCallFailed as exc:
            if exc.transient:
                raise
            link = None
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            setattr(retro, field, link)
            session.add(retro)
            session.commit()

    def channel_of(self, session: Session, delivery: Delivery) -> str | None:
        retro = repo.get_retro(session=session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        return retro.channel_id if retro else None

    def failure_report(self, session: Session, delivery: Delivery) -> str | None:
        """The text of one failure report, marking what it lists as told."""
        listed = unreported_failures(
            session, delivery.team_id, str(delivery.payload["user"]), delivery.payload.get("retro_id")
        )
        if not listed:
            return None
        now = self.clock()
        for failed in listed:
            failed.reported_at = now
            session.add(failed)
        session.commit()
        return kickoff.delivery_failures_text(
            failures=[(describe(d), d.last_error or d.state) for d in listed]
        )

    def _kickoff(self, retro: Retro, participant_ids: list[str]) -> common.Message:
        previous, previous_items = self.carryover.previous_items(retro=retro)
        recurring: list[tuple[str, int, int]] = []
        if previous is not None:
            with unit_of_work(self.engine) as session:
                recurring = [
                    (r.item.text, r.raised_in, r.window) for r in recurring_problems(session, previous)
                ]
        return kickoff.kickoff_message(
            retro=retro,
            participant_ids=participant_ids,
            previous=previous,
            previous_items=previous_items,
            recurring=recurring,
        )

    @staticmethod
    def _check_close(retro: Retro, user_id: str) -> None:
        only_facilitator(retro, user_id, f"can close *{escape(retro.title)}*")
        if retro.phase == Phase.CANCELLED:
            raise NoRetroHere(f"*{escape(retro.title)}* was cancelled. Start the next one with `/retro new`.")
        if retro.phase == Phase.COMPLETED and retro.report_file_id is not None:
            raise NoRetroHere(
                f"*{escape(retro.title)}* is already closed and its report is in the channel. "
                "Start the next one with `/retro new`."
            )

    def refresh_kickoff(self, *, team_id: str, retro_id: int) -> None:
        """Redraw the kickoff after a change it shows (decisions on earlier action items)."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            people = [
                p.user_id for p in repo.participants(session=session, team_id=team_id, retro_id=retro_id)
            ]
        if retro.kickoff_ts is None:
            return
        message = self._kickoff(retro, people)
        with unit_of_work(self.engine) as session:
            self.outbox.update(
                session,
                team_id=team_id,
                channel=retro.channel_id,
                ts=retro.kickoff_ts,
                text=message.text,
                blocks=message.blocks,
                key=f"redraw:kickoff:{retro_id}",
            )
            session.commit()

    # ------------------------------------------------------------ status

    def status(self, *, team_id: str, channel_id: str) -> common.Message:
        with read_only(self.engine) as session:  # an ack: it need not wait for the workers' writes
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
            stats = compute_stats(session, retro)
            turn = repo.open_turn(session=session, team_id=team_id, retro_id=retro.id)
            return status.status_message(
                retro=retro,
                stats=stats,
                now=self.clock(),
                turn_user=turn.user_id if turn else None,
                turn_due=turn.due_at if turn else None,
            )

    # ------------------------------------------------------------ close

    def close(self, *, team_id: str, channel_id: str, user_id: str) -> int:
        """Close the channel's retro (facilitator only). Returns its id; publishing follows separately."""
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
        return self.close_by_id(team_id=team_id, retro_id=retro.id, user_id=user_id)

    def close_by_id(self, *, team_id: str, retro_id: int, user_id: str, share_with: str | None = None) -> int:
        """Close (facilitator only) and queue the report's publication, in one transaction."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            self._check_close(retro, user_id)
            if retro.phase != Phase.COMPLETED:
                retro.phase = Phase.COMPLETED
                retro.closed_at = self.clock()
                session.add(retro)
            cancel = self.timers.retro_ids(session, retro)
            request = self.clock().isoformat()
            self.outbox.task(
                session,
                team_id=team_id,
                name="publish",
                args={"retro_id": retro_id, "request": request},
                key=f"publish:{retro_id}:{request}",
                lane=f"retro:{retro_id}",
                retro_id=retro_id,
            )
            if share_with:
                self.outbox.task(
                    session,
                    team_id=team_id,
                    name="share_summary",
                    args={"retro_id": retro_id, "channel_id": share_with},
                    key=f"share:{retro_id}:{share_with}:{request}",
                    lane=f"retro:{retro_id}",
                    retro_id=retro_id,
                )
            session.commit()
        # After the commit: the job store writes through a connection of its own.
        self.timers.cancel(cancel)
        return retro_id

    def cancel(self, *, team_id: str, channel_id: str, user_id: str, reason: str) -> Retro:
        """End the channel's open retro without a report; the reason stays on record. No Slack calls."""
        if not reason.strip():
            raise DomainError("Say why, so the team knows: `/retro cancel <reason>`.")
        with unit_of_work(self.engine) as session:
            retro = repo.current_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
            if retro is None:
                raise NoRetroHere("There is no open retro in this channel to cancel.")
            only_facilitator(retro, user_id, f"can cancel *{escape(retro.title)}*")
            retro.phase = Phase.CANCELLED
            retro.cancel_reason = reason.strip()[:1000]
            retro.closed_at = self.clock()
            session.add(retro)
            cancel = self.timers.retro_ids(session, retro) + self.timers.followup_ids(retro)
            # Said in the thread and shown on everyone's Home.
            self.outbox.in_thread(
                session, retro, text=closing.cancelled_text(retro=retro), key=f"cancelled:{retro.id}"
            )
            self.home.publish_retro(session, retro)
            session.commit()
        self.timers.cancel(cancel)
        return retro

    def close_view(self, *, team_id: str, channel_id: str, user_id: str) -> dict[str, object] | None:
        """The close dialog, or None when the retro is closed already and only its report needs publishing."""
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
            self._check_close(retro, user_id)
        return None if retro.phase == Phase.COMPLETED else closing.close_modal(retro=retro)

    def share_summary(self, *, team_id: str, retro_id: int, channel_id: str) -> None:
        """The stakeholder summary: highlights, learnings, top improvements, a link to the report."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            linking = [f"summary:{retro_id}", f"permalink:summary:{retro_id}"]
            if (
                retro.report_url is None
                and session.exec(
                    select(Delivery.id).where(
                        Delivery.team_id == team_id,
                        col(Delivery.key).in_(linking),
                        col(Delivery.state).in_(("pending", "sending")),
                    )
                ).first()
            ):
                raise Defer(1.0)  # the summary in the thread, which it links to, is on its way
            stats = compute_stats(session, retro)
            fmt = FORMATS[retro.format]
            listed = repo.items(session=session, team_id=team_id, retro_id=retro_id)
            votes = repo.vote_counts(session=session, team_id=team_id, retro_id=retro_id)
            highlights = [i.text for i in listed if i.category == fmt.categories[0].key]
            learnings = [
                r.surprise
                for r in repo.responses(session=session, team_id=team_id, retro_id=retro_id)
                if r.surprise
            ]
            candidates = [i for i in listed if i.category in fmt.vote_on]
            improvements = [i.text for i in sorted(candidates, key=lambda i: (-votes.get(i.id, 0), i.id))]
        message = closing.stakeholder_summary(
            retro=retro,
            stats=stats,
            highlights=highlights,
            learnings=learnings,
            improvements=improvements[:3],
        )
        with unit_of_work(self.engine) as session:
            self.outbox.post(
                session,
                team_id=team_id,
                channel=channel_id,
                text=message.text,
                blocks=message.blocks,
                key=f"stakeholders:{retro_id}:{channel_id}:{retro.closed_at}",
                retro_id=retro_id,
                report_to=retro.facilitator_id,
                extra={"what": f"the summary for <#{channel_id}> (invite me there with `/invite @Rearview`)"},
            )
            session.commit()

    def publish(self, *, team_id: str, retro_id: int) -> None:
        """Task: the summary in the kickoff thread (once) and retrospective.md; safe to run again."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            stats = compute_stats(session, retro)
            report = self._report(session, retro, stats)
            if retro.summary_ts is None:
                summary = closing.close_summary_message(retro=retro, stats=stats)
                self.outbox.in_thread(
                    session,
                    retro,
                    text=summary.text,
                    blocks=summary.blocks,
                    key=f"summary:{retro_id}",
                )
                self._mark_purpose(session, team_id, f"summary:{retro_id}", Purpose.SUMMARY)
            self.outbox.upload(
                session,
                team_id=team_id,
                channel=retro.channel_id,
                filename="retrospective.md",
                content=report,
                title=f"Retrospective: {retro.title}",
                initial_comment=closing.report_comment(retro=retro),
                key=f"report:{retro_id}:{self.clock().isoformat()}",
                purpose=Purpose.REPORT,
                retro_id=retro_id,
                report_to=retro.facilitator_id,
                what=f"the report of *{escape(retro.title)}* (run `/retro close` again to retry)",
            )
            session.commit()

    @staticmethod
    def _mark_purpose(session: Session, team_id: str, key: str, purpose: Purpose) -> None:
        found = session.exec(select(Delivery).where(Delivery.team_id == team_id, Delivery.key == key)).first()
        if found is not None and found.purpose is None and found.state == "pending":
            found.purpose = str(purpose)
            session.add(found)

    def find_for_report(self, *, team_id: str, channel_id: str, which: str) -> Retro:
        """`/retro report [retro]`: by number, by words of its title, or the channel's current one."""
        with unit_of_work(self.engine) as session:
            if not which:
                return require_channel_retro(session, team_id, channel_id, include_closed=True)
            channel_retros = list(
                repo.retros_in_channel(session=session, team_id=team_id, channel_id=channel_id)
            )
            if which.lstrip("#").isdigit():
                found = [r for r in channel_retros if r.id == int(which.lstrip("#"))]
            else:
                found = [r for r in channel_retros if which.lower() in r.title.lower()]
            if not found:
                raise NoRetroHere(
                    f"No retro in this channel matches “{escape(which)}”. `/retro history` lists them with their numbers."
                )
            return found[-1]

    def request_report(self, *, team_id: str, retro_id: int, user_id: str) -> None:
        """`/retro report`: queue the upload; the report is built by a worker, not on the ack path."""
        with unit_of_work(self.engine) as session:
            request = self.clock().isoformat()
            self.outbox.task(
                session,
                team_id=team_id,
                name="upload_report",
                args={"retro_id": retro_id, "user_id": user_id},
                key=f"upload_report:{retro_id}:{user_id}:{request}",
                retro_id=retro_id,
            )
            session.commit()

    def upload_report(self, *, team_id: str, retro_id: int, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            report = build_report(session, retro)
            self.outbox.upload(
                session,
                team_id=team_id,
                channel=retro.channel_id,
                filename="retrospective.md",
                content=report,
                title=f"Retrospective: {retro.title}",
                initial_comment=closing.report_comment(retro=retro),
                retro_id=retro_id,
                report_to=user_id,
                what="the report",
            )
            session.commit()

    def history(self, *, team_id: str, channel_id: str) -> tuple[common.Message, bool]:
        """The channel's last retros with their figures, and whether there are two or more to chart."""
        with unit_of_work(self.engine) as session:
            retros = channel_history(session, team_id=team_id, channel_id=channel_id)
            figures = {r.id: metrics_for(session, r) for r in retros if r.phase != Phase.CANCELLED}
        message = history.history_message(channel_id=channel_id, retros=retros, metrics=figures)
        return message, len(figures) >= 2

    def request_chart(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            self.outbox.task(
                session,
                team_id=team_id,
                name="upload_chart",
                args={"channel_id": channel_id, "user_id": user_id},
                key=f"chart:{channel_id}:{self.clock().isoformat()}",
            )
            session.commit()

    def upload_chart(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        """Task: draw the history chart (matplotlib is slow to start) and queue its upload."""
        with unit_of_work(self.engine) as session:
            retros = channel_history(session, team_id=team_id, channel_id=channel_id)
            plotted = [metrics_for(session, r) for r in retros if r.phase != Phase.CANCELLED]
            if len(plotted) < 2:
                return
            self.outbox.upload(
                session,
                team_id=team_id,
                channel=channel_id,
                filename="retro-history.png",
                content=history_chart(plotted).hex(),
                binary=True,
                title="Retro history",
                initial_comment="Participation, action-item completion and smoothness, retro after retro.",
                report_to=user_id,
                what="the history chart",
            )
            session.commit()

    def report_markdown(self, *, team_id: str, retro_id: int) -> str:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            return self._report(session, retro, compute_stats(session, retro))

    def _report(self, session: Session, retro: Retro, stats: RetroStats) -> str:
        return build_report(session, retro, stats)

    # ------------------------------------------------------------ helpers

    def _retro(self, team_id: str, retro_id: int, session: Session | None = None) -> Retro:
        if session is None:
            with unit_of_work(self.engine) as own:
                return self._retro(team_id, retro_id, own)
        return require_retro(session, team_id, retro_id)

    def _update(self, team_id: str, retro_id: int, **fields: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            for name, value in fields.items():
                setattr(retro, name, value)
            session.add(retro)
            session.commit()


def build_report(session: Session, retro: Retro, stats: RetroStats | None = None) -> str:
    """retrospective.md for one retro: what close uploads, `/retro report` re-uploads and the CLI prints."""
    stats = stats or compute_stats(session, retro)
    team_id, retro_id = retro.team_id, retro.id
    previous = repo.previous_retro(session=session, team_id=team_id, retro=retro)
    return render_report(
        ReportData(
            retro=retro,
            participants=repo.participants(session=session, team_id=team_id, retro_id=retro_id),
            responses=repo.responses(session=session, team_id=team_id, retro_id=retro_id),
            items=repo.items(session=session, team_id=team_id, retro_id=retro_id),
            action_items=repo.action_items(session=session, team_id=team_id, retro_id=retro_id),
            stats=stats,
            votes=repo.vote_counts(session=session, team_id=team_id, retro_id=retro_id),
            previous=previous,
            previous_actions=repo.action_items(session=session, team_id=team_id, retro_id=previous.id)
            if previous
            else [],
            history=[
                *(metrics_for(session, r) for r in earlier_retros(session, retro)),
                metrics_for(session, retro),
            ],
            recurring=recurring_problems(session, retro),
            comments=repo.comments_by_item(session=session, team_id=team_id, retro_id=retro_id),
        )
    )
