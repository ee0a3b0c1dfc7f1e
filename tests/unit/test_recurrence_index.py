"""Recurring problems found through the key-word index are exactly those of comparing every pair."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import FORMATS
from bot.services.recurrence import Earlier, Recurrence, find_recurring
from bot.similarity import similar
from storage.models import Item, Retro
from tests.factories import NOW, make_item, make_retro

# Few words, some short and some stems of others, so that pairs share one, two or all key words.
WORDS = [
    "flaky",
    "tests",
    "test",
    "deploy",
    "deployment",
    "slow",
    "ci",
    "rollback",
    "rollbacks",
    "env",
    "the",
]
texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=5).map(" ".join)
categories = st.sampled_from(["went_well", "went_wrong", "to_improve"])
retro_items = st.lists(st.tuples(categories, texts), max_size=8)


def _all_pairs(retro: Retro, items: list[Item], before: list[tuple[Retro, list[Item]]]) -> list[Recurrence]:
    """The matching as it was: every earlier problem compared with every problem of the retro."""
    earlier = [(r, i) for r, found in before for i in found if i.category in FORMATS[r.format].problems]
    result = []
    for item in items:
        if item.category not in FORMATS[retro.format].problems:
            continue
        matches = tuple(
            Earlier(retro=r, item=i, match=m)
            for r, i in earlier
            if (m := similar(i.text, item.text)) is not None
        )
        if matches:
            hit = {m.retro.id for m in matches}
            result.append(
                Recurrence(item=item, earlier=matches, raised_in=len(hit) + 1, window=len(before) + 1)
            )
    return result


@settings(max_examples=150, deadline=None)
@given(now=retro_items, earlier=st.lists(retro_items, max_size=3))
def test_the_index_finds_what_comparing_every_pair_finds(
    now: list[tuple[str, str]], earlier: list[list[tuple[str, str]]]
) -> None:
    def stored(retro: Retro, rows: list[tuple[str, str]]) -> list[Item]:
        return [
            make_item(None, id=retro.id * 100 + n, retro_id=retro.id, category=c, text=t)
            for n, (c, t) in enumerate(rows)
        ]

    before = [
        (r := make_retro(None, id=n + 1, created_at=NOW + timedelta(days=n)), stored(r, rows))
        for n, rows in enumerate(earlier)
    ]
    retro = make_retro(None, id=len(earlier) + 1)
    items = stored(retro, now)
    assert find_recurring(retro, items, before) == _all_pairs(retro, items, before)


# More and longer texts, some words common to most of them: key-word sets of up to nine, so that a match needs
# up to five shared words and the prefix filter's two sides (earlier problems smaller than the item, larger)
# both count.
MANY = [
    *WORDS,
    "pager",
    "alerts",
    "noisy",
    "staging",
    "cache",
    "review",
    "scope",
    "sprint",
    "docs",
    "handover",
]
long_texts = st.lists(st.sampled_from(MANY), min_size=0, max_size=12).map(
    lambda words: " ".join(["deploy", "tests", *words]) if len(words) % 3 else " ".join(words)
)
long_items = st.lists(st.tuples(categories, long_texts), max_size=10)


@settings(max_examples=100, deadline=None)
@given(now=long_items, earlier=st.lists(long_items, max_size=3))
def test_the_index_finds_what_comparing_every_pair_finds_in_long_texts(
    now: list[tuple[str, str]], earlier: list[list[tuple[str, str]]]
) -> None:
    before = [
        (r := make_retro(None, id=n + 1, created_at=NOW + timedelta(days=n)), _stored(r, rows))
        for n, rows in enumerate(earlier)
    ]
    retro = make_retro(None, id=len(earlier) + 1)
    items = _stored(retro, now)
    assert find_recurring(retro, items, before) == _all_pairs(retro, items, before)


def _stored(retro: Retro, rows: list[tuple[str, str]]) -> list[Item]:
    return [
        make_item(None, id=retro.id * 100 + n, retro_id=retro.id, category=c, text=t)
        for n, (c, t) in enumerate(rows)
    ]
