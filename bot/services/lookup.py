"""Lookups every service needs, with the domain's answer when nothing is found."""

from __future__ import annotations

from sqlmodel import Session

from bot.errors import NoRetroHere
from storage import retros as retro_queries
from storage.models import Retro


def require_retro(session: Session, team_id: str, retro_id: int, *, lock: bool = False) -> Retro:
    """`lock`: for a phase change; on PostgreSQL a second change of the same retro waits for the first."""
    retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id, lock=lock)
    if retro is None:
        raise NoRetroHere("That retro no longer exists.")
    return retro


def require_channel_retro(
    session: Session, team_id: str, channel_id: str, *, include_closed: bool = False
) -> Retro:
    """The channel's open retro; with `include_closed`, failing that its latest (reports and action items
    often come after the close)."""
    retro = retro_queries.current_retro_in_channel(
        session, team_id=team_id, channel_id=channel_id, include_closed=include_closed
    )
    if retro is None:
        raise NoRetroHere(
            "There is no retro in this channel yet. Start one with `/retro new [title]`."
            if include_closed
            else "There is no open retro in this channel. Start one with `/retro new [title]`."
        )
    return retro
