"""Starting, inspecting and closing a retrospective."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
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
from bot.errors import DomainError, InvalidInput, NoRetroHere, NotFacilitator, RetroAlreadyOpen
from bot.gateway import SlackCallFailed, SlackGateway
from bot.services.actions import ActionService
from bot.services.deadlines import MAX_LEAD_TIME, MIN_LEAD_TIME, DeadlineService
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.metrics import channel_history, earlier_retros, metrics_for
from bot.services.notify import tell
from bot.services.recurrence import recurring_problems
from bot.services.stats import compute_stats
from messages import blocks
from messages.chart import history_chart
from messages.report import ReportData, render_report
from messages.text import escape, mention
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Participant, Retro

logger = logging.getLogger(__name__)

# Errors that mean the bot cannot use the channel at all, as opposed to a passing failure.
_CHANNEL_UNUSABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


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
        deadlines: DeadlineService,
        actions: ActionService,
        home: HomeService,
    ) -> None:
        self.home = home
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.deadlines = deadlines
        self.actions = actions

    # ------------------------------------------------------------ start

    def ensure_can_start(self, *, team_id: str, channel_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = repo.open_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
            if retro is not None:
                raise RetroAlreadyOpen(blocks.already_open_text(retro=retro))

    def validate(self, draft: RetroDraft) -> None:
        """Everything that can be checked before the modal closes; raises InvalidInput."""
        errors: dict[str, str] = {}
        title = draft.title.strip()
        if not title:
            errors[blocks.NEW_TITLE_BLOCK] = "Give the retro a title, for example “Release 2.4”."
        elif len(title) > MAX_TITLE_LENGTH:
            errors[blocks.NEW_TITLE_BLOCK] = f"Keep the title under {MAX_TITLE_LENGTH} characters."
        now = self.clock()
        if draft.deadline is None:
            errors[blocks.NEW_DEADLINE_BLOCK] = "Pick the date and time when collection should close."
        elif draft.deadline < now + MIN_LEAD_TIME:
            errors[blocks.NEW_DEADLINE_BLOCK] = "Pick a time at least 10 minutes from now."
        elif draft.deadline > now + MAX_LEAD_TIME:
            errors[blocks.NEW_DEADLINE_BLOCK] = "Pick a time within the next 90 days."
        if draft.format not in FORMATS:
            errors[blocks.NEW_FORMAT_BLOCK] = "Pick one of the listed formats."
        if draft.round_robin_scope not in ROUND_ROBIN_SCOPES:
            errors[blocks.NEW_SCOPE_BLOCK] = "Pick who takes part in the round-robin."
        if draft.turn_hours not in TURN_HOURS:
            errors[blocks.NEW_TURN_HOURS_BLOCK] = "Pick one of the listed turn times."
        if not 1 <= draft.votes_per_person <= MAX_VOTES:
            errors[blocks.NEW_VOTES_BLOCK] = f"Pick between 1 and {MAX_VOTES} votes."
        if draft.followup_weeks not in FOLLOWUP_WEEKS:
            errors[blocks.NEW_FOLLOWUP_BLOCK] = "Pick 2, 3 or 4 weeks."
        if draft.anonymity not in set(Anonymity):
            errors[blocks.NEW_ANONYMITY_BLOCK] = "Pick how anonymous answers should be."
        if len(draft.custom_questions) > MAX_CUSTOM_QUESTIONS:
            errors[blocks.NEW_QUESTIONS_BLOCK] = (
                f"Ask at most {MAX_CUSTOM_QUESTIONS} extra questions (one per line); you wrote {len(draft.custom_questions)}."
            )
        elif any(len(q) > blocks.MAX_QUESTION_LENGTH for q in draft.custom_questions):
            errors[blocks.NEW_QUESTIONS_BLOCK] = (
                f"Keep each question under {blocks.MAX_QUESTION_LENGTH} characters."
            )
        if errors:
            raise InvalidInput(errors)
        try:
            self.ensure_can_start(team_id=draft.team_id, channel_id=draft.channel_id)
        except RetroAlreadyOpen as exc:
            raise InvalidInput(
                {blocks.NEW_TITLE_BLOCK: "This channel already has an open retro: close it first."}
            ) from exc

    def start(self, draft: RetroDraft) -> int | None:
        """Create the retro, post the kickoff and DM every participant. Runs after the modal closed."""
        assert draft.deadline is not None
        now = self.clock()
        try:
            with unit_of_work(self.engine) as session:
                release = draft.release
                retro = Retro(
                    team_id=draft.team_id,
                    channel_id=draft.channel_id,
                    facilitator_id=draft.facilitator_id,
                    facilitator_name=self._name_of(draft.facilitator_id),
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
                session.commit()
                retro_id = retro.id
                assert retro_id is not None
        except IntegrityError:
            # Another submit won the race for this channel.
            self._tell_facilitator(draft, blocks.already_open_text(retro=self._open_retro(draft)))
            return None

        try:
            invitees, unreachable = self._resolve_participants(draft)
            retro = self._retro(draft.team_id, retro_id)
            kickoff_message = self._kickoff(retro, [i.user_id for i in invitees])
            kickoff = self.gateway.post_message(
                channel=draft.channel_id, text=kickoff_message.text, blocks=kickoff_message.blocks
            )
        except SlackCallFailed as exc:
            self._discard(draft.team_id, retro_id)
            text = (
                blocks.not_in_channel_text(channel_id=draft.channel_id)
                if exc.error in _CHANNEL_UNUSABLE
                else f"I couldn't start the retro because Slack answered `{exc.error}`. Please try `/retro new` again."
            )
            tell(self.gateway, user=draft.facilitator_id, channel=None, text=text)
            return None

        permalink = self._permalink(draft.channel_id, kickoff.ts)
        with unit_of_work(self.engine) as session:
            retro = self._retro(draft.team_id, retro_id, session)
            retro.kickoff_ts = kickoff.ts
            retro.kickoff_permalink = permalink
            for invitee in invitees:
                session.add(
                    Participant(
                        team_id=draft.team_id,
                        retro_id=retro_id,
                        user_id=invitee.user_id,
                        display_name=invitee.name,
                        tz=invitee.tz,
                    )
                )
            session.commit()
            session.refresh(retro)

        invite = blocks.survey_invite_message(retro=retro)
        invited: list[str] = []
        for invitee in invitees:
            # One person's failure never stops the others.
            error: str | None = None
            try:
                self.gateway.post_message(channel=invitee.user_id, text=invite.text, blocks=invite.blocks)
                invited.append(invitee.user_id)
            except SlackCallFailed as exc:
                error = exc.error
                unreachable.append((invitee.user_id, exc.error))
            self._record_invite(draft.team_id, retro_id, invitee.user_id, error)

        self.deadlines.schedule(team_id=draft.team_id, retro_id=retro_id)
        self.actions.schedule_followup(retro)
        self.home.publish_retro(team_id=draft.team_id, retro_id=retro_id)
        tell(
            self.gateway,
            user=draft.facilitator_id,
            channel=draft.channel_id,
            text=blocks.start_report_text(retro=retro, invited=invited, failed=unreachable),
        )
        return retro_id

    def _resolve_participants(self, draft: RetroDraft) -> tuple[list[Invitee], list[tuple[str, str]]]:
        """Humans only: the chosen people, or the channel's members. Unreachable ones are reported."""
        candidates = list(dict.fromkeys(draft.participant_ids)) or self.gateway.channel_members(
            channel=draft.channel_id
        )
        invitees: list[Invitee] = []
        unreachable: list[tuple[str, str]] = []
        for user_id in candidates:
            try:
                user = self.gateway.user_info(user=user_id)
            except SlackCallFailed as exc:
                unreachable.append((user_id, exc.error))
                continue
            if user.is_bot or user.deleted:
                continue
            invitees.append(Invitee(user_id=user.id, name=user.name, tz=user.tz))
        return invitees, unreachable

    def _name_of(self, user_id: str) -> str:
        try:
            return self.gateway.user_info(user=user_id).name
        except SlackCallFailed:
            return ""  # only used to sign polite refusals; the mention still works

    def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.gateway.permalink(channel=channel, ts=ts)
        except SlackCallFailed:
            return None  # only a convenience for "already open" answers

    def _record_invite(self, team_id: str, retro_id: int, user_id: str, error: str | None) -> None:
        with unit_of_work(self.engine) as session:
            participant = repo.get_participant(
                session=session, team_id=team_id, retro_id=retro_id, user_id=user_id
            )
            assert participant is not None
            participant.invited_at = None if error else self.clock()
            participant.invite_error = error
            session.add(participant)
            session.commit()

    def _discard(self, team_id: str, retro_id: int) -> None:
        with unit_of_work(self.engine) as session:
            retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
            if retro is not None:
                session.delete(retro)
                session.commit()

    def _open_retro(self, draft: RetroDraft) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = repo.open_retro_in_channel(
                session=session, team_id=draft.team_id, channel_id=draft.channel_id
            )
            assert retro is not None
            return retro

    def _tell_facilitator(self, draft: RetroDraft, text: str) -> None:
        tell(self.gateway, user=draft.facilitator_id, channel=draft.channel_id, text=text)

    def _kickoff(self, retro: Retro, participant_ids: list[str]) -> blocks.Message:
        previous, previous_items = self.actions.previous_items(retro=retro)
        recurring: list[tuple[str, int, int]] = []
        if previous is not None:
            with unit_of_work(self.engine) as session:
                recurring = [
                    (r.item.text, r.raised_in, r.window) for r in recurring_problems(session, previous)
                ]
        return blocks.kickoff_message(
            retro=retro,
            participant_ids=participant_ids,
            previous=previous,
            previous_items=previous_items,
            recurring=recurring,
        )

    @staticmethod
    def _check_close(retro: Retro, user_id: str) -> None:
        if retro.facilitator_id != user_id:
            raise NotFacilitator(
                f"Only the facilitator, {mention(retro.facilitator_id)}, can close *{escape(retro.title)}*."
            )
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
        try:
            self.gateway.update_message(
                channel=retro.channel_id, ts=retro.kickoff_ts, text=message.text, blocks=message.blocks
            )
        except SlackCallFailed as exc:
            logger.warning("could not redraw the kickoff: %s", exc.error)

    # ------------------------------------------------------------ status

    def status(self, *, team_id: str, channel_id: str) -> blocks.Message:
        with unit_of_work(self.engine) as session:
            retro = self._current(session, team_id, channel_id)
            stats = compute_stats(session, retro)
            turn = repo.open_turn(session=session, team_id=team_id, retro_id=retro.id or 0)
            return blocks.status_message(
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
            retro = self._current(session, team_id, channel_id)
        return self.close_by_id(team_id=team_id, retro_id=retro.id or 0, user_id=user_id)

    def close_by_id(self, *, team_id: str, retro_id: int, user_id: str) -> int:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            self._check_close(retro, user_id)
            if retro.phase != Phase.COMPLETED:
                retro.phase = Phase.COMPLETED
                retro.closed_at = self.clock()
                session.add(retro)
                session.commit()
        self.deadlines.cancel(retro)
        return retro_id

    def cancel(self, *, team_id: str, channel_id: str, user_id: str, reason: str) -> Retro:
        """End the channel's open retro without a report; the reason stays on record. No Slack calls."""
        if not reason.strip():
            raise DomainError("Say why, so the team knows: `/retro cancel <reason>`.")
        with unit_of_work(self.engine) as session:
            retro = repo.open_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
            if retro is None:
                raise NoRetroHere("There is no open retro in this channel to cancel.")
            if retro.facilitator_id != user_id:
                raise NotFacilitator(
                    f"Only the facilitator, {mention(retro.facilitator_id)}, can cancel *{escape(retro.title)}*."
                )
            retro.phase = Phase.CANCELLED
            retro.cancel_reason = reason.strip()[:1000]
            retro.closed_at = self.clock()
            session.add(retro)
            session.commit()
        self.deadlines.cancel(retro)
        self.actions.cancel_followup(retro)
        return retro

    def announce_cancelled(self, retro: Retro) -> None:
        """After the facilitator's answer: say so in the thread and refresh everyone's Home."""
        if retro.kickoff_ts:
            text = blocks.cancelled_text(retro=retro)
            try:
                self.gateway.post_message(channel=retro.channel_id, thread_ts=retro.kickoff_ts, text=text)
            except SlackCallFailed as exc:
                logger.warning("could not announce the cancellation: %s", exc.error)
        self.home.publish_retro(team_id=retro.team_id, retro_id=retro.id or 0)

    def close_view(self, *, team_id: str, channel_id: str, user_id: str) -> dict[str, object] | None:
        """The close dialog, or None when the retro is closed already and only its report needs publishing."""
        with unit_of_work(self.engine) as session:
            retro = self._current(session, team_id, channel_id)
            self._check_close(retro, user_id)
        return None if retro.phase == Phase.COMPLETED else blocks.close_modal(retro=retro)

    def share_summary(self, *, team_id: str, retro_id: int, channel_id: str) -> None:
        """The stakeholder summary: highlights, learnings, top improvements, a link to the report."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
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
            improvements = [
                i.text for i in sorted(candidates, key=lambda i: (-votes.get(i.id or 0, 0), i.id or 0))
            ]
        message = blocks.stakeholder_summary(
            retro=retro,
            stats=stats,
            highlights=highlights,
            learnings=learnings,
            improvements=improvements[:3],
        )
        try:
            self.gateway.post_message(channel=channel_id, text=message.text, blocks=message.blocks)
        except SlackCallFailed as exc:
            tell(
                self.gateway,
                user=retro.facilitator_id,
                channel=retro.channel_id,
                text=f"I couldn't share the summary in <#{channel_id}> (`{escape(exc.error)}`): invite me there with "
                "`/invite @Rearview`, then run `/retro report` to find the report.",
            )

    def publish(self, *, team_id: str, retro_id: int) -> None:
        """Post the summary in the kickoff thread and upload retrospective.md; safe to run again."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            stats = compute_stats(session, retro)
            report = self._report(session, retro, stats)
        try:
            if retro.summary_ts is None:
                summary = blocks.close_summary_message(retro=retro, stats=stats)
                posted = self.gateway.post_message(
                    channel=retro.channel_id,
                    thread_ts=retro.kickoff_ts,
                    text=summary.text,
                    blocks=summary.blocks,
                )
                self._update(team_id, retro_id, summary_ts=posted.ts)
                if link := self._permalink(retro.channel_id, posted.ts):
                    self._update(team_id, retro_id, report_url=link)
            file_id = self.gateway.upload_file(
                channel=retro.channel_id,
                filename="retrospective.md",
                content=report,
                title=f"Retrospective: {retro.title}",
                initial_comment=blocks.report_comment(retro=retro),
            )
            self._update(team_id, retro_id, report_file_id=file_id)
            self.home.publish(team_id=team_id, user_id=retro.facilitator_id)
        except SlackCallFailed as exc:
            tell(
                self.gateway,
                user=retro.facilitator_id,
                channel=retro.channel_id,
                text=blocks.publish_failed_text(retro=retro, error=exc.error),
            )

    def find_for_report(self, *, team_id: str, channel_id: str, which: str) -> Retro:
        """`/retro report [retro]`: by number, by words of its title, or the channel's current one."""
        with unit_of_work(self.engine) as session:
            if not which:
                return self._current(session, team_id, channel_id)
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

    def upload_report(self, *, team_id: str, retro_id: int, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            report = build_report(session, retro)
        try:
            self.gateway.upload_file(
                channel=retro.channel_id,
                filename="retrospective.md",
                content=report,
                title=f"Retrospective: {retro.title}",
                initial_comment=blocks.report_comment(retro=retro),
            )
        except SlackCallFailed as exc:
            tell(
                self.gateway,
                user=user_id,
                channel=retro.channel_id,
                text=f"I couldn't upload the report (`{escape(exc.error)}`).",
            )

    def history(self, *, team_id: str, channel_id: str) -> tuple[blocks.Message, bytes | None]:
        """The channel's last retros with their figures, and the chart (None with fewer than two to plot)."""
        with unit_of_work(self.engine) as session:
            retros = channel_history(session, team_id=team_id, channel_id=channel_id)
            figures = {r.id or 0: metrics_for(session, r) for r in retros if r.phase != Phase.CANCELLED}
        message = blocks.history_message(channel_id=channel_id, retros=retros, metrics=figures)
        plotted = [figures[r.id or 0] for r in retros if (r.id or 0) in figures]
        return message, history_chart(plotted) if len(plotted) >= 2 else None

    def upload_chart(self, *, channel_id: str, user_id: str, chart: bytes) -> None:
        try:
            self.gateway.upload_file(
                channel=channel_id,
                filename="retro-history.png",
                content=chart,
                title="Retro history",
                initial_comment="Participation, action-item completion and smoothness, retro after retro.",
            )
        except SlackCallFailed as exc:
            tell(
                self.gateway,
                user=user_id,
                channel=channel_id,
                text=f"I couldn't upload the chart (`{escape(exc.error)}`).",
            )

    def report_markdown(self, *, team_id: str, retro_id: int) -> str:
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            return self._report(session, retro, compute_stats(session, retro))

    def _report(self, session: Session, retro: Retro, stats: RetroStats) -> str:
        return build_report(session, retro, stats)

    # ------------------------------------------------------------ helpers

    def _current(self, session: Session, team_id: str, channel_id: str) -> Retro:
        retro = repo.open_retro_in_channel(
            session=session, team_id=team_id, channel_id=channel_id
        ) or repo.latest_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
        if retro is None:
            raise NoRetroHere("There is no retro in this channel yet. Start one with `/retro new [title]`.")
        return retro

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
    assert retro.id is not None
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
            previous_actions=repo.action_items(session=session, team_id=team_id, retro_id=previous.id or 0)
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
