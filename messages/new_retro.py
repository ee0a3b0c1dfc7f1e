"""The new-retro modal (`/retro new`) and the release details it asks for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
)

from bot.domain import (
    ANONYMITY_LABELS,
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FOLLOWUP_WEEKS,
    FORMATS,
    MAX_TITLE_LENGTH,
    MAX_VOTES,
    ROUND_ROBIN_SCOPES,
    TURN_HOURS,
)
from messages.common import VALUE_ACTION, modal
from messages.text import clip, plural
from storage.models import Retro

NEW_RETRO_CALLBACK = "retro_new"
NEW_TITLE_BLOCK = "title"
NEW_PARTICIPANTS_BLOCK = "participants"
NEW_DEADLINE_BLOCK = "deadline"
NEW_FORMAT_BLOCK = "format"
NEW_ANONYMITY_BLOCK = "anonymity"
NEW_QUESTIONS_BLOCK = "questions"
NEW_SCOPE_BLOCK = "round_robin_scope"
NEW_TURN_HOURS_BLOCK = "turn_hours"
NEW_VOTES_BLOCK = "votes_per_person"
NEW_FOLLOWUP_BLOCK = "followup_weeks"
RELEASE_BLOCKS = {
    "version": "release_version",
    "deploy_date": "release_deploy_date",
    "scope": "release_scope",
    "incidents": "release_incidents",
    "rollbacks": "release_rollbacks",
    "hotfixes": "release_hotfixes",
    "notes": "release_notes",
}
# The new-retro modal's fields (RetroService.validate's error keys) -> their block ids.
FIELDS = {
    "title": NEW_TITLE_BLOCK,
    "participants": NEW_PARTICIPANTS_BLOCK,
    "deadline": NEW_DEADLINE_BLOCK,
    "format": NEW_FORMAT_BLOCK,
    "anonymity": NEW_ANONYMITY_BLOCK,
    "questions": NEW_QUESTIONS_BLOCK,
    "round_robin_scope": NEW_SCOPE_BLOCK,
    "turn_hours": NEW_TURN_HOURS_BLOCK,
    "votes_per_person": NEW_VOTES_BLOCK,
    "followup_weeks": NEW_FOLLOWUP_BLOCK,
    **{f"release_{name}": block_id for name, block_id in RELEASE_BLOCKS.items()},
}


def not_in_a_dm_text() -> str:
    """`/retro new` typed in a DM."""
    return "Run `/retro new` in the team channel where the retro should happen, not in a DM."


def _channel_by_name(channel_name: str) -> str:
    """Slack sends "privategroup" (or nothing) where it does not tell the channel's name."""
    if not channel_name or channel_name in ("privategroup", "directmessage"):
        return "this channel"
    return f"#{channel_name}"


def not_in_a_group_dm_text() -> str:
    """`/retro new` typed in a group DM: the app has no access to group DMs (no mpim scopes)."""
    return (
        "I can't run a retro in a group DM: I can't post or read messages there. "
        "Run `/retro new` in a channel instead, and invite me to it with `/invite @Rearview`."
    )


def invite_the_bot_text(*, channel_id: str) -> str:
    """`/retro new` in a channel the bot is not in: it could not post the kickoff or read replies."""
    return (
        f"I'm not in <#{channel_id}> yet, so I couldn't post the retro there. "
        "Invite me with `/invite @Rearview`, then run `/retro new` again."
    )


