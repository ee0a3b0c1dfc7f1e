"""Plain factory functions for test data, shared by unit and integration tests.

`make_retro(None, ...)` builds an unsaved retro for pure builders and templates;
`make_retro(session, ...)` stores it and lets the database assign its id. The other factories follow
the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlmodel import Session, select

from bot.services.retro_drafts import RetroDraft
from bot.services.retros import RetroService
from storage.models import Item, Participant, Retro
from tests.recording import RecordingGateway

NOW = datetime(
    2026, 11, 23, 9, 17, 43, tzinfo=UTC
)  # a Monday morning at an odd second, as the bot tests start
UNSAVED_RETRO_ID = 7


class RetroFields(TypedDict, total=False):
    """Every Retro column, so that overrides are type-checked by name and type."""

    id: int
    team_id: str
    channel_id: str
    facilitator_id: str
    facilitator_name: str
    title: str
    format: str
    phase: str
    deadline: datetime
    kickoff_ts: str | None
    kickoff_permalink: str | None
    summary_ts: str | None
    report_file_id: str | None
    created_at: datetime
    closed_at: datetime | None
    anonymity: str
    custom_questions: list[str]
    manual_reminders: int
    round_robin_scope: str
    turn_hours: int
    votes_per_person: int
    paused_at: datetime | None
    voting_deadline: datetime | None
    followup_weeks: int
    followup_posted_at: datetime | None
    cancel_reason: str | None
    report_url: str | None
    release_version: str | None
    deploy_date: date | None
    release_scope: str | None
    incidents: str | None
    rollbacks: str | None
    hotfixes: str | None
    release_notes: str | None


def make_retro(session: Session | None, **overrides: Unpack[RetroFields]) -> Retro:
    """A retro collecting answers in C1 for two more days, run by UFAC. With a session it is committed
    (and gets its id from the database); without one it has id 7."""
    fields: RetroFields = {
        "team_id": "T1",
        "channel_id": "C1",
        "facilitator_id": "UFAC",
        "title": "Release 2.4",
        "format": "well_wrong_improve",
        "phase": "collecting",
        "deadline": NOW + timedelta(days=2),
        "created_at": NOW,
    }
    if session is None:
        fields["id"] = UNSAVED_RETRO_ID
    fields.update(overrides)
    retro = Retro(**fields)
    if session is not None:
        session.add(retro)
        session.commit()
    return retro


class ItemFields(TypedDict, total=False):
    id: int
    team_id: str
    retro_id: int
    category: str
    text: str
    author_id: str | None
    author_hash: str | None
    source: str
    created_at: datetime
    number: int | None
    root_cause: str | None


def make_item(session: Session | None, **overrides: Unpack[ItemFields]) -> Item:
    """A named survey answer under "What went well" in the unsaved retro 7 (pass retro_id when storing)."""
    fields: ItemFields = {
        "team_id": "T1",
        "retro_id": UNSAVED_RETRO_ID,
        "category": "went_well",
        "text": "Fast review",
        "author_id": "U1",
        "source": "survey",
        "created_at": NOW,
    }
    fields.update(overrides)
    item = Item(**fields)
    if session is not None:
        session.add(item)
        session.commit()
    return item


# A channel of a workspace, as the service tests use it: the facilitator, two people and a bot.
TEAM = "T1"
CHANNEL = "C1"


def channel_gateway() -> RecordingGateway:
    gateway = RecordingGateway(members={CHANNEL: ["UFAC", "U1", "U2", "UBOT"]})
    for user in ("UFAC", "U1", "U2"):
        gateway.human(user)
    gateway.human("UBOT", is_bot=True)
    return gateway


def draft(clock: Callable[[], datetime], **overrides: Any) -> RetroDraft:
    """A valid draft for C1; `dataclasses.replace` refuses names RetroDraft does not have."""
    base = RetroDraft(
        team_id=TEAM,
        channel_id=CHANNEL,
        facilitator_id="UFAC",
        title="Sprint 12",
        participant_ids=(),
        deadline=clock() + timedelta(days=1),
        format="start_stop_continue",
    )
    return replace(base, **overrides)


def launch(service: RetroService, gateway: RecordingGateway, draft: RetroDraft) -> int:
    """Submit the new-retro dialog: the retro is stored at once, its launch runs when workers get to it
    (here, when the transcript is read)."""
    retro = service.create(draft)
    gateway.sent  # noqa: B018 - delivers what is due: the launch task and what it queues
    return retro.id


def add_participants(session: Session, retro_id: int, *user_ids: str, team_id: str = "T1") -> None:
    """Invite these people to a stored retro (ballots and turns are theirs alone)."""
    there = set(session.exec(select(Participant.user_id).where(Participant.retro_id == retro_id)))
    for user_id in user_ids:
        if user_id not in there:
            session.add(Participant(team_id=team_id, retro_id=retro_id, user_id=user_id))
    session.commit()
