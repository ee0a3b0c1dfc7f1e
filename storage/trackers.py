"""Queries on a channel's tracker connection and the action items' tickets, scoped to a workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import TrackerConnection, TrackerTicket


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
