"""Queries on action items.

More of them are still in storage/repositories.py."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session, col, select

from storage.models import ActionItem


def open_with_due_date(session: Session) -> Iterator[ActionItem]:
    """Every workspace's open action items that have a due date (what start-up schedules reminders for)."""
    yield from session.exec(
        select(ActionItem).where(ActionItem.status == "open", col(ActionItem.due_date).is_not(None))
    )
