"""Queries on the cache of a workspace's people (`slack_user`): names, time zones, bot flags and the DM
channel a message to them went to. Every one is scoped to a workspace (`team_id`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import SlackUserCache

_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)  # a cache row that knows only the DM: look the person up


def rows(session: Session, *, team_id: str, user_ids: list[str]) -> Iterator[SlackUserCache]:
    """The cached rows of these people: a query per 500, not one per person."""
    for start in range(0, len(user_ids), 500):
        yield from session.exec(
            select(SlackUserCache).where(
                SlackUserCache.team_id == team_id,
                col(SlackUserCache.user_id).in_(user_ids[start : start + 500]),
            )
        )


def anyone_fetched_since(session: Session, *, team_id: str, since: datetime) -> bool:
    """Someone of this workspace was looked up at `since` or later."""
    return (
        session.exec(
            select(SlackUserCache.user_id)
            .where(SlackUserCache.team_id == team_id, SlackUserCache.fetched_at >= since)
            .limit(1)
        ).first()
        is not None
    )


def dm_channel(session: Session, *, team_id: str, user_id: str) -> str | None:
    """The DM channel a message to this person went to, if one did."""
    cached = session.get(SlackUserCache, (team_id, user_id))
    return cached.dm_channel if cached is not None and cached.dm_channel else None


def remember_dms(session: Session, channels: dict[tuple[str, str], str]) -> None:
    """remember_dm for several people, {(team, user): DM channel}, in one statement."""
    if not channels:
        return
    table = SlackUserCache.__table__  # type: ignore[attr-defined]
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = (postgresql.insert if postgres else sqlite.insert)(table)
    statement = insert.on_conflict_do_update(
        index_elements=["team_id", "user_id"],
        set_={"dm_channel": insert.excluded.dm_channel},
        where=or_(table.c.dm_channel.is_(None), table.c.dm_channel != insert.excluded.dm_channel),
    )
    session.execute(
        statement,
        [
            {
                "team_id": team_id,
                "user_id": user_id,
                "name": "",
                "is_bot": False,
                "deleted": False,
                "dm_channel": dm_channel,
                "fetched_at": _LONG_AGO,
            }
            for (team_id, user_id), dm_channel in sorted(channels.items())
        ],
    )


def remember_dm(session: Session, *, team_id: str, user_id: str, dm_channel: str) -> None:
    """One statement: a person not in the cache yet is added with only the DM known (fetched long ago,
    so their name and time zone are still looked up)."""
    table = SlackUserCache.__table__  # type: ignore[attr-defined]
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = (postgresql.insert if postgres else sqlite.insert)(table)
    session.execute(
        insert.values(
            team_id=team_id,
            user_id=user_id,
            name="",
            is_bot=False,
            deleted=False,
            dm_channel=dm_channel,
            fetched_at=_LONG_AGO,
        ).on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={"dm_channel": dm_channel},
            where=or_(table.c.dm_channel.is_(None), table.c.dm_channel != dm_channel),
        )
    )
