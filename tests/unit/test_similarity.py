"""Recurring problems must be recognised on real wording, and unrelated problems must stay apart."""

from __future__ import annotations

import pytest

from bot.similarity import keywords, match, may_match, similar


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        ("Rollback took 40 minutes", "Rollbacks are still slow and manual, 40 minutes again"),
        ("Flaky tests", "Tests were flaky again"),
        ("Too many meetings during the sprint", "Meetings ate the whole sprint"),
        ("Deploy failed because of missing env vars", "Deployment failed: env vars were missing"),
        ("On-call handover was confusing", "Confusing handover for on-call"),
        ("Staging environment was down", "Staging env down for two days"),
    ],
)
def test_recurring_problems_match(earlier: str, now: str) -> None:
    assert similar(earlier, now) is not None, (keywords(earlier), keywords(now))


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        ("Slow CI", "Slow coffee machine"),
        ("Rollback took 40 minutes", "Code review took too long"),
        ("Flaky tests", "Flaky wifi in the office"),
        ("Too many meetings", "Not enough pairing"),
        ("Staging environment was down", "Production alerts were noisy"),
        ("The release went well", "The retro went well"),
    ],
)
def test_unrelated_problems_do_not_match(earlier: str, now: str) -> None:
    assert similar(earlier, now) is None, (keywords(earlier), keywords(now))


def test_a_match_explains_itself() -> None:
    match = similar("Rollback took 40 minutes", "Rollbacks: 40 minutes again")
    assert match is not None
    assert match.shared == ("40", "minute", "rollback")


@pytest.mark.parametrize("shorter", range(1, 9))
@pytest.mark.parametrize("longer", range(0, 4))
def test_may_match_is_the_size_condition_of_a_match(shorter: int, longer: int) -> None:
    """find_recurring skips the candidates `may_match` rejects without comparing them: it must accept
    every pair that matches, and, for key words of 5 letters or more, only those."""
    for shared in range(shorter + 1):
        common = {f"shared{n}" for n in range(shared)}
        left = frozenset(common | {f"left{n}" for n in range(shorter - shared)})
        right = frozenset(common | {f"right{n}" for n in range(shorter + longer - shared)})
        assert (match(left, right) is not None) == may_match(shared, len(left), len(right)), (left, right)
