"""Figures about a retro: counts only, never who wrote what."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain import FORMATS, RetroStats
from storage import retros as retro_queries
from storage.models import Retro


def compute_stats(session: Session, retro: Retro) -> RetroStats:
    categories = [c.key for c in FORMATS[retro.format].categories]
    found = retro_queries.figures(session, team_id=retro.team_id, retro_id=retro.id, categories=categories)
    return RetroStats(
        invited=found.invited,
        responded=found.responded,
        counts=found.items_by_category,
        average_smoothness=found.average_smoothness,
    )
