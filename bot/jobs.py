"""Scheduled jobs: thin wrappers that APScheduler pickles by reference and calls with ids only.

The running process binds its services here once; every job reads the database before it acts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services

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


def close_collection(team_id: str, retro_id: int) -> None:
    _bound().deadlines.close_at_deadline(team_id=team_id, retro_id=retro_id)


def nudge(team_id: str, retro_id: int, user_id: str, reminder: str) -> None:
    _bound().deadlines.nudge(team_id=team_id, retro_id=retro_id, user_id=user_id, reminder=reminder)


def start_turn(team_id: str, retro_id: int, turn_id: int) -> None:
    _bound().discussion.turn_start_due(team_id=team_id, retro_id=retro_id, turn_id=turn_id)


def end_turn(team_id: str, retro_id: int, turn_id: int) -> None:
    _bound().discussion.turn_timeout_due(team_id=team_id, retro_id=retro_id, turn_id=turn_id)


def close_voting(team_id: str, retro_id: int) -> None:
    _bound().voting.close(team_id=team_id, retro_id=retro_id)


def action_reminder(team_id: str, action_id: int, kind: str) -> None:
    _bound().actions.remind(team_id=team_id, action_id=action_id, kind=kind)


def followup(team_id: str, retro_id: int) -> None:
    _bound().actions.followup(team_id=team_id, retro_id=retro_id)
