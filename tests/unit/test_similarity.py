"""Recurring problems must be recognised on real wording, and unrelated problems must stay apart."""

from __future__ import annotations

import pytest

from bot.similarity import keywords, similar


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
