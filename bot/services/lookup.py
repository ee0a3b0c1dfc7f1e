"""Lookups every service needs, with the domain's answer when nothing is found."""

from __future__ import annotations

from sqlmodel import Session

from bot.errors import NoRetroHere
from storage import repositories as repo
from storage.models import Retro


def require_retro(session: Session, team_id: str, retro_id: int, *, lock: bool = False) -> Retro:
    """`lock`: for a phase change; on PostgreSQL a second change of the same retro waits for the first."""
    retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id, lock=lock)
    if retro is None:
        raise NoRetroHere("That retro no longer exists.")
    return retro
