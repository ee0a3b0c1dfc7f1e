"""Queries on retros and what belongs to one alone (its turns, the nudges it sent). Every one is scoped to a
workspace (`team_id`) but `with_timers`, which start-up runs across workspaces.

More of the retro's queries are still in storage/repositories.py."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlmodel import Session, col, select

from storage.models import Nudge, Retro, Turn


def earlier_in_channel(
    session: Session, *, team_id: str, channel_id: str, before_id: int, limit: int
) -> Sequence[Retro]:
    """The channel's retros before `before_id`, newest first, cancelled ones left out."""
    return session.exec(
        select(Retro)
        .where(
            Retro.team_id == team_id,
            Retro.channel_id == channel_id,
            col(Retro.id) < before_id,
            Retro.phase != "cancelled",
        )
        .order_by(col(Retro.id).desc())
        .limit(limit)
    ).all()


def latest_in_channel(session: Session, *, team_id: str, channel_id: str, limit: int) -> Sequence[Retro]:
    """The channel's last retros, newest first, cancelled ones included."""
    return session.exec(
        select(Retro)
        .where(Retro.team_id == team_id, Retro.channel_id == channel_id)
        .order_by(col(Retro.id).desc())
        .limit(limit)
    ).all()


def not_in_phase(session: Session, phase: str) -> Iterator[Retro]:
    """Every workspace's retros but those in `phase`."""
    yield from session.exec(select(Retro).where(col(Retro.phase) != phase))


def nudges(session: Session, *, team_id: str, retro_id: int) -> Iterator[Nudge]:
    """The nudges a retro sent (one per person and reminder)."""
    yield from session.exec(select(Nudge).where(Nudge.team_id == team_id, Nudge.retro_id == retro_id))


def turn_ids_in(session: Session, *, team_id: str, retro_id: int, statuses: Sequence[str]) -> Sequence[int]:
    """The ids of a retro's turns in one of `statuses`."""
    return session.exec(
        select(Turn.id).where(
            Turn.team_id == team_id,
            Turn.retro_id == retro_id,
            col(Turn.status).in_(statuses),
        )
    ).all()
