"""Names, time zones and bot flags of a workspace's people, cached so a fan-out does not wait on Slack.

A miss costs one users.info; many misses at once read users.list pages instead (200 people a call,
five calls for a thousand), which is what lets the first invitation go out within seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.gateway import SlackCallFailed, SlackGateway, SlackUser
from storage import people as user_cache
from storage.db import unit_of_work
from storage.models import SlackUserCache

FRESH_FOR = timedelta(days=1)
LIST_WHEN_MISSING = 20  # more misses than this: read users.list pages instead of one users.info each


def _user(row: SlackUserCache) -> SlackUser:
    return SlackUser(id=row.user_id, name=row.name, is_bot=row.is_bot, deleted=row.deleted, tz=row.tz)


@dataclass(frozen=True)
class Resolved:
    people: dict[str, SlackUser]
    unreachable: list[tuple[str, str]]  # (user id, Slack's error)


class People:
    def __init__(self, *, engine: Engine, gateway: SlackGateway, clock: Clock) -> None:
        self.engine = engine
        self.gateway = gateway
        self.clock = clock

    def cached(self, session: Session, team_id: str, user_id: str) -> SlackUser | None:
        row = session.get(SlackUserCache, (team_id, user_id))
        if row is None or row.fetched_at < self.clock() - FRESH_FOR:
            return None
        return _user(row)

    def name(self, session: Session, team_id: str, user_id: str) -> str:
        known = self.cached(session, team_id, user_id)
        return known.name if known else ""

    def resolve(self, team_id: str, user_ids: Iterable[str]) -> Resolved:
        """Everyone asked for, from the cache or Slack. A passing failure (429, 5xx) is raised: the task
        that asked runs again later; a person Slack does not know is listed as unreachable."""
        wanted = list(dict.fromkeys(user_ids))
        found: dict[str, SlackUser] = {}
        fresh_since = self.clock() - FRESH_FOR
        with unit_of_work(self.engine) as session:
            for row in user_cache.rows(session, team_id=team_id, user_ids=wanted):
                if row.fetched_at >= fresh_since:
                    found[row.user_id] = _user(row)
        missing = [u for u in wanted if u not in found]
        unreachable: list[tuple[str, str]] = []
        fetched: list[SlackUser] = []
        if len(missing) > LIST_WHEN_MISSING:
            fetched = self._pages(until_found=set(missing))
            by_id = {p.id: p for p in fetched}
            for user_id in missing:
                if user_id in by_id:
                    found[user_id] = by_id[user_id]
                else:
                    unreachable.append((user_id, "user_not_found"))
        else:
            for user_id in missing:
                try:
                    user = self.gateway.user_info(user=user_id)
                except SlackCallFailed as exc:
                    if exc.transient:
                        raise
                    unreachable.append((user_id, exc.error))
                    continue
                fetched.append(user)
                found[user_id] = user
        self._store(team_id, fetched)
        return Resolved(people=found, unreachable=unreachable)

    def knows_nobody(self, team_id: str) -> bool:
        """Nothing fresh cached for this workspace (a new install, a long pause)."""
        with unit_of_work(self.engine) as session:
            return not user_cache.anyone_fetched_since(
                session, team_id=team_id, since=self.clock() - FRESH_FOR
            )

    def list_everyone(self, team_id: str) -> None:
        """Read every users.list page into the cache (what `resolve` would do for many misses)."""
        self._store(team_id, self._pages())

    def _pages(self, until_found: set[str] | None = None) -> list[SlackUser]:
        """users.list, page by page: to the end, or until everyone in `until_found` has been seen."""
        fetched: list[SlackUser] = []
        cursor: str | None = None
        while until_found is None or until_found:
            page, cursor = self.gateway.users_page(cursor=cursor)
            fetched += page
            if until_found is not None:
                until_found -= {p.id for p in page}
            if cursor is None:
                break
        return fetched

    def _store(self, team_id: str, users: list[SlackUser]) -> None:
        if not users:
            return
        now = self.clock()
        with unit_of_work(self.engine) as session:
            existing = {
                row.user_id: row
                for row in user_cache.rows(session, team_id=team_id, user_ids=[u.id for u in users])
            }
            for user in users:
                row = existing.get(user.id) or SlackUserCache(
                    team_id=team_id, user_id=user.id, fetched_at=now
                )
                row.name, row.is_bot, row.deleted, row.tz, row.fetched_at = (
                    user.name,
                    user.is_bot,
                    user.deleted,
                    user.tz,
                    now,
                )
                session.add(row)
            session.commit()
