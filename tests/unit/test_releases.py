"""The release endpoint's rules: what a posted body must hold, which releases a channel's rules leave out,
the rate limiter, and that no JSON at all makes the parser raise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.releases import RateLimiter, Release, included, parse_release
from storage.models import RetroSchedule

NOW = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def release(**fields: object) -> Release:
    found, errors = parse_release({"version": "2.4.0", "deployed_at": "2027-05-02T10:00:00Z", **fields}, NOW)
    assert found is not None, errors
    return found


@settings(max_examples=200, deadline=None)
@given(data=JSON, fields=st.dictionaries(st.sampled_from(["version", "deployed_at", "scope", "incidents",
                                                         "rollbacks", "hotfixes", "links", "metrics"]), JSON))  # fmt: skip
def test_any_json_is_a_release_or_errors_by_field_never_a_crash(
    data: object, fields: dict[str, object]
) -> None:
    for body in (data, fields):
        found, errors = parse_release(body, NOW)
        assert (found is None) == bool(errors)
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())


def test_fields_at_fault_are_named() -> None:
    found, errors = parse_release(
        {"version": "x" * 101, "deployed_at": "2027-05-02T10:00:00", "incidents": [1], "metrics": {"a": [1]}},
        NOW,
    )
    assert found is None
    assert set(errors) == {"version", "deployed_at", "incidents", "metrics"}
    _, future = parse_release({"version": "1", "deployed_at": "2027-05-09T10:00:00Z"}, NOW)
    assert "future" in future["deployed_at"]
    assert release(incidents="Checkout down 5 min").incidents == ("Checkout down 5 min",)


@pytest.mark.parametrize(
    ("version", "major_or_minor"),
    [("2.4.0", True), ("v3.0.0-rc.1", True), ("2.4.1", False), ("v2.4.12+build.7", False), ("2026.11", True)],
)
def test_major_and_minor_versions(version: str, major_or_minor: bool) -> None:
    assert release(version=version).major_or_minor is major_or_minor


def test_a_channels_rules_leave_releases_out() -> None:
    def rule(name: str) -> RetroSchedule:
        return RetroSchedule(team_id="T1", channel_id="C1", created_by="U1", facilitator_id="U1",
                             release_rule=name, updated_at=NOW)  # fmt: skip

    patch, hotfixed = release(version="2.4.1"), release(version="2.4.1", hotfixes=["Fix"])
    assert included(None, patch) is None  # no schedule: every release
    assert included(rule("every"), patch) is None
    assert "incident, a rollback or a hotfix" in str(included(rule("significant"), patch))
    assert included(rule("significant"), hotfixed) is None
    assert "major and minor" in str(included(rule("major_minor"), patch))
    assert included(rule("major_minor"), release(version="2.5.0")) is None


def test_the_rate_limit_is_a_sliding_window_per_token() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60, now=lambda: now[0])
    assert [limiter.wait_for(1) for _ in range(3)] == [0, 0, 0]
    assert limiter.wait_for(1) == 60
    assert limiter.wait_for(2) == 0
    now[0] = 30
    assert limiter.wait_for(1) == 30
    now[0] = 60
    assert limiter.wait_for(1) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "\ud800"),  # a lone surrogate: JSON allows it, nothing can store or send it
        ("scope", "\udfff x"),
        ("rollbacks", ["rb \udfff"]),
        ("version", "1.0.0 <!channel> <@UBOB>"),
        ("version", "1\n<!here>"),
        ("version", "\u200b"),
        ("deployed_at", "0001-01-01T00:00:00+14:00"),  # overflows in UTC
        ("deployed_at", "2020-01-01T00:00:00Z"),  # years ago
    ],
)
def test_hostile_values_are_422_by_field(field: str, value: object) -> None:
    found, errors = parse_release(
        {"version": "2.4.0", "deployed_at": "2027-05-02T10:00:00Z", field: value}, NOW
    )
    assert found is None and set(errors) == {field}
