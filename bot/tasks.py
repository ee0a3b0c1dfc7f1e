"""What the dispatcher runs besides Slack calls: tasks (steps of work), renderers (messages drawn when
they are sent, from what is stored then) and what is recorded once a delivery is sent or has failed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.errors import DomainError
from bot.intents import Kind, Priority, Purpose
from bot.jobs import JobKind
from messages import ballot, kickoff
from storage.models import Delivery

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

_INVITES = "recording_invites"  # session.info: invitations' outcomes to record together

Task = Callable[["Services", str, dict[str, Any]], object]

TASKS: dict[str, Task] = {
    JobKind.CLOSE_COLLECTION: lambda s, t, a: s.deadlines.close_at_deadline(
        team_id=t, retro_id=a["retro_id"]
    ),
    JobKind.NUDGE: lambda s, t, a: s.deadlines.nudge(
        team_id=t,
        retro_id=a["retro_id"],
        reminder=a["reminder"],
        # A job of a version that nudged each person on their own names the person.
        **({"user_ids": {a["user_id"]}} if "user_id" in a else {"zone": a["zone"]}),
    ),
    JobKind.TURN_START: lambda s, t, a: s.round_robin.turn_start_due(
        team_id=t, retro_id=a["retro_id"], turn_id=a["turn_id"]
    ),
    JobKind.TURN_TIMEOUT: lambda s, t, a: s.round_robin.turn_timeout_due(
        team_id=t, retro_id=a["retro_id"], turn_id=a["turn_id"]
    ),
    JobKind.CLOSE_VOTING: lambda s, t, a: s.voting.close(team_id=t, retro_id=a["retro_id"]),
    JobKind.ACTION_REMINDER: lambda s, t, a: s.action_item_notices.remind(
        team_id=t, action_item_id=a["action_id"], kind=a["kind"]
    ),
    JobKind.FOLLOWUP: lambda s, t, a: s.action_item_notices.followup(team_id=t, retro_id=a["retro_id"]),
    JobKind.PLAN_START: lambda s, t, a: s.plans.due(team_id=t, plan_id=a["plan_id"]),
    JobKind.PLAN_REMINDER: lambda s, t, a: s.plans.remind(
        team_id=t, plan_id=a["plan_id"], number=a["number"]
    ),
    JobKind.SCHEDULE_DUE: lambda s, t, a: s.schedules.due(
        team_id=t, schedule_id=a["schedule_id"], occurrence=a["occurrence"]
    ),
    JobKind.ESCALATION_DIGEST: lambda s, t, a: s.escalations.digest(
        team_id=t, escalation_id=a["escalation_id"], at=a["at"]
    ),
    "escalation_zone": lambda s, t, a: s.escalations.settle_zone(team_id=t, escalation_id=a["escalation_id"]),
    "schedule_zone": lambda s, t, a: s.schedules.settle_zone(team_id=t, schedule_id=a["schedule_id"]),
    "launch": lambda s, t, a: s.retros.launch(
        team_id=t, retro_id=a["retro_id"], chosen=a.get("participants", [])
    ),
    "invite": lambda s, t, a: s.retros.invite(team_id=t, retro_id=a["retro_id"], invitees=a["invitees"]),
    "publish": lambda s, t, a: s.closing.publish(team_id=t, retro_id=a["retro_id"]),
    "upload_export": lambda s, t, a: s.reports.upload_export(
        team_id=t, retro_id=a["retro_id"], user_id=a["user_id"], fmt=a["format"], request=a["request"]
    ),
    "upload_report": lambda s, t, a: s.reports.upload_report(
        team_id=t, retro_id=a["retro_id"], user_id=a["user_id"]
    ),
    "upload_chart": lambda s, t, a: s.reports.upload_chart(
        team_id=t, channel_id=a["channel_id"], user_id=a["user_id"]
    ),
    "share_summary": lambda s, t, a: s.closing.share_summary(
        team_id=t, retro_id=a["retro_id"], channel_id=a["channel_id"]
    ),
    "begin_voting": lambda s, t, a: s.voting.begin(team_id=t, retro_id=a["retro_id"]),
    "permalink": lambda s, t, a: s.retro_deliveries.store_permalink(
        team_id=t, retro_id=a["retro_id"], ts=a["ts"], field=a["field"]
    ),
    "check_owner": lambda s, t, a: s.action_items.check_owner(team_id=t, action_item_id=a["action_id"]),
    "check_tracker": lambda s, t, a: s.trackers.check(
        team_id=t, connection_id=a["connection_id"], user_id=a["user_id"], stamp=a["stamp"]
    ),
    "create_ticket": lambda s, t, a: s.trackers.create_ticket(team_id=t, action_item_id=a["action_id"]),
}


class Effects:
    """The dispatcher's view of the domain, bound to one runtime's services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # ------------------------------------------------------------ tasks

    def run_task(self, delivery: Delivery) -> None:
        name = str(delivery.payload["name"])
        task = TASKS.get(name)
        if task is None:
            raise DomainError(f"unknown task {name}")
        try:
            task(self.services, delivery.team_id, dict(delivery.payload.get("args") or {}))
        except DomainError as exc:
            # The state moved on (a retro closed, an item deleted): nothing left to do.
            logger.info("task %s had nothing to do: %s", name, exc.message)

    # ------------------------------------------------------------ drawing at send time

    def render(self, name: str, session: Session, delivery: Delivery) -> dict[str, Any] | None:
        s = self.services
        payload = delivery.payload
        if name == "home":
            return {"view": s.home.view_for(session, team_id=delivery.team_id, user_id=payload["user_id"])}
        if name == "ballot":
            messages = ballot.ballot_of(
                s.voting.ballot(
                    team_id=delivery.team_id, retro_id=payload["retro_id"], user_id=payload["user_id"]
                )
            )
            part = int(payload.get("part", 0))
            if part >= len(messages):
                return None
            return {"text": messages[part].text, "blocks": messages[part].blocks}
        if name == "progress":
            progress = s.retro_deliveries.progress(
                session, team_id=delivery.team_id, retro_id=payload["retro_id"]
            )
            message = kickoff.start_progress_message(
                retro=progress.retro, total=progress.total, invited=progress.invited, failed=progress.failed
            )
            return {"text": message.text, "blocks": message.blocks}
        if name == "failures":
            failures = s.retro_deliveries.failures(session, delivery)
            return {"text": kickoff.delivery_failures_text(failures=failures)} if failures else None
        raise DomainError(f"unknown renderer {name}")

    # ------------------------------------------------------------ after the outcome

    @contextmanager
    def recording(self, session: Session) -> Iterator[None]:
        """Outcomes recorded together: the intents they queue written in a statement per kind, the
        invitations' records in two statements per retro (RetroDeliveries.invite_outcomes)."""
        with self.services.outbox.batch(session):
            invites: list[tuple[Delivery, str | None]] = []
            session.info[_INVITES] = invites
            try:
                yield
                if invites:
                    self.services.retro_deliveries.invite_outcomes(session, invites)
            finally:
                session.info.pop(_INVITES, None)

    def _invite(self, session: Session, delivery: Delivery, error: str | None) -> None:
        batched = session.info.get(_INVITES)
        if batched is not None:
            batched.append((delivery, error))
        else:
            self.services.retro_deliveries.invite_outcome(session, delivery, error=error)

    def sent(self, session: Session, delivery: Delivery, result: dict[str, Any]) -> None:
        purpose = delivery.purpose
        if purpose == Purpose.KICKOFF:
            self.services.retro_deliveries.kickoff_posted(session, delivery, result)
        elif purpose == Purpose.INVITE:
            self._invite(session, delivery, None)
        elif purpose == Purpose.SUMMARY:
            self.services.retro_deliveries.summary_posted(session, delivery, result)
        elif purpose == Purpose.REPORT:
            self.services.retro_deliveries.report_uploaded(session, delivery, result)

    def failed(self, session: Session, delivery: Delivery, error: str) -> None:
        purpose = delivery.purpose
        if purpose == Purpose.KICKOFF:
            self.services.retro_deliveries.kickoff_failed(session, delivery, error)
            return
        if purpose == Purpose.INVITE:
            self._invite(session, delivery, error)
            return
        if purpose == Purpose.NUDGE:
            self.services.deadlines.record_failure(session, delivery, error)
        elif purpose == Purpose.NOTICE:
            self.services.action_item_notices.record_failure(session, delivery, error)
        if delivery.report_to:
            self.report(session, delivery)

    def cancelled(self, session: Session, delivery: Delivery) -> None:
        if delivery.purpose == Purpose.INVITE:
            self._invite(session, delivery, "not_sent")

    def report(self, session: Session, delivery: Delivery) -> None:
        """One message to the person in charge, listing every failure not yet told (a few seconds later,
        so that a batch of failures makes one message)."""
        assert delivery.report_to is not None
        self.services.outbox.again(
            session,
            team_id=delivery.team_id,
            kind=Kind.TELL,
            key=f"failures:{delivery.retro_id or 0}:{delivery.report_to}",
            payload={
                "render": "failures",
                "user": delivery.report_to,
                "channel": self.services.retro_deliveries.channel_of(session, delivery),
                "retro_id": delivery.retro_id,
            },
            lane=f"conv:{delivery.report_to}",
            priority=Priority.NORMAL,
            delay=timedelta(seconds=5),
        )
