"""Problems that come back: items of a retro that resemble problems raised in the channel's earlier retros."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from sqlmodel import Session

from bot.domain import FORMATS
from bot.services.metrics import HISTORY_DEPTH, earlier_retros
from bot.similarity import Match, keywords, match, may_match
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
    items = item_queries.items_of_retros(
        session, team_id=retro.team_id, retro_ids=[*(r.id for r in before), retro.id]
    )
    return find_recurring(retro, items[retro.id], [(r, items[r.id]) for r in before])


def find_recurring(
    retro: Retro, items: Sequence[Item], before: Sequence[tuple[Retro, Sequence[Item]]]
) -> list[Recurrence]:
    """The items of `retro` that resemble problems of the earlier retros `before` (oldest first, with
    their items). Key words are computed once per item, and an index from key word to earlier problems
    leaves out every pair that shares none (they cannot match): the work grows with the pairs that share
    key words, not with all pairs. Matches come in the order of `before` and of its items."""
    earlier: list[tuple[Retro, Item, frozenset[str]]] = [
        (r, i, keywords(i.text))
        for r, retro_items in before
        for i in retro_items
        if i.category in FORMATS[r.format].problems
    ]
    index: dict[str, list[int]] = defaultdict(list)  # key word -> the earlier problems that have it
    terse: dict[str, list[int]] = defaultdict(list)  # the same for the problems of one key word
    for n, (_, _, words) in enumerate(earlier):
        for word in words:
            index[word].append(n)
            if len(words) == 1:
                terse[word].append(n)
    found: list[Recurrence] = []
    for item in items:
        if item.category not in FORMATS[retro.format].problems:
            continue
        words = keywords(item.text)
        # How many key words each earlier problem shares with this item, counted through the index. One
        # shared word can only make a match when either has a single key word (`may_match`).
        shared = Counter(chain.from_iterable(index[w] for w in words if w in index))
        if len(words) == 1:
            candidates = sorted(shared)
        else:
            several = [n for n, count in shared.items() if count > 1]
            candidates = sorted(
                [n for n in several if may_match(shared[n], len(earlier[n][2]), len(words))]
                + [n for w in words for n in terse.get(w, ())]
            )
        matches = tuple(
            Earlier(retro=earlier[n][0], item=earlier[n][1], match=m)
            for n in candidates
            if (m := match(earlier[n][2], words)) is not None
        )
        if matches:
            hit = {m.retro.id for m in matches}
            found.append(
                Recurrence(item=item, earlier=matches, raised_in=len(hit) + 1, window=len(before) + 1)
            )
    return found
