"""Action items in the team's tracker: a channel's connection (GitHub Issues, Jira or an outgoing webhook),
a ticket per action item, and the ticket's state read back (closed there means done here).

- The connection is set by the facilitator of the channel's latest retro (`/retro tracker`); its secret is
  sealed with REARVIEW_SECRET (bot/secret_box.py), never logged or shown back. Saving queues a check (a
  task, after the ack) whose result the facilitator is told.
- Creating an action item (any route goes through ActionItemService.create) records a pending ticket and
  queues its task in the same transaction. The task looks for the item's marker in the tracker before it
  creates a ticket (bot/trackers.py), so a retry or a restart after `kill -9` never makes two. A tracker that
  is down (connection refused, 5xx, 429) is tried again later, `MAX_TICKET_ATTEMPTS` times in all; a
  ticket that cannot be created leaves the action item as it is and tells the facilitator once, with why.
- `sync` reads the tickets of open action items (reminders and the follow-up call it before they decide):
  a ticket closed in the tracker marks its item done, on the day it was closed there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.errors import DomainError, InvalidInput
from bot.intents import Kind, Priority
from bot.outbox import Outbox
from bot.secret_box import SecretBox, SecretUnreadable
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.permissions import require_tracker_keeper
from bot.services.timers import Timers
from bot.trackers import (
    KINDS,
    LABELS,
    Credentials,
    TicketSpec,
    TrackerClient,
    TrackerDown,
    TrackerError,
    TrackerRefused,
    client_for,
)
from messages import action_items as action_item_messages
from messages import trackers as screen
from storage import action_items as action_item_queries
from storage import retros as retro_queries
from storage import trackers as queries
from storage.db import unit_of_work
from storage.models import ActionItem, Retro, TrackerConnection, TrackerTicket

logger = logging.getLogger(__name__)

MAX_TICKET_ATTEMPTS = 5
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}")

Clients = Callable[..., TrackerClient]


def ticket_backoff(attempts: int) -> float:
    """30 s, 1, 2, 4 minutes... at most 30 minutes."""
    return float(min(1800, 30 * 2 ** max(0, attempts - 1)))


def tracker_of(connection: TrackerConnection) -> str:
    """Which tracker a ticket lives in: a connection changed to another repository or server since does not
    read it (issue 1 of another repository is another issue)."""
    return f"{connection.kind}|{connection.url}|{connection.project}"[:700]


def marker_of(action_item: ActionItem) -> str:
    return f"rearview:{action_item.team_id}:{action_item.id}"


@dataclass(frozen=True)
class TrackerDraft:
    team_id: str
    channel_id: str
    user_id: str
    kind: str  # a KINDS one, or "none" to disconnect
    url: str = ""
    project: str = ""
    email: str = ""
    secret: str = ""  # empty: keep the stored one


class TrackerService:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        home: HomeService,
        box: SecretBox,
        clients: Clients = client_for,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.home = home
        self.box = box
        self.clients = clients

    # ------------------------------------------------------------ the connection

    def _require_box(self) -> None:
        if not self.box.available:
            raise DomainError(screen.no_secret_text())

    def _may_change(self, session: Session, team_id: str, channel_id: str, user_id: str) -> None:
        latest = retro_queries.latest_in_channel(session, team_id=team_id, channel_id=channel_id, limit=1)
        if latest:
            require_tracker_keeper(session, latest[0], user_id)

    def form(self, *, team_id: str, channel_id: str, user_id: str) -> screen.TrackerForm:
        """What `/retro tracker` opens with: the connection without its secret."""
        self._require_box()
        with unit_of_work(self.engine) as session:
            self._may_change(session, team_id, channel_id, user_id)
            connection = queries.connection_for_channel(session, team_id=team_id, channel_id=channel_id)
        if connection is None:
            return screen.TrackerForm(channel_id, None, "", "", "", has_secret=False)
        return screen.TrackerForm(
            channel_id,
            connection.kind,
            connection.url,
            connection.project,
            connection.email,
            has_secret=bool(connection.secret),
        )

    def save(self, draft: TrackerDraft) -> TrackerConnection | None:
        """Store the channel's connection (the secret sealed) and queue its check; "none" removes it. Raises
        InvalidInput keyed by messages.trackers.FIELDS."""
        from bot.services.action_items import is_plain_url

        self._require_box()
        kind = draft.kind
        url, project, email, secret = (
            draft.url.strip(),
            draft.project.strip(),
            draft.email.strip(),
            draft.secret.strip(),
        )
        errors: dict[str, str] = {}
        if kind not in (*KINDS, "none"):
            errors["kind"] = "Pick GitHub Issues, Jira or a webhook."
        if kind == "github":
            if not _REPO.fullmatch(project):
                errors["project"] = "Give the repository as owner/name."
            if url and not is_plain_url(url):
                errors["url"] = "Leave it empty for github.com, or give your GitHub Enterprise API URL."
        elif kind == "jira":
            project = project.upper()
            if not _JIRA_KEY.fullmatch(project):
                errors["project"] = "Give the project key, such as OPS."
            if not is_plain_url(url):
                errors["url"] = "Give your Jira's address, such as https://yours.atlassian.net."
            if "@" not in email or len(email) > 200:
                errors["email"] = "Give the e-mail of the Jira account the API token belongs to."
        elif kind == "webhook":
            project, email = "", ""
            if not is_plain_url(url):
                errors["url"] = "Give the full https:// address the webhook posts to."
        with unit_of_work(self.engine) as session:
            self._may_change(session, draft.team_id, draft.channel_id, draft.user_id)
            connection = queries.connection_for_channel(
                session, team_id=draft.team_id, channel_id=draft.channel_id
            )
            if kind == "none":
                if connection is not None:
                    session.delete(connection)
                    self.outbox.tell(
                        session,
                        team_id=draft.team_id,
                        user=draft.user_id,
                        channel=draft.channel_id,
                        text=screen.removed_text(channel_id=draft.channel_id),
                    )
                    session.commit()
                return None
            keeps_secret = connection is not None and connection.kind == kind and bool(connection.secret)
            if not secret and not keeps_secret:
                errors["secret"] = "Give the token or secret: it is stored encrypted and never shown again."  # noqa: S105
            if errors:
                raise InvalidInput(errors)
            now = self.clock()
            if connection is None:
                connection = TrackerConnection(
                    team_id=draft.team_id,
                    channel_id=draft.channel_id,
                    kind=kind,
                    secret="",
                    set_by=draft.user_id,
                    updated_at=now,
                )
            connection.kind, connection.url, connection.project, connection.email = kind, url, project, email
            if secret:
                connection.secret = self.box.seal(draft.team_id, secret)
            connection.set_by, connection.updated_at = draft.user_id, now
            connection.checked_at, connection.check_error = None, None
            session.add(connection)
            session.flush()
            stamp = f"{now.timestamp():.6f}"
            self.outbox.task(
                session,
                team_id=draft.team_id,
                name="check_tracker",
                args={"connection_id": connection.id, "user_id": draft.user_id, "stamp": stamp},
                key=f"tracker_check:{connection.id}:{stamp}",
                lane=f"tracker:{connection.id}",
            )
            session.commit()
            session.refresh(connection)
        return connection

    def check(self, *, team_id: str, connection_id: int, user_id: str, stamp: str) -> None:
        """Task: try the saved connection and tell whoever saved it how that went."""
        with unit_of_work(self.engine) as session:
            connection = queries.get_connection(session, team_id=team_id, connection_id=connection_id)
            if connection is None or f"{connection.updated_at.timestamp():.6f}" != stamp:
                return  # removed or saved again since: that save has its own check
            kind, channel_id = connection.kind, connection.channel_id
            credentials = self._credentials(connection)
        error: str | None = None
        if credentials is None:
            error = "its secret no longer opens with this server's REARVIEW_SECRET; set it again"
        else:
            try:
                self.clients(credentials, clock=self.clock).check()
            except TrackerError as exc:
                error = exc.reason
        with unit_of_work(self.engine) as session:
            connection = queries.get_connection(session, team_id=team_id, connection_id=connection_id)
            if connection is not None:
                connection.checked_at, connection.check_error = self.clock(), error
                session.add(connection)
            self.outbox.tell(
                session,
                team_id=team_id,
                user=user_id,
                channel=channel_id,
                text=screen.check_text(kind=kind, channel_id=channel_id, error=error),
                key=f"tracker_check:{connection_id}:{stamp}:told",
            )
            session.commit()

    def _credentials(self, connection: TrackerConnection) -> Credentials | None:
        try:
            secret = self.box.open(connection.team_id, connection.secret)
        except SecretUnreadable:
            return None
        return Credentials(connection.kind, connection.url, connection.project, connection.email, secret)

    # ------------------------------------------------------------ tickets

    def queue_ticket(self, session: Session, action_item: ActionItem, retro: Retro) -> None:
        """In the transaction that creates the action item: its ticket, if the channel has a tracker."""
        connection = queries.connection_for_channel(
            session, team_id=action_item.team_id, channel_id=retro.channel_id
        )
        if connection is None:
            return
        session.add(
            TrackerTicket(
                team_id=action_item.team_id,
                action_id=action_item.id,
                connection_id=connection.id,
                kind=connection.kind,
                tracker=tracker_of(connection),
                created_at=self.clock(),
            )
        )
        self._queue_attempt(session, action_item.team_id, action_item.id, 0, delay=0.0)

    def _queue_attempt(
        self, session: Session, team_id: str, action_item_id: int, attempt: int, *, delay: float
    ) -> None:
        self.outbox.add(
            session,
            team_id=team_id,
            kind=Kind.TASK,
            payload={"name": "create_ticket", "args": {"action_id": action_item_id}},
            key=f"ticket:{action_item_id}:{attempt}",
            lane=f"ticket:{action_item_id}",
            priority=Priority.NORMAL,
            delay=timedelta(seconds=delay),
        )

    def create_ticket(self, *, team_id: str, action_item_id: int) -> None:
        """Task: the action item's ticket, found by its marker or created; once."""
        with unit_of_work(self.engine) as session:
            ticket = queries.ticket_of(session, team_id=team_id, action_item_id=action_item_id)
            if ticket is None or ticket.state != "pending":
                return
            action_item = action_item_queries.get(session, team_id=team_id, action_item_id=action_item_id)
            connection = queries.get_connection(session, team_id=team_id, connection_id=ticket.connection_id)
            if action_item is None or connection is None:
                ticket.state, ticket.error = "failed", "the tracker was removed"
                session.add(ticket)
                session.commit()
                return
            retro = require_retro(session, team_id, action_item.retro_id)
            spec = self._spec(session, action_item, retro)
            credentials = self._credentials(connection)
            where = tracker_of(connection)  # the channel's tracker now, which the ticket is made in
        if credentials is None:
            self._failed(team_id, action_item_id, "the tracker's secret no longer opens with REARVIEW_SECRET")
            return
        try:
            made = self.clients(credentials, clock=self.clock).ensure(spec)
        except TrackerDown as exc:
            self._again_or_fail(team_id, action_item_id, exc)
            return
        except TrackerRefused as exc:
            self._failed(team_id, action_item_id, exc.reason)
            return
        from bot.services.action_items import is_plain_url

        with unit_of_work(self.engine) as session:
            ticket = queries.ticket_of(session, team_id=team_id, action_item_id=action_item_id)
            action_item = action_item_queries.get(session, team_id=team_id, action_item_id=action_item_id)
            if ticket is None or action_item is None or ticket.state == "created":
                return
            ticket.state, ticket.ticket_key, ticket.error = "created", made.key[:100], None
            ticket.tracker = where
            ticket.url = made.url if made.url and is_plain_url(made.url) else None
            action_item.ticket_url = ticket.url
            session.add_all([ticket, action_item])
            if ticket.url:
                self._show_link(session, action_item)
            session.commit()

    def _show_link(self, session: Session, action_item: ActionItem) -> None:
        """The link on the item wherever it shows: the owner's Home, and the DM that told them of it (updated
        in place once that DM is sent; reminders and the follow-up are drawn with it)."""
        self.home.queue(session, team_id=action_item.team_id, user_id=action_item.owner_id)
        retro = require_retro(session, action_item.team_id, action_item.retro_id)
        source = (
            action_item_queries.source_item(
                session, team_id=action_item.team_id, item_id=action_item.source_item_id
            )
            if action_item.source_item_id
            else None
        )
        message = action_item_messages.assigned_message(retro=retro, action_item=action_item, source=source)
        self.outbox.redraw(
            session,
            team_id=action_item.team_id,
            sent_key=f"notice:{action_item.id}:assigned",
            key=f"ticket:{action_item.id}:dm",
            user=action_item.owner_id,
            text=message.text,
            blocks=message.blocks,
        )

    def _again_or_fail(self, team_id: str, action_item_id: int, exc: TrackerDown) -> None:
        with unit_of_work(self.engine) as session:
            ticket = queries.ticket_of(session, team_id=team_id, action_item_id=action_item_id)
            if ticket is None or ticket.state != "pending":
                return
            ticket.attempts += 1
            ticket.error = exc.reason[:300]
            session.add(ticket)
            if ticket.attempts < MAX_TICKET_ATTEMPTS:
                logger.info("tracker down for action item %s (attempt %s)", action_item_id, ticket.attempts)
                delay = exc.retry_after if exc.retry_after is not None else ticket_backoff(ticket.attempts)
                self._queue_attempt(session, team_id, action_item_id, ticket.attempts, delay=min(delay, 3600))
                session.commit()
                return
            session.commit()
        self._failed(team_id, action_item_id, f"{exc.reason} ({MAX_TICKET_ATTEMPTS} tries)")

    def _failed(self, team_id: str, action_item_id: int, reason: str) -> None:
        """The ticket is given up on; the action item stays as it is, and the facilitator hears once."""
        logger.warning("no ticket for action item %s: %s", action_item_id, reason)
        with unit_of_work(self.engine) as session:
            ticket = queries.ticket_of(session, team_id=team_id, action_item_id=action_item_id)
            action_item = action_item_queries.get(session, team_id=team_id, action_item_id=action_item_id)
            if ticket is None or action_item is None or ticket.state != "pending":
                return
            ticket.state, ticket.error = "failed", reason[:300]
            session.add(ticket)
            retro = require_retro(session, team_id, action_item.retro_id)
            self.outbox.tell(
                session,
                team_id=team_id,
                user=retro.facilitator_id,
                channel=retro.channel_id,
                text=screen.ticket_failed_text(
                    kind=ticket.kind, text=action_item.text, owner_id=action_item.owner_id, reason=reason
                ),
                key=f"ticket:{action_item_id}:failed",
                retro_id=retro.id,
            )
            session.commit()

    def _spec(self, session: Session, action_item: ActionItem, retro: Retro) -> TicketSpec:
        source = (
            action_item_queries.source_item(
                session, team_id=action_item.team_id, item_id=action_item.source_item_id
            )
            if action_item.source_item_id
            else None
        )
        marker = marker_of(action_item)
        owner = action_item.owner_name or f"Slack user {action_item.owner_id}"
        due = action_item.due_date.isoformat() if action_item.due_date else "none"
        report_url = retro.report_url or retro.kickoff_permalink
        source_text = f"#{source.number} {source.text}" if source is not None else None
        return TicketSpec(
            marker=marker,
            title=screen.ticket_title(action_item.text),
            body=screen.ticket_body(
                text=action_item.text,
                owner=owner,
                due=due,
                priority=action_item.priority,
                retro_title=retro.title,
                report_url=report_url,
                source=source_text,
                marker=marker,
            ),
            owner=owner,
            due=action_item.due_date,
            priority=action_item.priority,
            report_url=report_url,
            fields={
                "id": marker,
                "action_item_id": action_item.id,
                "text": action_item.text,
                "owner": {"slack_id": action_item.owner_id, "name": action_item.owner_name or None},
                "due_date": action_item.due_date.isoformat() if action_item.due_date else None,
                "priority": action_item.priority,
                "link": action_item.link,
                "retro": {
                    "id": retro.id,
                    "title": retro.title,
                    "channel_id": retro.channel_id,
                    "report_url": retro.report_url,
                    "kickoff_url": retro.kickoff_permalink,
                },
                "source_item": {"number": source.number, "text": source.text} if source is not None else None,
                "created_by": action_item.created_by,
            },
        )

    # ------------------------------------------------------------ reading tickets back

    def sync(self, *, team_id: str, action_item_ids: Sequence[int]) -> list[int]:
        """Read the tickets of these open action items: one closed in its tracker marks its item done, on the
        day it was closed there. Returns the ids marked done. A tracker that cannot be read is skipped."""
        with unit_of_work(self.engine) as session:
            tickets = queries.created_tickets(session, team_id=team_id, action_item_ids=action_item_ids)
            wanted: list[tuple[int, str, str, Credentials]] = []
            connections: dict[int, Credentials | None] = {}
            where: dict[int, str] = {}
            for ticket in tickets:
                item = action_item_queries.get(session, team_id=team_id, action_item_id=ticket.action_id)
                if item is None or item.status != "open" or ticket.ticket_key is None:
                    continue
                if ticket.connection_id not in connections:
                    connection = queries.get_connection(
                        session, team_id=team_id, connection_id=ticket.connection_id
                    )
                    connections[ticket.connection_id] = (
                        self._credentials(connection) if connection is not None else None
                    )
                    where[ticket.connection_id] = tracker_of(connection) if connection is not None else ""
                credentials = connections[ticket.connection_id]
                if credentials is not None and where[ticket.connection_id] == ticket.tracker:
                    wanted.append((ticket.action_id, ticket.ticket_key, ticket.kind, credentials))
        closed: list[tuple[int, str, str, datetime]] = []
        clients: dict[int, TrackerClient] = {}
        for action_id, key, kind, credentials in wanted:
            client = clients.setdefault(id(credentials), self.clients(credentials, clock=self.clock))
            try:
                state = client.state(key)
            except TrackerError as exc:
                logger.info("could not read ticket %s of action item %s: %s", key, action_id, exc.reason)
                continue
            if state is not None and state.closed_at is not None:
                closed.append((action_id, key, kind, state.closed_at))
        done: list[ActionItem] = []
        now = self.clock()
        with unit_of_work(self.engine) as session:
            for action_id, key, kind, closed_at in closed:
                item = action_item_queries.get(session, team_id=team_id, action_item_id=action_id, lock=True)
                if item is None or item.status != "open":
                    continue
                item.status, item.closed_at = "done", min(closed_at, now)
                item.status_note = (
                    f"Closed in {LABELS.get(kind, kind)} ({key}) on {item.closed_at.date().isoformat()}"
                )
                session.add(item)
                self.home.queue(session, team_id=team_id, user_id=item.owner_id)
                record = queries.ticket_of(session, team_id=team_id, action_item_id=action_id)
                if record is not None:
                    record.synced_at = now
                    session.add(record)
                done.append(item)
            session.commit()
            for item in done:
                session.refresh(item)
        for item in done:
            self.timers.cancel(self.timers.action_item_ids(item))
        return [item.id for item in done]
