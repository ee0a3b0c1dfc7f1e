"""Figures that show, retro after retro, whether the team's retros lead anywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session

from bot.domain import RetroMetrics
from storage import action_items as action_item_queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage import roti as roti_queries
from storage.models import ActionItem, Participant, Response, Retro

HISTORY_DEPTH = 5  # earlier retros compared in a report


def metrics_for(session: Session, retro: Retro) -> RetroMetrics:
    return metrics_of(session, [retro])[retro.id]


def metrics_of(session: Session, retros: Sequence[Retro]) -> dict[int, RetroMetrics]:
    """The figures of several retros of one workspace, with one statement per table whatever their number."""
    if not retros:
        return {}
    team_id, ids = retros[0].team_id, [r.id for r in retros]
    return figures_from(
        retros,
        people=retro_queries.participants_of_retros(session, team_id=team_id, retro_ids=ids),
        actions=action_item_queries.of_retros(session, team_id=team_id, retro_ids=ids),
        responses=item_queries.responses_of_retros(session, team_id=team_id, retro_ids=ids),
        items=item_queries.item_counts(session, team_id=team_id, retro_ids=ids),
        roti=roti_queries.figures_of_retros(session, team_id=team_id, retro_ids=ids),
    )


def figures_from(
    retros: Sequence[Retro],
    *,
    people: Mapping[int, Sequence[Participant]],
    actions: Mapping[int, Sequence[ActionItem]],
    responses: Mapping[int, Sequence[Response]],
    items: Mapping[int, int],
    roti: Mapping[int, tuple[float, int]] | None = None,
) -> dict[int, RetroMetrics]:
    """The figures of retros whose rows are loaded already (per retro id; `items`: how many each has;
    `roti`: average and count of the ratings of those that have some)."""
    roti = roti or {}
    return {
        r.id: _metrics(r, people[r.id], actions[r.id], responses[r.id], items[r.id], roti.get(r.id))
        for r in retros
    }


def _metrics(
    retro: Retro,
    people: Sequence[Participant],
    actions: Sequence[ActionItem],
    responses: Sequence[Response],
    items: int,
    roti: tuple[float, int] | None = None,
) -> RetroMetrics:
    ratings = [r.smoothness for r in responses if r.smoothness is not None]
    done = [a for a in actions if a.status == "done"]
    on_time = [a for a in done if a.closed_at and a.due_date and a.closed_at.date() <= a.due_date]
    return RetroMetrics(
        retro_id=retro.id,
        title=retro.title,
        day=retro.created_at.date().isoformat(),
        invited=len(people),
        responded=sum(1 for p in people if p.responded_at is not None),
        items=items,
        actions_created=len([a for a in actions if a.status != "carried"]),
        actions_done=len(done),
        actions_on_time=len(on_time),
        average_smoothness=sum(ratings) / len(ratings) if ratings else None,
        roti_average=roti[0] if roti else None,
        roti_count=roti[1] if roti else 0,
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
