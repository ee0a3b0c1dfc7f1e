"""Queries of escalations: where a channel's overdue action items and recurring problems go. Scoped to a
workspace (`team_id`) but `all_escalations`, which start-up runs across workspaces."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import ActionItem, Escalation, Retro


def for_channel(session: Session, *, team_id: str, channel_id: str, lock: bool = False) -> Escalation | None:
    query = select(Escalation).where(Escalation.team_id == team_id, Escalation.channel_id == channel_id)
    return session.exec(query.with_for_update() if lock else query).first()


def get(session: Session, *, team_id: str, escalation_id: int, lock: bool = False) -> Escalation | None:
    query = select(Escalation).where(Escalation.team_id == team_id, Escalation.id == escalation_id)
    return session.exec(query.with_for_update() if lock else query).first()


def all_escalations(session: Session) -> Sequence[Escalation]:
    return session.exec(select(Escalation)).all()


def open_action_items_of_channel(
    session: Session, *, team_id: str, channel_id: str
) -> Sequence[tuple[ActionItem, Retro]]:
    """The open action items with a due date of the channel's retros, with their retro, oldest due first."""
    return session.exec(
        select(ActionItem, Retro)
        .join(Retro, col(Retro.id) == col(ActionItem.retro_id))
        .where(
            ActionItem.team_id == team_id,
            Retro.team_id == team_id,
            Retro.channel_id == channel_id,
            ActionItem.status == "open",
            col(ActionItem.due_date).is_not(None),
        )
        .order_by(col(ActionItem.due_date), col(ActionItem.id))
    ).all()
