"""What the dispatcher records of a retro's deliveries: the kickoff posted (or failed), each invitation's
outcome and the facilitator's progress note, the summary and report out, their permalinks, and the list of
what could not be delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.gateway import SlackCallFailed, SlackGateway
from bot.intents import Kind, describe, started_key
from bot.outbox import Outbox
from bot.services.lookup import require_retro
from bot.services.retros import RetroService
from storage import deliveries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Delivery, Retro

PROGRESS_EVERY = 2.0  # seconds between redraws of the facilitator's "started" note


@dataclass(frozen=True)
class Progress:
    """How far the invitations of a retro got: `failed` lists (user, Slack's error)."""

    retro: Retro
    total: int
    invited: int
    failed: list[tuple[str, str]]


class RetroDeliveries:
    def __init__(
        self, *, engine: Engine, gateway: SlackGateway, clock: Clock, outbox: Outbox, retros: RetroService
    ) -> None:
        self.engine = engine
        self.gateway = gateway  # for permalinks, in a task
        self.clock = clock
        self.outbox = outbox
        self.retros = retros  # discards a retro whose kickoff failed

    def kickoff_posted(self, session: Session, delivery: Delivery, result: dict[str, Any]) -> None:
        self._posted(
            session, delivery, str(result["ts"]), ts_field="kickoff_ts", link_field="kickoff_permalink"
        )

    def kickoff_failed(self, session: Session, delivery: Delivery, error: str) -> None:
        retro = retro_queries.get_retro(session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        if retro is not None and retro.kickoff_ts is None:
            self.retros.discard(session, retro, error)

    def invite_outcome(self, session: Session, delivery: Delivery, *, error: str | None) -> None:
        """Recorded with the delivery's outcome, once per invitation: two statements, no reads."""
        self.invite_outcomes(session, [(delivery, error)])

    def invite_outcomes(self, session: Session, outcomes: list[tuple[Delivery, str | None]]) -> None:
        """Invitations' outcomes recorded with the deliveries' (error None: sent), two statements per retro
        among them, no reads: the participants marked, the facilitator's progress note asked for again."""
        by_retro: dict[tuple[str, int], list[tuple[Delivery, str | None]]] = {}
        for delivery, error in outcomes:
            by_retro.setdefault((delivery.team_id, delivery.retro_id or 0), []).append((delivery, error))
        now = self.clock()
        for (team_id, retro_id), invites in by_retro.items():
            marked = retro_queries.mark_invited_many(
                session,
                team_id=team_id,
                retro_id=retro_id,
                outcomes=[(str(d.payload["channel"]), None if e else now, e) for d, e in invites],
            )
            if marked:  # none: the retro was discarded
                self._progress_again(session, invites[-1][0])

    def _progress_again(self, session: Session, delivery: Delivery) -> None:
        team_id, retro_id = delivery.team_id, delivery.retro_id or 0
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

    def progress(self, session: Session, *, team_id: str, retro_id: int) -> Progress:
        """Where the invitations are, for the facilitator's "started" note."""
        retro = require_retro(session, team_id, retro_id)
        people = retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
        started = deliveries.by_key(session, team_id=team_id, key=started_key(retro_id))
        earlier = started.payload.get("unreachable", []) if started else []
        failed = [(str(u), str(e)) for u, e in earlier] + [
            (p.user_id, p.invite_error) for p in people if p.invite_error
        ]
        return Progress(
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
        retro = retro_queries.get_retro(session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
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
        retro = retro_queries.get_retro(session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
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
        retro = retro_queries.get_retro(session, team_id=delivery.team_id, retro_id=delivery.retro_id or 0)
        return retro.channel_id if retro else None

    def failures(self, session: Session, delivery: Delivery) -> list[tuple[str, str]]:
        """One failure report's lines, (what, Slack's error), marking what it lists as told."""
        listed = deliveries.unreported_failures(
            session,
            team_id=delivery.team_id,
            user=str(delivery.payload["user"]),
            retro_id=delivery.payload.get("retro_id"),
        )
        if not listed:
            return []
        now = self.clock()
        for failed in listed:
            failed.reported_at = now
            session.add(failed)
        session.commit()
        return [(describe(d), d.last_error or d.state) for d in listed]
