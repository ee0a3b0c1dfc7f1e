"""Scheduled jobs are stored by reference: renaming or moving one orphans every job already in a database."""

from __future__ import annotations

import inspect

import pytest
from apscheduler.util import obj_to_ref, ref_to_obj

from bot import jobs

# What databases in the field hold. Changing this set needs a migration of the stored jobs.
STORED_REFERENCES = {
    "bot.jobs:close_collection": ("team_id", "retro_id"),
    "bot.jobs:nudge": ("team_id", "retro_id", "user_id", "reminder"),
    "bot.jobs:start_turn": ("team_id", "retro_id", "turn_id"),
    "bot.jobs:end_turn": ("team_id", "retro_id", "turn_id"),
    "bot.jobs:close_voting": ("team_id", "retro_id"),
    "bot.jobs:action_reminder": ("team_id", "action_id", "kind"),
    "bot.jobs:followup": ("team_id", "retro_id"),
}


def _job_functions() -> dict[str, object]:
    return {
        obj_to_ref(fn): fn
        for name, fn in inspect.getmembers(jobs, inspect.isfunction)
        # x_*: mutation testing (.ci/mutation) puts mutmut's copies of each function beside it.
        if fn.__module__ == jobs.__name__
        and not name.startswith(("_", "x_"))
        and name not in ("bind", "unbind")
    }


def test_the_stored_references_are_pinned() -> None:
    assert set(_job_functions()) == set(STORED_REFERENCES)
    for ref, parameters in STORED_REFERENCES.items():
        fn = ref_to_obj(ref)
        assert tuple(inspect.signature(fn).parameters) == parameters, ref
        # Ids only: a job never carries an object that could go stale in the job store.
        for parameter in inspect.signature(fn).parameters.values():
            assert parameter.annotation in ("str", "int"), (ref, parameter)


def test_a_job_before_the_services_are_bound_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "_services", None)
    with pytest.raises(RuntimeError, match=r"^jobs ran before the services were bound$"):
        jobs.followup("T0TEAM", 1)
