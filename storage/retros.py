"""Queries on retros and what belongs to one alone (its turns, the nudges it sent). Every one is scoped to a
workspace (`team_id`) but `not_in_phase`, which start-up runs across workspaces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func
from sqlmodel import Session, col, select

from storage.models import Item, Nudge, Participant, Response, Retro, Turn


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


def not_in_phase(session: Session, *, phase: str) -> Iterator[Retro]:
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


def get_retro(session: Session, *, team_id: str, retro_id: int, lock: bool = False) -> Retro | None:
    query = select(Retro).where(Retro.team_id == team_id, Retro.id == retro_id)
    return session.exec(query.with_for_update() if lock else query).first()


# Built once: `/retro status` runs these on the ack path, where building the expressions per call cost more
# than running them. Parameters are bound per call; SQLAlchemy's compiled cache keys on the statement.
_IN_CHANNEL = select(Retro).where(
    Retro.team_id == bindparam("team_id"), Retro.channel_id == bindparam("channel_id")
)
_OPEN_IN_CHANNEL = _IN_CHANNEL.where(col(Retro.closed_at).is_(None)).limit(1)
# The open retro first, then the latest closed one: one statement either way.
_CURRENT_OR_LATEST = _IN_CHANNEL.order_by(
    col(Retro.closed_at).is_(None).desc(), col(Retro.created_at).desc(), col(Retro.id).desc()
).limit(1)


def current_retro_in_channel(
    session: Session, *, team_id: str, channel_id: str, include_closed: bool = False
) -> Retro | None:
    """The channel's open retro (there is at most one); with `include_closed`, failing that its latest."""
    query = _CURRENT_OR_LATEST if include_closed else _OPEN_IN_CHANNEL
    return session.exec(query, params={"team_id": team_id, "channel_id": channel_id}).first()


def retro_by_kickoff(session: Session, *, team_id: str, channel_id: str, thread_ts: str) -> Retro | None:
    """The retro whose kickoff message starts this thread."""
    return session.exec(
        select(Retro).where(
            Retro.team_id == team_id, Retro.channel_id == channel_id, Retro.kickoff_ts == thread_ts
        )
    ).first()


def _collecting_for(user_id: str, team_id: str) -> Any:
    """The retros still collecting that this person was invited to (a query to refine)."""
    return (
        select(Retro)
        .join(Participant, col(Participant.retro_id) == col(Retro.id))
        .where(
            Retro.team_id == team_id,
            Retro.phase == "collecting",
            Participant.team_id == team_id,
            Participant.user_id == user_id,
        )
    )


def collecting_retros_of(session: Session, *, team_id: str, user_id: str) -> Sequence[Retro]:
    """Retros still collecting that this person was invited to, newest first."""
    query = _collecting_for(user_id, team_id).order_by(col(Retro.created_at).desc())
    return list(session.exec(query).all())


def first_surveys_waiting(
    session: Session, *, team_id: str, user_id: str, limit: int
) -> tuple[list[Retro], int]:
    """The first `limit` retros still collecting that this person has not answered, the first deadline
    first, and how many there are in all: one statement loading no more than `limit` rows."""
    # execute, not exec: sqlmodel's select of one entity yields that entity alone, even with a column added
    rows = session.execute(
        _collecting_for(user_id, team_id)
        .add_columns(func.count().over())
        .where(col(Participant.responded_at).is_(None))
        .order_by(col(Retro.deadline), col(Retro.id))
        .limit(limit)
    ).all()
    return [row[0] for row in rows], rows[0][1] if rows else 0


def latest_retro_of(session: Session, *, team_id: str, user_id: str) -> Retro | None:
    """The newest retro, in any phase, that this person was invited to."""
    return session.exec(
        select(Retro)
        .join(Participant, col(Participant.retro_id) == col(Retro.id))
        .where(Retro.team_id == team_id, Participant.team_id == team_id, Participant.user_id == user_id)
        .order_by(col(Retro.created_at).desc(), col(Retro.id).desc())
    ).first()


def facilitating(session: Session, *, team_id: str, user_id: str) -> Sequence[Retro]:
    """The retros this person runs that are not closed, newest first."""
    return session.exec(
        select(Retro)
        .where(Retro.team_id == team_id, Retro.facilitator_id == user_id, col(Retro.closed_at).is_(None))
        .order_by(col(Retro.created_at).desc())
    ).all()


