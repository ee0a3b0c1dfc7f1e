"""Queries on a channel's schedule, its retro plans and the release endpoint's tokens. Every one is scoped
to a workspace (`team_id`) but those start-up runs across workspaces (`active_schedules`, `open_plans`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.domain import OPEN_PLAN_STATUSES
from storage.models import ApiToken, Retro, RetroPlan, RetroSchedule


def schedule_for_channel(
    session: Session, *, team_id: str, channel_id: str, lock: bool = False
) -> RetroSchedule | None:
    query = select(RetroSchedule).where(
        RetroSchedule.team_id == team_id, RetroSchedule.channel_id == channel_id
    )
    return session.exec(query.with_for_update() if lock else query).first()


def get_schedule(
    session: Session, *, team_id: str, schedule_id: int, lock: bool = False
) -> RetroSchedule | None:
    query = select(RetroSchedule).where(RetroSchedule.team_id == team_id, RetroSchedule.id == schedule_id)
    return session.exec(query.with_for_update() if lock else query).first()


def active_schedules(session: Session) -> Sequence[RetroSchedule]:
    """Schedules with a cadence that is not paused, in every workspace (for the start-up reconciler)."""
    return session.exec(
        select(RetroSchedule).where(
            col(RetroSchedule.cadence).is_not(None), col(RetroSchedule.paused_at).is_(None)
        )
    ).all()


def get_plan(session: Session, *, team_id: str, plan_id: int, lock: bool = False) -> RetroPlan | None:
    query = select(RetroPlan).where(RetroPlan.team_id == team_id, RetroPlan.id == plan_id)
    return session.exec(query.with_for_update() if lock else query).first()


def plan_for_release(
    session: Session, *, team_id: str, channel_id: str, version: str, lock: bool = False
) -> RetroPlan | None:
    query = select(RetroPlan).where(
        RetroPlan.team_id == team_id,
        RetroPlan.channel_id == channel_id,
        RetroPlan.release_version == version,
    )
    return session.exec(query.with_for_update() if lock else query).first()


def plan_for_occurrence(
    session: Session, *, team_id: str, schedule_id: int, occurrence: object
) -> RetroPlan | None:
    return session.exec(
        select(RetroPlan).where(
            RetroPlan.team_id == team_id,
            RetroPlan.schedule_id == schedule_id,
            RetroPlan.occurrence == occurrence,
        )
    ).first()


def open_plans(
    session: Session, *, team_id: str | None = None, channel_id: str | None = None
) -> Sequence[RetroPlan]:
    """Plans not started nor skipped: in one channel, one workspace, or (team_id None, at start-up) all."""
    query = select(RetroPlan).where(col(RetroPlan.status).in_(OPEN_PLAN_STATUSES))
    if team_id is not None:
        query = query.where(RetroPlan.team_id == team_id)
        if channel_id is not None:
            query = query.where(RetroPlan.channel_id == channel_id)
    return session.exec(query.order_by(col(RetroPlan.planned_start), col(RetroPlan.id))).all()


def plans_of_schedule(session: Session, *, team_id: str, schedule_id: int) -> Sequence[RetroPlan]:
    return session.exec(
        select(RetroPlan).where(RetroPlan.team_id == team_id, RetroPlan.schedule_id == schedule_id)
    ).all()


def plan_of_retro(session: Session, *, team_id: str, retro_id: int) -> RetroPlan | None:
    return session.exec(
        select(RetroPlan).where(RetroPlan.team_id == team_id, RetroPlan.retro_id == retro_id)
    ).first()


def token_by_hash(session: Session, *, token_hash: str) -> ApiToken | None:
    """The one lookup not scoped by workspace: the token is what tells the workspace."""
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def workspaces(session: Session) -> list[str]:
    """The workspaces this database holds retros or schedules of (for `rearview token create`)."""
    found = set(session.exec(select(Retro.team_id).distinct()))
    found |= set(session.exec(select(RetroSchedule.team_id).distinct()))
    return sorted(found)


def tokens(session: Session, *, team_id: str | None = None) -> Sequence[ApiToken]:
    query = select(ApiToken)
    if team_id is not None:
        query = query.where(ApiToken.team_id == team_id)
    return session.exec(query.order_by(col(ApiToken.id))).all()
