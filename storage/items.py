"""Queries on what a retro collects: items, survey responses, the reminders to answer, the keys of the
Slack deliveries already handled, and what the Home tab lists. Every one is scoped to a workspace
(`team_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, delete, select

from storage.models import ActionItem, Item, Nudge, Participant, ProcessedEvent, Response, Retro


def _authored_by(model: type[Item] | type[Response], user_id: str, author_hash: str) -> ColumnElement[bool]:
    """Rows this person wrote, named or anonymous (found again through their keyed hash)."""
    return or_(col(model.author_id) == user_id, col(model.author_hash) == author_hash)


# ------------------------------------------------------------ items


def get_item(session: Session, *, team_id: str, item_id: int) -> Item | None:
    return session.exec(select(Item).where(Item.team_id == team_id, Item.id == item_id)).first()


def own_items(
    session: Session,
    *,
    team_id: str,
    retro_id: int,
    user_id: str,
    author_hash: str,
    source: str | None = None,
) -> Sequence[Item]:
    """This person's items in a retro (those from `source` only, if given), oldest first."""
    query = select(Item).where(
        Item.team_id == team_id, Item.retro_id == retro_id, _authored_by(Item, user_id, author_hash)
    )
    if source is not None:
        query = query.where(Item.source == source)
    return session.exec(query.order_by(col(Item.id))).all()


# ------------------------------------------------------------ survey responses


def own_response(
    session: Session, *, team_id: str, retro_id: int, user_id: str, author_hash: str
) -> Response | None:
    return session.exec(
        select(Response).where(
            Response.team_id == team_id,
            Response.retro_id == retro_id,
            _authored_by(Response, user_id, author_hash),
        )
    ).first()


def delete_responses(session: Session, *, ids: Sequence[int]) -> None:
    session.exec(delete(Response).where(col(Response.id).in_(ids)))


# ------------------------------------------------------------ which retro an answer is for


def retro_by_kickoff(session: Session, *, team_id: str, channel_id: str, thread_ts: str) -> Retro | None:
    """The retro whose kickoff message starts this thread."""
    return session.exec(
        select(Retro).where(
            Retro.team_id == team_id, Retro.channel_id == channel_id, Retro.kickoff_ts == thread_ts
        )
    ).first()


def collecting_retros_of(
    session: Session, *, team_id: str, user_id: str, unanswered: bool = False
) -> Sequence[Retro]:
    """Retros still collecting that this person was invited to: newest first; or, with `unanswered`,
    those they have not answered yet, the first deadline first (the Home tab's surveys waiting)."""
    query = (
        select(Retro)
        .join(Participant, col(Participant.retro_id) == col(Retro.id))
        .where(
            Retro.team_id == team_id,
            Retro.phase == "collecting",
            Participant.team_id == team_id,
            Participant.user_id == user_id,
        )
    )
    if unanswered:
        query = query.where(col(Participant.responded_at).is_(None)).order_by(col(Retro.deadline))
    else:
        query = query.order_by(col(Retro.created_at).desc())
    return session.exec(query).all()


def latest_retro_of(session: Session, *, team_id: str, user_id: str) -> Retro | None:
    """The newest retro, in any phase, that this person was invited to."""
    return session.exec(
        select(Retro)
        .join(Participant, col(Participant.retro_id) == col(Retro.id))
        .where(Retro.team_id == team_id, Participant.team_id == team_id, Participant.user_id == user_id)
        .order_by(col(Retro.created_at).desc(), col(Retro.id).desc())
    ).first()


# ------------------------------------------------------------ reminders to answer


def reminded(session: Session, *, team_id: str, retro_id: int, reminder: str) -> set[str]:
    """Who this reminder has gone to already."""
    return set(
        session.exec(
            select(Nudge.user_id).where(
                Nudge.team_id == team_id, Nudge.retro_id == retro_id, Nudge.reminder == reminder
            )
        )
    )


def nudge_record(
    session: Session, *, team_id: str, retro_id: int, user_id: str, reminder: str
) -> Nudge | None:
    return session.exec(
        select(Nudge).where(
            Nudge.team_id == team_id,
            Nudge.retro_id == retro_id,
            Nudge.user_id == user_id,
            Nudge.reminder == reminder,
        )
    ).first()


# ------------------------------------------------------------ Slack deliveries already handled


def any_event_seen(session: Session, *, team_id: str, key_hashes: Sequence[str]) -> bool:
    found = session.exec(
        select(ProcessedEvent).where(
            ProcessedEvent.team_id == team_id, col(ProcessedEvent.key_hash).in_(key_hashes)
        )
    ).first()
    return found is not None


def forget_events_before(session: Session, *, team_id: str, before: datetime) -> None:
    session.exec(
        delete(ProcessedEvent).where(
            col(ProcessedEvent.team_id) == team_id, col(ProcessedEvent.created_at) < before
        )
    )


# ------------------------------------------------------------ the Home tab


def participant_ids(session: Session, *, team_id: str, retro_id: int) -> Sequence[str]:
    return session.exec(
        select(Participant.user_id).where(Participant.team_id == team_id, Participant.retro_id == retro_id)
    ).all()


def open_action_items_of(session: Session, *, team_id: str, owner_id: str) -> Sequence[ActionItem]:
    """This person's open action items, the first due first."""
    return session.exec(
        select(ActionItem)
        .where(ActionItem.team_id == team_id, ActionItem.owner_id == owner_id, ActionItem.status == "open")
        .order_by(col(ActionItem.due_date), col(ActionItem.id))
    ).all()


def facilitating(session: Session, *, team_id: str, user_id: str) -> Sequence[Retro]:
    """The retros this person runs that are not closed, newest first."""
    return session.exec(
        select(Retro)
        .where(Retro.team_id == team_id, Retro.facilitator_id == user_id, col(Retro.closed_at).is_(None))
        .order_by(col(Retro.created_at).desc())
    ).all()


def items(*, session: Session, team_id: str, retro_id: int) -> Sequence[Item]:
    return session.exec(
        select(Item).where(Item.team_id == team_id, Item.retro_id == retro_id).order_by(col(Item.id))
    ).all()


def responses(*, session: Session, team_id: str, retro_id: int) -> Sequence[Response]:
    return session.exec(
        select(Response)
        .where(Response.team_id == team_id, Response.retro_id == retro_id)
        .order_by(col(Response.id))
    ).all()
