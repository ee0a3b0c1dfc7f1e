"""Queries of kudos (shout-outs). Scoped to a workspace (`team_id`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, delete, or_, select

from storage.models import Kudos


def of_retro(session: Session, *, team_id: str, retro_id: int) -> Sequence[Kudos]:
    """A retro's kudos by whom they thank, then text (anonymous ones share a time and random ids)."""
    return session.exec(
        select(Kudos)
        .where(Kudos.team_id == team_id, Kudos.retro_id == retro_id)
        .order_by(col(Kudos.to_user_id), col(Kudos.text), col(Kudos.id))
    ).all()


def survey_kudos_of(
    session: Session, *, team_id: str, retro_id: int, user_id: str, from_hash: str
) -> Sequence[Kudos]:
    return session.exec(
        select(Kudos).where(
            Kudos.team_id == team_id,
            Kudos.retro_id == retro_id,
            Kudos.source == "survey",
            or_(Kudos.from_user_id == user_id, Kudos.from_hash == from_hash),
        )
    ).all()


def drop_survey_kudos(session: Session, *, team_id: str, retro_id: int, user_id: str, from_hash: str) -> None:
    session.exec(
        delete(Kudos).where(
            col(Kudos.team_id) == team_id,
            col(Kudos.retro_id) == retro_id,
            col(Kudos.source) == "survey",
            or_(col(Kudos.from_user_id) == user_id, col(Kudos.from_hash) == from_hash),
        )
    )
