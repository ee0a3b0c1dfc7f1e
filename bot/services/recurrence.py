"""Problems that come back: items of a retro that resemble problems raised in the channel's earlier retros."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.domain import FORMATS
from bot.services.metrics import HISTORY_DEPTH, earlier_retros
from bot.similarity import Match, similar
from storage import items as item_queries
from storage.models import Item, Retro


@dataclass(frozen=True)
class Earlier:
    retro: Retro
    item: Item
    match: Match


@dataclass(frozen=True)
class Recurrence:
    item: Item
    earlier: tuple[Earlier, ...]
    raised_in: int  # retros with this problem, this one included
    window: int  # retros looked at, this one included


def recurring_problems(session: Session, retro: Retro, *, depth: int = HISTORY_DEPTH) -> list[Recurrence]:
    before = earlier_retros(session, retro, limit=depth)
    earlier_items = [
        (r, i)
        for r in before
        for i in item_queries.items(session, team_id=r.team_id, retro_id=r.id)
        if i.category in FORMATS[r.format].problems
    ]
    found: list[Recurrence] = []
    for item in item_queries.items(session, team_id=retro.team_id, retro_id=retro.id):
        if item.category not in FORMATS[retro.format].problems:
            continue
        matches = tuple(
            Earlier(retro=r, item=i, match=m)
            for r, i in earlier_items
            if (m := similar(i.text, item.text)) is not None
        )
        if matches:
            hit = {m.retro.id for m in matches}
            found.append(
                Recurrence(item=item, earlier=matches, raised_in=len(hit) + 1, window=len(before) + 1)
            )
    return found
