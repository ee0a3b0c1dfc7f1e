"""Queries of the discussion: a retro's turns, the items people refer to by number, and votes. Every one
is scoped to a workspace (`team_id`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, delete, select

from storage.models import Comment, Item, Turn, Vote


def turns(session: Session, *, team_id: str, retro_id: int) -> list[Turn]:
    """The retro's turns, in their order."""
    return list(
        session.exec(
            select(Turn)
            .where(Turn.team_id == team_id, Turn.retro_id == retro_id)
            .order_by(col(Turn.position))
        ).all()
    )


def turn_in_retro(session: Session, *, team_id: str, retro_id: int, turn_id: int) -> Turn | None:
    return session.exec(
        select(Turn).where(Turn.team_id == team_id, Turn.retro_id == retro_id, Turn.id == turn_id)
    ).first()


def turn(session: Session, *, team_id: str, turn_id: int) -> Turn | None:
    return session.exec(select(Turn).where(Turn.team_id == team_id, Turn.id == turn_id)).first()


def numbered_item(session: Session, *, team_id: str, retro_id: int, number: int | None) -> Item | None:
    """The retro's item people call #`number`."""
    return session.exec(
        select(Item).where(Item.team_id == team_id, Item.retro_id == retro_id, Item.number == number)
    ).first()


def highest_item_number(session: Session, *, team_id: str, retro_id: int) -> int | None:
    highest: int | None = session.exec(
        select(func.max(Item.number)).where(Item.team_id == team_id, Item.retro_id == retro_id)
    ).one()
    return highest


def votes_of(session: Session, *, team_id: str, retro_id: int, voter_hash: str) -> set[int]:
    """The items one voter voted for."""
    return set(
        session.exec(
            select(Vote.item_id).where(
                Vote.team_id == team_id, Vote.retro_id == retro_id, Vote.voter_hash == voter_hash
            )
        ).all()
    )


def remove_vote(session: Session, *, team_id: str, retro_id: int, item_id: int, voter_hash: str) -> None:
    session.exec(
        delete(Vote).where(
            col(Vote.team_id) == team_id,
            col(Vote.retro_id) == retro_id,
            col(Vote.item_id) == item_id,
            col(Vote.voter_hash) == voter_hash,
        )
    )


def vote_counts(session: Session, *, team_id: str, retro_id: int) -> dict[int, int]:
    rows = session.exec(
        select(Vote.item_id, func.count())
        .where(Vote.team_id == team_id, Vote.retro_id == retro_id)
        .group_by(col(Vote.item_id))
    ).all()
    return {item_id: count for item_id, count in rows}


def comment_ids(session: Session, *, team_id: str, retro_id: int) -> list[int]:
    return list(
        session.exec(select(Comment.id).where(Comment.team_id == team_id, Comment.retro_id == retro_id)).all()
    )


def vote_ids(session: Session, *, team_id: str, retro_id: int) -> list[int]:
    return list(session.exec(select(Vote.id).where(Vote.team_id == team_id, Vote.retro_id == retro_id)).all())


def comments(session: Session, *, team_id: str, retro_id: int) -> Sequence[Comment]:
    """A retro's round-robin comments, by time, then text (anonymous ones share a time and random ids)."""
    return session.exec(
        select(Comment)
        .where(Comment.team_id == team_id, Comment.retro_id == retro_id)
        .order_by(col(Comment.created_at), col(Comment.text), col(Comment.id))
    ).all()


def comments_by_item(session: Session, *, team_id: str, retro_id: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for comment in session.exec(
        select(Comment)
        .where(Comment.team_id == team_id, Comment.retro_id == retro_id)
        # Anonymous comments all carry the retro's start and random ids: by text among equal times, stable.
        .order_by(col(Comment.created_at), col(Comment.text), col(Comment.id))
    ):
        found.setdefault(comment.item_id, []).append(comment.text)
    return found


# Built once: `/retro status` runs it on the ack path (see storage/retros.py _IN_CHANNEL).
_OPEN_TURN = (
    select(Turn)
    .where(
        Turn.team_id == bindparam("team_id"),
        Turn.retro_id == bindparam("retro_id"),
        col(Turn.status).in_(("active", "scheduled")),
    )
    .limit(1)
)


def open_turn(session: Session, *, team_id: str, retro_id: int) -> Turn | None:
    """The round-robin turn that is running or waiting for the person's morning."""
    return session.exec(_OPEN_TURN, params={"team_id": team_id, "retro_id": retro_id}).first()
