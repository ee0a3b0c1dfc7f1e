"""Queries on action items and their notices. Every one is scoped to a workspace (`team_id`) but
`open_with_due_date`, which start-up runs across workspaces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlmodel import Session, col, func, select

from storage.models import ActionItem, ActionNotice, Item


def open_with_due_date(session: Session) -> Iterator[ActionItem]:
    """Every workspace's open action items that have a due date (what start-up schedules reminders for)."""
    yield from session.exec(
        select(ActionItem).where(ActionItem.status == "open", col(ActionItem.due_date).is_not(None))
    )


def get(session: Session, *, team_id: str, action_item_id: int, lock: bool = False) -> ActionItem | None:
    query = select(ActionItem).where(ActionItem.team_id == team_id, ActionItem.id == action_item_id)
    return session.exec(query.with_for_update() if lock else query).first()


def source_item(session: Session, *, team_id: str, item_id: int, retro_id: int | None = None) -> Item | None:
    """The result an action item comes from; with `retro_id`, only if it is that retro's."""
    query = select(Item).where(Item.team_id == team_id, Item.id == item_id)
    if retro_id is not None:
        query = query.where(Item.retro_id == retro_id)
    return session.exec(query).first()


def open_items(
    session: Session, *, team_id: str, owner_id: str | None = None, retro_ids: Sequence[int] | None = None
) -> list[ActionItem]:
    """Open action items of one owner, or of some retros, by due date."""
    query = select(ActionItem).where(ActionItem.team_id == team_id, ActionItem.status == "open")
    if owner_id is not None:
        query = query.where(ActionItem.owner_id == owner_id)
    if retro_ids is not None:
        query = query.where(col(ActionItem.retro_id).in_(retro_ids))
    return list(session.exec(query.order_by(col(ActionItem.due_date), col(ActionItem.id))).all())


def of_retros(session: Session, *, team_id: str, retro_ids: Sequence[int]) -> dict[int, list[ActionItem]]:
    """The action items of several retros in one statement, per retro, in the order they were created."""
    found: dict[int, list[ActionItem]] = {retro_id: [] for retro_id in retro_ids}
    for action_item in session.exec(
        select(ActionItem)
        .where(ActionItem.team_id == team_id, col(ActionItem.retro_id).in_(retro_ids))
        .order_by(col(ActionItem.id))
    ):
        found[action_item.retro_id].append(action_item)
    return found


def notice(session: Session, *, team_id: str, action_item_id: int, kind: str) -> ActionNotice | None:
    """The record of a notice sent about an action item (its unique key: action item and kind)."""
    return session.exec(
        select(ActionNotice).where(
            ActionNotice.team_id == team_id,
            ActionNotice.action_id == action_item_id,
            ActionNotice.kind == kind,
        )
    ).first()


def noticed(session: Session, *, team_id: str, action_item_ids: Sequence[int], kind: str) -> set[int]:
    """Which of these action items were sent a notice of this kind."""
    return {
        n.action_id
        for n in session.exec(
            select(ActionNotice).where(
                ActionNotice.team_id == team_id,
                col(ActionNotice.action_id).in_(action_item_ids),
                ActionNotice.kind == kind,
            )
        )
    }


def first_open_items(
    session: Session, *, team_id: str, owner_id: str, limit: int
) -> tuple[list[ActionItem], int]:
    """One owner's first `limit` open action items by due date, and how many are open in all, in one
    statement that loads no more than `limit` rows (the Home tab shows a few of them)."""
    rows = session.exec(
        select(ActionItem, func.count().over())
        .where(ActionItem.team_id == team_id, ActionItem.status == "open", ActionItem.owner_id == owner_id)
        .order_by(col(ActionItem.due_date), col(ActionItem.id))
        .limit(limit)
    ).all()
    return [row[0] for row in rows], rows[0][1] if rows else 0


def of_retro(session: Session, *, team_id: str, retro_id: int) -> Sequence[ActionItem]:
    """One retro's action items, in the order they were created."""
    return session.exec(
        select(ActionItem)
        .where(ActionItem.team_id == team_id, ActionItem.retro_id == retro_id)
        .order_by(col(ActionItem.id))
    ).all()
