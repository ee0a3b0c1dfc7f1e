"""What the new-retro modal asks for, and the checks it must pass before the modal closes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.domain import (
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FOLLOWUP_WEEKS,
    FORMATS,
    MAX_CUSTOM_QUESTIONS,
    MAX_QUESTION_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_VOTES,
    ROUND_ROBIN_SCOPES,
    TURN_HOURS,
    Anonymity,
)
from bot.services.deadlines import MAX_LEAD_TIME, MIN_LEAD_TIME

ALREADY_OPEN = "This channel already has an open retro: close it first."


@dataclass(frozen=True)
class ReleaseInfo:
    """What the facilitator knows about the release; every field may be missing."""

    version: str | None = None
    deploy_date: date | None = None
    scope: str | None = None
    incidents: str | None = None
    rollbacks: str | None = None
    hotfixes: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class RetroDraft:
    team_id: str
    channel_id: str
    facilitator_id: str
    title: str
    participant_ids: tuple[str, ...]
    deadline: datetime | None
    format: str
    anonymity: str = Anonymity.OPTIONAL
    custom_questions: tuple[str, ...] = ()
    round_robin_scope: str = "everyone"
    turn_hours: int = DEFAULT_TURN_HOURS
    votes_per_person: int = DEFAULT_VOTES
    followup_weeks: int = 2
    release: ReleaseInfo = field(default_factory=ReleaseInfo)


def settings_draft(
    settings: Mapping[str, Any],
    *,
    team_id: str,
    channel_id: str,
    facilitator_id: str,
    title: str,
    deadline: datetime,
) -> RetroDraft:
    """A draft of the retro settings a schedule or a plan keeps as JSON, exactly as stored (no defaults), to
    check them as `/retro new` checks its modal."""
    return RetroDraft(
        team_id=team_id,
        channel_id=channel_id,
        facilitator_id=facilitator_id,
        title=title,
        participant_ids=tuple(settings.get("participant_ids", [])),
        deadline=deadline,
        format=str(settings.get("format")),
        anonymity=str(settings.get("anonymity")),
        custom_questions=tuple(settings.get("custom_questions", [])),
        round_robin_scope=str(settings.get("round_robin_scope")),
        turn_hours=int(settings.get("turn_hours", 0)),
        votes_per_person=int(settings.get("votes_per_person", 0)),
        followup_weeks=int(settings.get("followup_weeks", 0)),
    )


def draft_errors(draft: RetroDraft, now: datetime) -> dict[str, str]:
    """What is wrong with the draft, by field name (messages/new_retro.py FIELDS maps them to blocks)."""
    errors: dict[str, str] = {}
    title = draft.title.strip()
    if not title:
        errors["title"] = "Give the retro a title, for example “Release 2.4”."
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = f"Keep the title under {MAX_TITLE_LENGTH} characters."
    if draft.deadline is None:
        errors["deadline"] = "Pick the date and time when collection should close."
    elif draft.deadline < now + MIN_LEAD_TIME:
        errors["deadline"] = "Pick a time at least 10 minutes from now."
    elif draft.deadline > now + MAX_LEAD_TIME:
        errors["deadline"] = "Pick a time within the next 90 days."
    if draft.format not in FORMATS:
        errors["format"] = "Pick one of the listed formats."
    if draft.round_robin_scope not in ROUND_ROBIN_SCOPES:
        errors["round_robin_scope"] = "Pick who takes part in the round-robin."
    if draft.turn_hours not in TURN_HOURS:
        errors["turn_hours"] = "Pick one of the listed turn times."
    if not 1 <= draft.votes_per_person <= MAX_VOTES:
        errors["votes_per_person"] = f"Pick between 1 and {MAX_VOTES} votes."
    if draft.followup_weeks not in FOLLOWUP_WEEKS:
        errors["followup_weeks"] = "Pick 2, 3 or 4 weeks."
    if draft.anonymity not in set(Anonymity):
        errors["anonymity"] = "Pick how anonymous answers should be."
    if len(draft.custom_questions) > MAX_CUSTOM_QUESTIONS:
        errors["questions"] = (
            f"Ask at most {MAX_CUSTOM_QUESTIONS} extra questions (one per line); you wrote {len(draft.custom_questions)}."
        )
    elif any(len(q) > MAX_QUESTION_LENGTH for q in draft.custom_questions):
        errors["questions"] = f"Keep each question under {MAX_QUESTION_LENGTH} characters."
    return errors