def new_retro_modal(*, channel_id: str, title: str, now: datetime, channel_name: str = "") -> dict[str, Any]:
    default_deadline = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    formats = [Option(value=f.key, text=clip(f.name, 75)) for f in FORMATS.values()]
    modes = [Option(value=mode.value, text=label) for mode, label in ANONYMITY_LABELS.items()]
    scopes = [Option(value=key, text=label) for key, label in ROUND_ROBIN_SCOPES.items()]
    hours = [Option(value=str(h), text=plural(h, "working hour")) for h in TURN_HOURS]
    votes = [Option(value=str(n), text=str(n)) for n in range(1, MAX_VOTES + 1)]
    followups = [Option(value=str(w), text=f"{w} weeks") for w in FOLLOWUP_WEEKS]
    blocks: list[Block] = [
        InputBlock(
            block_id=NEW_TITLE_BLOCK,
            label="Title",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                initial_value=clip(title, MAX_TITLE_LENGTH) or None,
                max_length=MAX_TITLE_LENGTH,
                placeholder="Release 2.4 retro",
            ),
        ),
        InputBlock(
            block_id=NEW_PARTICIPANTS_BLOCK,
            label="Participants",
            optional=True,
            element=UserMultiSelectElement(action_id=VALUE_ACTION, placeholder="Everyone in the channel"),
            # A hint is plain text: a <#C…> link would show as typed, so the channel goes by its name.
            hint=f"Leave empty to invite everyone in {_channel_by_name(channel_name)} (bots are left out).",
        ),
        InputBlock(
            block_id=NEW_DEADLINE_BLOCK,
            label="Collect answers until",
            element=DateTimePickerElement(
                action_id=VALUE_ACTION, initial_date_time=int(default_deadline.timestamp())
            ),
            hint="Shown to each participant in their own time zone; collection closes by itself then.",
        ),
        InputBlock(
            block_id=NEW_FORMAT_BLOCK,
            label="Format",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=formats, initial_option=formats[0]),
        ),
        InputBlock(
            block_id=NEW_ANONYMITY_BLOCK,
            label="Anonymity",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=modes, initial_option=modes[0]),
            hint="Anonymous items are stored without the author's Slack id; you see counts, never names.",
        ),
        InputBlock(
            block_id=NEW_QUESTIONS_BLOCK,
            label="Extra survey questions",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=1000,
                placeholder="Up to 3, one per line, e.g. Was the release checklist useful?",
            ),
        ),
        InputBlock(
            block_id=NEW_SCOPE_BLOCK,
            label="Round-robin",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=scopes, initial_option=scopes[0]),
            hint="After collection, everyone gets a turn in the thread, one after another.",
        ),
        InputBlock(
            block_id=NEW_TURN_HOURS_BLOCK,
            label="Time for each turn",
            element=StaticSelectElement(
                action_id=VALUE_ACTION,
                options=hours,
                initial_option=next(o for o in hours if o.value == str(DEFAULT_TURN_HOURS)),
            ),
            hint="Counted in each person's own working hours (Monday–Friday, 09:00–17:00).",
        ),
        InputBlock(
            block_id=NEW_VOTES_BLOCK,
            label="Votes per person",
            element=StaticSelectElement(
                action_id=VALUE_ACTION, options=votes, initial_option=votes[DEFAULT_VOTES - 1]
            ),
        ),
        InputBlock(
            block_id=NEW_FOLLOWUP_BLOCK,
            label="Follow up on action items after",
            element=StaticSelectElement(
                action_id=VALUE_ACTION, options=followups, initial_option=followups[0]
            ),
            hint="Counted from the collection deadline; owners are asked for news and a summary is posted here.",
        ),
        HeaderBlock(text="The release (optional)"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="What this retro looks back on. Anything left empty is shown as missing, never guessed."
                )
            ]
        ),
        _release_input("version", "Version", multiline=False, max_length=100, placeholder="2.4.0"),
        InputBlock(
            block_id=RELEASE_BLOCKS["deploy_date"],
            label="Deploy date",
            optional=True,
            element=DatePickerElement(action_id=VALUE_ACTION),
        ),
        _release_input("scope", "Scope: what shipped", placeholder="Features, fixes, migrations"),
        _release_input("incidents", "Incidents", placeholder="None, or what happened"),
        _release_input("rollbacks", "Rollbacks", placeholder="None, or which and why"),
        _release_input("hotfixes", "Hotfixes", placeholder="None, or which"),
        _release_input("notes", "Notes and metrics", placeholder="Planned vs actual timings, error rates…"),
    ]
    return modal(
        title="New retrospective",
        callback_id=NEW_RETRO_CALLBACK,
        submit="Start retro",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )


def _release_input(
    field: str, label: str, *, multiline: bool = True, max_length: int = 3000, placeholder: str
) -> InputBlock:
    return InputBlock(
        block_id=RELEASE_BLOCKS[field],
        label=label,
        optional=True,
        element=PlainTextInputElement(
            action_id=VALUE_ACTION, multiline=multiline, max_length=max_length, placeholder=placeholder
        ),
    )


def release_lines(retro: Retro) -> list[tuple[str, str | None]]:
    """(label, value or None when missing) for the release the retro looks back on."""
    return [
        ("Version", retro.release_version),
        ("Deploy date", retro.deploy_date.isoformat() if retro.deploy_date else None),
        ("Scope", retro.release_scope),
        ("Incidents", retro.incidents),
        ("Rollbacks", retro.rollbacks),
        ("Hotfixes", retro.hotfixes),
        ("Notes and metrics", retro.release_notes),
    ]