def participants(session: Session, *, team_id: str, retro_id: int) -> Sequence[Participant]:
    """A retro's participants, in the order they were added."""
    return session.exec(
        select(Participant)
        .where(Participant.team_id == team_id, Participant.retro_id == retro_id)
        .order_by(col(Participant.id))
    ).all()


def participants_of_retros(
    session: Session, *, team_id: str, retro_ids: Sequence[int]
) -> dict[int, list[Participant]]:
    """The participants of several retros in one statement, per retro, in the order they were added."""
    found: dict[int, list[Participant]] = {retro_id: [] for retro_id in retro_ids}
    for participant in session.exec(
        select(Participant)
        .where(Participant.team_id == team_id, col(Participant.retro_id).in_(retro_ids))
        .order_by(col(Participant.id))
    ):
        found[participant.retro_id].append(participant)
    return found


def mark_invited_many(
    session: Session, *, team_id: str, retro_id: int, outcomes: list[tuple[str, datetime | None, str | None]]
) -> int:
    """mark_invited for several participants of a retro, (user, invited_at, error), in one statement.
    Returns how many of them there were (0: the retro was discarded)."""
    table = Participant.__table__  # type: ignore[attr-defined]
    marked = session.execute(
        table.update()
        .where(
            table.c.team_id == team_id,
            table.c.retro_id == retro_id,
            table.c.user_id == bindparam("b_user"),
        )
        .values(invited_at=bindparam("b_invited_at"), invite_error=bindparam("b_error")),
        [{"b_user": u, "b_invited_at": at, "b_error": e} for u, at, e in outcomes],
    )
    return int(marked.rowcount)  # type: ignore[attr-defined]


def get_participant(session: Session, *, team_id: str, retro_id: int, user_id: str) -> Participant | None:
    return session.exec(
        select(Participant).where(
            Participant.team_id == team_id,
            Participant.retro_id == retro_id,
            Participant.user_id == user_id,
        )
    ).first()


@dataclass(frozen=True)
class Figures:
    invited: int
    responded: int
    average_smoothness: float | None
    items_by_category: dict[str, int]


@lru_cache(maxsize=32)
def _figures_of(categories: tuple[str, ...]) -> Select[Any]:
    """The figures statement for a format's categories, built once per format (see _IN_CHANNEL)."""
    team_id: BindParameter[str] = bindparam("team_id")
    retro_id: BindParameter[int] = bindparam("retro_id")
    people = select(func.count()).where(Participant.team_id == team_id, Participant.retro_id == retro_id)
    items = select(func.count()).where(Item.team_id == team_id, Item.retro_id == retro_id)
    return select(
        people.scalar_subquery(),
        people.where(col(Participant.responded_at).is_not(None)).scalar_subquery(),
        select(func.avg(Response.smoothness))
        .where(Response.team_id == team_id, Response.retro_id == retro_id)
        .scalar_subquery(),
        items.scalar_subquery(),
        *(items.where(Item.category == c).scalar_subquery() for c in categories),
    )


def figures(session: Session, *, team_id: str, retro_id: int, categories: Sequence[str]) -> Figures:
    """Counts of a retro, counted by the database in one statement whatever its size (two if an item has a
    category outside `categories`, the retro's format)."""
    row: Sequence[Any] = session.execute(
        _figures_of(tuple(categories)), {"team_id": team_id, "retro_id": retro_id}
    ).one()
    invited, responded, average, total = row[:4]
    per_category: list[int] = list(row[4:])
    by_category = dict(zip(categories, per_category, strict=True))
    if sum(per_category) != total:
        by_category = {c: 0 for c in categories} | dict(
            session.exec(
                select(Item.category, func.count())
                .where(Item.team_id == team_id, Item.retro_id == retro_id)
                .group_by(col(Item.category))
            ).all()
        )
    return Figures(
        invited=invited,
        responded=responded,
        average_smoothness=float(average) if average is not None else None,
        items_by_category=by_category,
    )


def retros_in_channel(session: Session, *, team_id: str, channel_id: str) -> Sequence[Retro]:
    return session.exec(
        select(Retro).where(Retro.team_id == team_id, Retro.channel_id == channel_id).order_by(col(Retro.id))
    ).all()


def previous_retro(session: Session, *, team_id: str, retro: Retro) -> Retro | None:
    """The channel's retro before this one."""
    return session.exec(
        select(Retro)
        .where(Retro.team_id == team_id, Retro.channel_id == retro.channel_id, col(Retro.id) < retro.id)
        .order_by(col(Retro.id).desc())
    ).first()
