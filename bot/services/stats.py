"""Figures about a retro: counts only, never who wrote what."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain import FORMATS, RetroStats
from storage import repositories as repo
from storage.models import Retro


def compute_stats(session: Session, retro: Retro) -> RetroStats:
    assert retro.id is not None
    people = repo.participants(session=session, team_id=retro.team_id, retro_id=retro.id)
    counts = {c.key: 0 for c in FORMATS[retro.format].categories}
    for item in repo.items(session=session, team_id=retro.team_id, retro_id=retro.id):
        counts[item.category] = counts.get(item.category, 0) + 1
    answers = repo.responses(session=session, team_id=retro.team_id, retro_id=retro.id)
    ratings = [r.smoothness for r in answers if r.smoothness is not None]
    return RetroStats(
        invited=len(people),
        responded=sum(1 for p in people if p.responded_at is not None),
        counts=counts,
        average_smoothness=sum(ratings) / len(ratings) if ratings else None,
    )
