"""Figures that show, retro after retro, whether the team's retros lead anywhere."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain import RetroMetrics
from storage import action_items as action_item_queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage.models import Retro

HISTORY_DEPTH = 5  # earlier retros compared in a report


def metrics_for(session: Session, retro: Retro) -> RetroMetrics:
    team_id, retro_id = retro.team_id, retro.id
    people = retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
    actions = action_item_queries.of_retro(session, team_id=team_id, retro_id=retro_id)
    responses = item_queries.responses(session, team_id=team_id, retro_id=retro_id)
    ratings = [r.smoothness for r in responses if r.smoothness is not None]
    done = [a for a in actions if a.status == "done"]
    on_time = [a for a in done if a.closed_at and a.due_date and a.closed_at.date() <= a.due_date]
    return RetroMetrics(
        retro_id=retro.id,
        title=retro.title,
        day=retro.created_at.date().isoformat(),
        invited=len(people),
        responded=sum(1 for p in people if p.responded_at is not None),
        items=len(item_queries.items(session, team_id=team_id, retro_id=retro_id)),
        actions_created=len([a for a in actions if a.status != "carried"]),
        actions_done=len(done),
        actions_on_time=len(on_time),
        average_smoothness=sum(ratings) / len(ratings) if ratings else None,
    )


def earlier_retros(session: Session, retro: Retro, *, limit: int = HISTORY_DEPTH) -> list[Retro]:
    """The channel's retros before this one, oldest first, cancelled ones left out."""
    found = retro_queries.earlier_in_channel(
        session, team_id=retro.team_id, channel_id=retro.channel_id, before_id=retro.id, limit=limit
    )
    return list(reversed(found))


def channel_history(session: Session, *, team_id: str, channel_id: str, limit: int = 10) -> list[Retro]:
    """The channel's last retros, oldest first, cancelled ones included (they are part of the record)."""
    found = retro_queries.latest_in_channel(session, team_id=team_id, channel_id=channel_id, limit=limit)
    return list(reversed(found))
