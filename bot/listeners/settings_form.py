"""Reading a retro's settings from a modal that shows `messages.schedule.retro_settings_blocks`: the schedule
modal's and the plan's Edit modal's."""

from __future__ import annotations

from typing import Any

from bot.domain import DEFAULT_FORMAT, DEFAULT_TURN_HOURS, DEFAULT_VOTES, Anonymity
from bot.listeners.requests import ViewState
from messages import new_retro


def settings_from(state: ViewState) -> dict[str, Any]:
    """A retro's settings as `messages.schedule.retro_settings_blocks` asks for them."""
    questions = [q.strip() for q in (state.text(new_retro.NEW_QUESTIONS_BLOCK) or "").splitlines()]
    return {
        "participant_ids": state.users(new_retro.NEW_PARTICIPANTS_BLOCK),
        "format": state.selected(new_retro.NEW_FORMAT_BLOCK) or DEFAULT_FORMAT,
        "anonymity": state.selected(new_retro.NEW_ANONYMITY_BLOCK) or str(Anonymity.OPTIONAL),
        "custom_questions": [q for q in questions if q],
        "round_robin_scope": state.selected(new_retro.NEW_SCOPE_BLOCK) or "everyone",
        "turn_hours": state.whole_number(new_retro.NEW_TURN_HOURS_BLOCK, DEFAULT_TURN_HOURS),
        "votes_per_person": state.whole_number(new_retro.NEW_VOTES_BLOCK, DEFAULT_VOTES),
        "followup_weeks": state.whole_number(new_retro.NEW_FOLLOWUP_BLOCK, 2),
    }
