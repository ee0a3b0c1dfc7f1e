"""Queries on what a retro collects: items, survey responses, the reminders to answer, and the keys of the
Slack deliveries already handled. Every one is scoped to a workspace (`team_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from storage.models import Item, Nudge, ProcessedEvent, Response


def _authored_by(model: type[Item] | type[Response], user_id: str, author_hash: str) -> ColumnElement[bool]:
    """Rows this person wrote, named or anonymous (found again through their keyed hash)."""
    return or_(col(model.author_id) == user_id, col(model.author_hash) == author_hash)


# ------------------------------------------------------------ items


def get_item(session: Session, *, team_id: str, item_id: int, lock: bool = False) -> Item | None:
    """`lock`: for an edit or a delete; on PostgreSQL a second one waits for the first (and then finds the
    item changed or gone)."""
    query = select(Item).where(Item.team_id == team_id, Item.id == item_id)
    return session.exec(query.with_for_update() if lock else query).first()


def own_items(
    session: Session,
    *,
    team_id: str,
    retro_id: int,
    user_id: str,
    author_hash: str,
    source: str | None = None,
) -> Sequence[Item]:
    """This person's items in a retro (those from `source` only, if given), oldest first (one submission's
    ids ascend in the order its lines were typed)."""
    query = select(Item).where(
        Item.team_id == team_id, Item.retro_id == retro_id, _authored_by(Item, user_id, author_hash)
    )
    if source is not None:
        query = query.where(Item.source == source)
    return session.exec(query.order_by(col(Item.created_at), col(Item.id))).all()


def items(session: Session, *, team_id: str, retro_id: int) -> Sequence[Item]:
    """A retro's items by number; those without one yet by time, then by (random) id."""
    return session.exec(
        select(Item)
        .where(Item.team_id == team_id, Item.retro_id == retro_id)
        .order_by(col(Item.number).is_(None), col(Item.number), col(Item.created_at), col(Item.id))
    ).all()


def items_of_retros(session: Session, *, team_id: str, retro_ids: Sequence[int]) -> dict[int, list[Item]]:
    """The items of several retros in one statement, per retro, each in the order of `items`."""
    found: dict[int, list[Item]] = {retro_id: [] for retro_id in retro_ids}
    for item in session.exec(
        select(Item)
        .where(Item.team_id == team_id, col(Item.retro_id).in_(retro_ids))
        .order_by(col(Item.number).is_(None), col(Item.number), col(Item.created_at), col(Item.id))
    ):
        found[item.retro_id].append(item)
    return found


def item_counts(session: Session, *, team_id: str, retro_ids: Sequence[int]) -> dict[int, int]:
    """How many items each of these retros has, counted in one statement."""
    counted = session.exec(
        select(Item.retro_id, func.count())
        .where(Item.team_id == team_id, col(Item.retro_id).in_(retro_ids))
        .group_by(col(Item.retro_id))
    ).all()
    return {retro_id: 0 for retro_id in retro_ids} | dict(counted)


# ------------------------------------------------------------ survey responses


def own_response(
    session: Session, *, team_id: str, retro_id: int, user_id: str, author_hash: str
) -> Response | None:
    return session.exec(
        select(Response).where(
            Response.team_id == team_id,
            Response.retro_id == retro_id,
            _authored_by(Response, user_id, author_hash),
        )
    ).first()


def responses(session: Session, *, team_id: str, retro_id: int) -> Sequence[Response]:
    return session.exec(
        select(Response)
        .where(Response.team_id == team_id, Response.retro_id == retro_id)
        .order_by(col(Response.id))
    ).all()


def responses_of_retros(
    session: Session, *, team_id: str, retro_ids: Sequence[int]
) -> dict[int, list[Response]]:
    """The survey responses of several retros in one statement, per retro, by id."""
    found: dict[int, list[Response]] = {retro_id: [] for retro_id in retro_ids}
    for response in session.exec(
        select(Response)
        .where(Response.team_id == team_id, col(Response.retro_id).in_(retro_ids))
        .order_by(col(Response.id))
    ):
        found[response.retro_id].append(response)
    return found


def delete_responses(session: Session, *, team_id: str, ids: Sequence[int]) -> None:
    session.exec(delete(Response).where(col(Response.team_id) == team_id, col(Response.id).in_(ids)))


# ------------------------------------------------------------ reminders to answer


def reminded(session: Session, *, team_id: str, retro_id: int, reminder: str) -> set[str]:
    """Who this reminder has gone to already."""
    return set(
        session.exec(
            select(Nudge.user_id).where(
                Nudge.team_id == team_id, Nudge.retro_id == retro_id, Nudge.reminder == reminder
            )
        )
    )


def nudge_record(
    session: Session, *, team_id: str, retro_id: int, user_id: str, reminder: str
) -> Nudge | None:
    return session.exec(
        select(Nudge).where(
            Nudge.team_id == team_id,
            Nudge.retro_id == retro_id,
            Nudge.user_id == user_id,
            Nudge.reminder == reminder,
        )
    ).first()


# ------------------------------------------------------------ Slack deliveries already handled


def any_event_seen(session: Session, *, team_id: str, key_hashes: Sequence[str]) -> bool:
    found = session.exec(
        select(ProcessedEvent).where(
            ProcessedEvent.team_id == team_id, col(ProcessedEvent.key_hash).in_(key_hashes)
        )
    ).first()
    return found is not None


def forget_events_before(session: Session, *, team_id: str, before: datetime) -> None:
    session.exec(
        delete(ProcessedEvent).where(
            col(ProcessedEvent.team_id) == team_id, col(ProcessedEvent.created_at) < before
        )
    )


def claim_key(session: Session, *, team_id: str, key_hash: str, created_at: datetime) -> bool:
    """Record a key in this transaction; False if it is there already. On PostgreSQL a transaction that
    recorded the same key and has not committed yet is waited for: then False, or True if it rolled back."""
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    claimed = session.execute(
        insert.values(team_id=team_id, key_hash=key_hash, created_at=created_at)
        .on_conflict_do_nothing(index_elements=["team_id", "key_hash"])
        .returning(table.c.id)  # PostgreSQL's rowcount is -1 with the RETURNING it adds anyway
    )
    return claimed.first() is not None
