"""Queries on a channel's tracker connection and the action items' tickets, scoped to a workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ActionItem, TrackerConnection, TrackerTicket


def connection_for_channel(session: Session, *, team_id: str, channel_id: str) -> TrackerConnection | None:
    return session.exec(
        select(TrackerConnection).where(
            TrackerConnection.team_id == team_id, TrackerConnection.channel_id == channel_id
        )
    ).first()


def get_connection(session: Session, *, team_id: str, connection_id: int) -> TrackerConnection | None:
    return session.exec(
        select(TrackerConnection).where(
            TrackerConnection.team_id == team_id, TrackerConnection.id == connection_id
        )
    ).first()


def ticket_of(session: Session, *, team_id: str, action_item_id: int) -> TrackerTicket | None:
    return session.exec(
        select(TrackerTicket).where(
            TrackerTicket.team_id == team_id, TrackerTicket.action_id == action_item_id
        )
    ).first()


def created_tickets(
    session: Session, *, team_id: str, action_item_ids: Sequence[int]
) -> Sequence[TrackerTicket]:
    """The tickets that exist in a tracker, of these action items."""
    if not action_item_ids:
        return []
    return session.exec(
        select(TrackerTicket).where(
            TrackerTicket.team_id == team_id,
            col(TrackerTicket.action_id).in_(list(action_item_ids)),
            TrackerTicket.state == "created",
        )
    ).all()


def carry_ticket(session: Session, *, from_item: ActionItem, to_item: ActionItem, now: datetime) -> None:
    """An action item carried over to the next retro keeps the ticket of the one it continues."""
    ticket = ticket_of(session, team_id=from_item.team_id, action_item_id=from_item.id)
    if ticket is None or ticket.state != "created":
        return
    session.add(
        TrackerTicket(
            team_id=to_item.team_id,
            action_id=to_item.id,
            connection_id=ticket.connection_id,
            kind=ticket.kind,
            tracker=ticket.tracker,
            state="created",
            ticket_key=ticket.ticket_key,
            url=ticket.url,
            created_at=now,
        )
    )
