"""Ending a retrospective: closing it (and publishing its summary and report), sharing a summary with
stakeholders, or cancelling it."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.delivering import Defer
from bot.domain import FORMATS, Phase
from bot.errors import DomainError, NoRetroHere
from bot.intents import Purpose
from bot.outbox import Outbox
from bot.services.home import HomeService
from bot.services.kudos import KudosService
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.permissions import only_facilitator
from bot.services.reports import build_report, queue_report
from bot.services.roti import RotiService
from bot.services.stats import compute_stats
from bot.services.submissions import first_submission, submitted_before
from bot.services.timers import Timers
from messages import closing
from storage import deliveries
from storage import discussion as discussion_queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Retro


class ClosingService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        outbox: Outbox,
        timers: Timers,
        home: HomeService,
        roti: RotiService,
        kudos: KudosService,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.timers = timers
        self.home = home
        self.roti = roti
        self.kudos = kudos

    def close(self, *, team_id: str, channel_id: str, user_id: str) -> int:
        """Close the channel's retro (facilitator only). Returns its id; publishing follows separately."""
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
        return self.close_by_id(team_id=team_id, retro_id=retro.id, user_id=user_id)

    def close_by_id(
        self,
        *,
        team_id: str,
        retro_id: int,
        user_id: str,
        share_with: str | None = None,
        view_id: str | None = None,
    ) -> int:
        """Close (facilitator only) and queue the report's publication, in one transaction. The same close
        modal (`view_id`) submitted again does nothing more, and while a publication of this retro is still
        on its way (its task or its upload), asking again (`/retro close` pressed again) queues no other."""
        with unit_of_work(self.engine) as session:
            # Locked: closes at once take turns, and each later one sees what the first stored.
            retro = require_retro(session, team_id, retro_id, lock=True)
            if submitted_before(session, team_id=team_id, view_id=view_id):
                return retro_id
            self._check_close(retro, user_id)
            if any(
                deliveries.any_unsent_starting(session, team_id=team_id, prefix=f"{step}:{retro_id}:")
                for step in ("publish", "report")
            ):
                return retro_id
            first_submission(session, team_id=team_id, view_id=view_id, now=self.clock())
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
            retro = retro_queries.current_retro_in_channel(session, team_id=team_id, channel_id=channel_id)
            if retro is None:
                raise NoRetroHere("There is no open retro in this channel to cancel.")
            only_facilitator(retro, user_id, closing.may_cancel(retro=retro))
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

    def start_close(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        """`/retro close`, for the facilitator: an open retro is returned for the close modal; one closed
        already, whose report did not get out, has its report published again."""
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
            self._check_close(retro, user_id)
        if retro.phase == Phase.COMPLETED:
            self.close_by_id(team_id=team_id, retro_id=retro.id, user_id=user_id)
        return retro

    def share_summary(self, *, team_id: str, retro_id: int, channel_id: str) -> None:
        """The stakeholder summary: highlights, learnings, top improvements, a link to the report."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            linking = [f"summary:{retro_id}", f"permalink:summary:{retro_id}"]
            if retro.report_url is None and deliveries.any_unsent(session, team_id=team_id, keys=linking):
                raise Defer(1.0)  # the summary in the thread, which it links to, is on its way
            stats = compute_stats(session, retro)
            fmt = FORMATS[retro.format]
            listed = item_queries.items(session, team_id=team_id, retro_id=retro_id)
            votes = discussion_queries.vote_counts(session, team_id=team_id, retro_id=retro_id)
            highlights = [i.text for i in listed if i.category == fmt.categories[0].key]
            learnings = sorted(
                (
                    r.surprise
                    for r in item_queries.responses(session, team_id=team_id, retro_id=retro_id)
                    if r.surprise
                ),
                key=str.casefold,  # responses have random ids and no number: by text, stable
            )
            candidates = [i for i in listed if i.category in fmt.vote_on]
            improvements = [
                i.text for i in sorted(candidates, key=lambda i: (-votes.get(i.id, 0), i.number or 0))
            ]
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
                extra={"what": closing.summary_what(channel_id=channel_id)},
            )
            session.commit()

    def publish(self, *, team_id: str, retro_id: int) -> None:
        """Task: the summary in the kickoff thread (once) and retrospective.md; safe to run again."""
        with unit_of_work(self.engine) as session:
            retro = self._retro(team_id, retro_id, session)
            stats = compute_stats(session, retro)
            report = build_report(session, retro, stats)
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
                self.roti.ask(session, retro)  # once: with the summary, not with every report again
                self.kudos.post_at_close(session, retro)
            queue_report(
                self.outbox,
                session,
                retro,
                report,
                report_to=retro.facilitator_id,
                key=f"report:{retro_id}:{self.clock().isoformat()}",
                purpose=Purpose.REPORT,
                what=closing.report_what(retro=retro),
            )
            session.commit()

    @staticmethod
    def _mark_purpose(session: Session, team_id: str, key: str, purpose: Purpose) -> None:
        found = deliveries.by_key(session, team_id=team_id, key=key)
        if found is not None and found.purpose is None and found.state == "pending":
            found.purpose = str(purpose)
            session.add(found)

    @staticmethod
    def _check_close(retro: Retro, user_id: str) -> None:
        only_facilitator(
            retro,
            user_id,
            closing.may_close(retro=retro),
            may_plain=closing.may_close(retro=retro, mrkdwn=False),
        )
        if retro.phase == Phase.CANCELLED:
            raise NoRetroHere(
                closing.was_cancelled_text(retro=retro),
                plain=closing.was_cancelled_text(retro=retro, mrkdwn=False),
            )
        if retro.phase == Phase.COMPLETED and retro.report_file_id is not None:
            raise NoRetroHere(
                closing.already_closed_text(retro=retro),
                plain=closing.already_closed_text(retro=retro, mrkdwn=False),
            )

    def _retro(self, team_id: str, retro_id: int, session: Session) -> Retro:
        return require_retro(session, team_id, retro_id)
