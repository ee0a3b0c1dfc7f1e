"""Queries of ROTI ratings ("Was this retro worth your time?"). Scoped to a workspace (`team_id`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from storage.models import RotiRating


def rating_of(session: Session, *, team_id: str, retro_id: int, voter_hash: str) -> RotiRating | None:
    return session.exec(
        select(RotiRating).where(
            RotiRating.team_id == team_id,
            RotiRating.retro_id == retro_id,
            RotiRating.voter_hash == voter_hash,
        )
    ).first()


def rating_ids(session: Session, *, team_id: str, retro_id: int) -> list[int]:
    return list(
        session.exec(
            select(RotiRating.id).where(RotiRating.team_id == team_id, RotiRating.retro_id == retro_id)
        )
    )


def figures_of_retros(
    session: Session, *, team_id: str, retro_ids: Sequence[int]
) -> dict[int, tuple[float, int]]:
    """(average, how many) per retro that has ratings, in one statement."""
    rows = session.exec(
        select(RotiRating.retro_id, func.avg(RotiRating.score), func.count())
        .where(RotiRating.team_id == team_id, col(RotiRating.retro_id).in_(retro_ids))
        .group_by(col(RotiRating.retro_id))
    ).all()
    return {retro_id: (float(average), int(count)) for retro_id, average, count in rows}
