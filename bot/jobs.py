"""Timed jobs: one registry of kinds, exact ids, and one stored reference.

A job only records that its time has come: it queues a task in the outbox (bot/tasks.py) and returns.
It never calls Slack, so APScheduler deleting a one-off job as it starts it loses nothing that the
start-up reconciler (bot/services/timers.py) cannot derive again from the retro's state.

APScheduler pickles jobs by reference. Every job stores the same one, `bot.jobs:due`, with plain
arguments; tests/unit/test_jobs.py pins it and restores every kind from a real job store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from storage.db import unit_of_work

if TYPE_CHECKING:
    from bot.services import Services


class JobKind(StrEnum):
    CLOSE_COLLECTION = "close_collection"
    NUDGE = "nudge"
    TURN_START = "turn_start"
    TURN_TIMEOUT = "turn_timeout"
    CLOSE_VOTING = "close_voting"
    ACTION_REMINDER = "action_reminder"
    FOLLOWUP = "followup"
    PLAN_START = "plan_start"  # a retro plan's planned time
    PLAN_REMINDER = "plan_reminder"  # a plan waiting for its facilitator's review reminds them
    SCHEDULE_DUE = "schedule_due"  # a cadence's next occurrence is to be planned
    ESCALATION_DIGEST = "escalation_digest"  # a channel's weekly digest of what is escalated


def job_id(kind: JobKind, team_id: str, *parts: object) -> str:
    """The exact id of one job. It ends with the separator, so no id is a prefix of another's."""
    return ":".join([str(kind), team_id, *(str(p) for p in parts)]) + ":"


@dataclass(frozen=True)
class Job:
    kind: JobKind
    team_id: str
    parts: tuple[object, ...]  # what makes the id unique: retro, person, turn, action...
    run_at: datetime
    args: dict[str, Any] = field(default_factory=dict)  # plain ids and strings only

    @property
    def id(self) -> str:
        return job_id(self.kind, self.team_id, *self.parts)


_services: Services | None = None


def bind(services: Services) -> None:
    global _services
    _services = services


def unbind() -> None:
    """A stopped runtime's services must not run a later job (tests start many runtimes in one process)."""
    global _services
    _services = None


def _bound() -> Services:
    if _services is None:
        raise RuntimeError("jobs ran before the services were bound")
    return _services


def due(kind: str, team_id: str, job: str, run_at: str, args: dict[str, Any]) -> None:
    """The one function every stored job calls: queue the task for this kind, once per firing."""
    services = _bound()
    JobKind(kind)  # a kind this version does not know fails here, loudly, not in a worker
    with unit_of_work(services.engine) as session:
        services.outbox.task(
            session,
            team_id=team_id,
            name=kind,
            args=args,
            # The same job moved to a new time fires again: its run time is part of the key.
            key=f"job:{job}{run_at}",
            lane=lane_of(kind, args),
            retro_id=args.get("retro_id"),
        )
        session.commit()


def lane_of(kind: str, args: dict[str, Any]) -> str | None:
    """Steps of one retro run one at a time, and an action item's notices in the order they fell due (a bot
    that was down sends "due tomorrow" before "overdue"); a nudge waits for nobody."""
    if "retro_id" in args and kind != JobKind.NUDGE:
        return f"retro:{args['retro_id']}"
    if "plan_id" in args:
        return f"plan:{args['plan_id']}"
    if "schedule_id" in args:
        return f"schedule:{args['schedule_id']}"
    if "action_id" in args:
        return f"action:{args['action_id']}"
    return None
