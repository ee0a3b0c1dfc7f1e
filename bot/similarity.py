"""When two problems are "the same problem again", in a way a person can check: the words they share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "about",
        "again",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "during",
        "each",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "last",
        "lot",
        "lots",
        "made",
        "make",
        "many",
        "more",
        "most",
        "much",
        "my",
        "no",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "same",
        "so",
        "some",
        "still",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "took",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "yet",
        "you",
        "your",
        "went",
        "well",
        "wrong",
        "good",
        "bad",
        "really",
        "quite",
    ]  # retro filler: every item "went" somewhere
)
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "ed", "s", "ly")
_SIBILANT_ES = ("ches", "shes", "xes", "sses", "zes")


@lru_cache(maxsize=1 << 16)  # words repeat from item to item: most are stemmed once per process
def stem(word: str) -> str:
    """A light stemmer: enough to make "rollbacks" and "rollback", "deployment" and "deploy" meet."""
    if word.endswith(_SIBILANT_ES):
        return word[:-2]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def keywords(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1)


@dataclass(frozen=True)
class Match:
    shared: tuple[str, ...]
    score: float


def similar(a: str, b: str) -> Match | None:
    """Two items match when they share at least two key words covering half of the shorter one,
    or when the shorter one's key words are all in the other (for terse items like "Flaky tests")."""
    return match(keywords(a), keywords(b))


def may_match(shared: int, left: int, right: int) -> bool:
    """Whether key-word sets of these sizes sharing `shared` words can match (`match` decides): a
    necessary condition that needs only the sizes, to skip most candidates without comparing them."""
    smaller = min(left, right)
    return (shared >= 2 and 2 * shared >= smaller) or shared == smaller > 0


def match(left: frozenset[str], right: frozenset[str]) -> Match | None:
    """`similar` on key words computed beforehand (once per item, not once per pair)."""
    if not left or not right:
        return None
    shared = left & right
    smaller = min(len(left), len(right))
    score = len(shared) / smaller
    terse = len(shared) == smaller and max((len(w) for w in shared), default=0) >= 5
    if (len(shared) >= 2 and score >= 0.5) or terse:
        return Match(shared=tuple(sorted(shared)), score=round(score, 2))
    return None
