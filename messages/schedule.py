"""A channel's schedule: what `/retro schedule` shows (with Edit / Pause or Resume / Delete), and what the
cadence says in the channel (paused for lack of answers, nobody left to facilitate)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
    UserSelectElement,
)

from bot.cadence import Cadence
from bot.domain import (
    ANONYMITY_LABELS,
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FOLLOWUP_WEEKS,
    FORMATS,
    MAX_VOTES,
    ROUND_ROBIN_SCOPES,
    TURN_HOURS,
)
from messages import new_retro
from messages.common import VALUE_ACTION, Message, dicts, modal, mrkdwn
from messages.text import clip, escape, mention, plural, slack_date
from storage.models import RetroSchedule

SCHEDULE_EDIT_ACTION = "schedule_edit"
SCHEDULE_PAUSE_ACTION = "schedule_pause"
SCHEDULE_RESUME_ACTION = "schedule_resume"
SCHEDULE_DELETE_ACTION = "schedule_delete"

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RELEASE_RULES = {
    "every": "every release",
    "significant": "only releases with an incident, rollback or hotfix",
    "major_minor": "only major and minor versions",
}
UNREVIEWED = {"start": "start anyway", "wait": "wait and remind the facilitator"}
# The retro settings a schedule sets, as RetroDraft (and new_retro.FIELDS) name them.
SETTINGS_FIELDS = (
    "participants",
    "format",
    "anonymity",
    "questions",
    "round_robin_scope",
    "turn_hours",
    "votes_per_person",
    "followup_weeks",
)


def cadence_text(*, cadence: str | None, every_weeks: int, weekday: int, at_time: str, tz: str) -> str:
    if cadence is None:
        return "no cadence (releases only)"
    day = WEEKDAYS[weekday]
    if cadence == Cadence.MONTHLY:
        when = f"the first {day} of each month"
    elif every_weeks == 1:
        when = f"every {day}"
    else:
        when = f"every {every_weeks} weeks on {day}"
    return f"{when} at {at_time} ({tz})"


def facilitation_text(*, facilitation: str, facilitator_id: str, rotation: list[str]) -> str:
    if facilitation == "rotation":
        return "in turn: " + ", ".join(mention(u) for u in rotation)
    return mention(facilitator_id)


def resume_button(schedule_id: int) -> ButtonElement:
    return ButtonElement(
        text="Resume", action_id=SCHEDULE_RESUME_ACTION, value=str(schedule_id), style="primary"
    )


def paused_message(*, schedule_id: int, streak: int) -> Message:
    """Told in the channel when the cadence pauses itself."""
    text = (
        f"The last {streak} scheduled retros got no answers, so this channel's retro schedule is paused. "
        "Resume it here or with `/retro schedule`."
    )
    return Message(
        text=text, blocks=dicts([mrkdwn(text), ActionsBlock(elements=[resume_button(schedule_id)])])
    )


def nobody_to_facilitate_text() -> str:
    return (
        "A scheduled retro was due to be planned, but nobody in this channel's facilitator rotation is still "
        "here. Change the rotation with `/retro schedule`."
    )


def summary_message(schedule: RetroSchedule) -> Message:
    """`/retro schedule` with a schedule in place: what it is, and Edit / Pause (Resume) / Delete."""
    days = schedule.collection_days
    cadence = cadence_text(
        cadence=schedule.cadence,
        every_weeks=schedule.every_weeks,
        weekday=schedule.weekday,
        at_time=schedule.at_time,
        tz=schedule.tz,
    )
    facilitation = facilitation_text(
        facilitation=schedule.facilitation, facilitator_id=schedule.facilitator_id, rotation=schedule.rotation
    )
    rule = RELEASE_RULES.get(schedule.release_rule, schedule.release_rule)
    lines = [
        "*This channel's retro schedule*",
        f"Cadence: {escape(cadence)}",
        f"Answers for {days} day{'s' if days != 1 else ''}",
        f"Facilitator: {facilitation}",
        f"Releases: {rule}, retro within {schedule.release_window_days} days",
        f"Plans nobody reviewed: {UNREVIEWED.get(schedule.unreviewed, schedule.unreviewed)}",
    ]
    paused = schedule.paused_at is not None
    if paused:
        lines.append("*Paused*" + (f" {schedule.pause_reason}" if schedule.pause_reason else ""))
    elif schedule.next_at is not None:
        lines.append(f"Next retro: {slack_date(schedule.next_at)}")
    schedule_id = schedule.id
    value = str(schedule_id)
    toggle = (
        resume_button(schedule_id)
        if paused
        else ButtonElement(text="Pause", action_id=SCHEDULE_PAUSE_ACTION, value=value)
    )
    buttons: list[Block] = [
        ActionsBlock(
            elements=[
                ButtonElement(text="Edit", action_id=SCHEDULE_EDIT_ACTION, value=value),
                toggle,
                ButtonElement(text="Delete", action_id=SCHEDULE_DELETE_ACTION, value=value, style="danger"),
            ]
        )
    ]
    text = "\n".join(lines)
    return Message(text="This channel's retro schedule", blocks=dicts([mrkdwn(text), *buttons]))


# ---------------------------------------------------------------- the modal

SCHEDULE_CALLBACK = "retro_schedule"
CADENCE_BLOCK = "cadence"
WEEKDAY_BLOCK = "weekday"
TIME_BLOCK = "at_time"
COLLECTION_BLOCK = "collection_days"
FACILITATION_BLOCK = "facilitation"
FACILITATOR_BLOCK = "facilitator"
ROTATION_BLOCK = "rotation"
RELEASE_RULE_BLOCK = "release_rule"
WINDOW_BLOCK = "release_window_days"
UNREVIEWED_BLOCK = "unreviewed"

CADENCES = {
    "weekly:1": "Every week",
    "weekly:2": "Every 2 weeks",
    "weekly:3": "Every 3 weeks",
    "weekly:4": "Every 4 weeks",
    "monthly": "Monthly (the first of that weekday)",
    "none": "No cadence: only releases",
}
COLLECTION_DAYS = (1, 2, 3, 4, 5, 7, 10, 14)
WINDOW_DAYS = (1, 2, 3, 5, 7, 10, 14, 21, 30)
FACILITATIONS = {"fixed": "One person", "rotation": "In turn, among the people below"}

# ScheduleService's error keys -> block ids (the retro settings' keys are new_retro's).
FIELDS = {
    "cadence": CADENCE_BLOCK,
    "weekday": WEEKDAY_BLOCK,
    "at_time": TIME_BLOCK,
    "collection_days": COLLECTION_BLOCK,
    "facilitation": FACILITATION_BLOCK,
    "facilitator": FACILITATOR_BLOCK,
    "rotation": ROTATION_BLOCK,
    "release_rule": RELEASE_RULE_BLOCK,
    "release_window_days": WINDOW_BLOCK,
    "unreviewed": UNREVIEWED_BLOCK,
    **{k: v for k, v in new_retro.FIELDS.items() if k in SETTINGS_FIELDS},
}


@dataclass(frozen=True)
class ScheduleForm:
    """What the modal shows: a schedule's values, or the defaults (settings from the last retro)."""

    channel_id: str
    cadence: str  # a CADENCES key
    weekday: int
    at_time: str
    collection_days: int
    settings: dict[str, Any]
    facilitation: str
    facilitator_id: str
    rotation: list[str]
    release_rule: str
    release_window_days: int
    unreviewed: str
    schedule_id: int | None = None


def options_of(pairs: dict[str, str]) -> list[Option]:
    return [Option(value=k, text=clip(v, 75)) for k, v in pairs.items()]


def select_input(
    block_id: str, label: str, options: list[Option], value: object, hint: str | None = None
) -> InputBlock:
    initial = next((o for o in options if o.value == str(value)), options[0])
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(action_id=VALUE_ACTION, options=options, initial_option=initial),
        hint=hint,
    )


def retro_settings_blocks(settings: dict[str, Any]) -> list[Block]:
    """The inputs of a retro's settings (participants, format, anonymity, questions, round-robin, votes,
    follow-up), filled in from `settings`: the schedule modal's and the plan's Edit modal's."""
    participants = [str(u) for u in settings.get("participant_ids") or []]
    questions = "\n".join(str(q) for q in settings.get("custom_questions") or [])
    return [
        InputBlock(
            block_id=new_retro.NEW_PARTICIPANTS_BLOCK,
            label="Participants",
            optional=True,
            element=UserMultiSelectElement(
                action_id=VALUE_ACTION,
                initial_users=participants or None,
                placeholder="Everyone in the channel",
            ),
        ),
        select_input(
            new_retro.NEW_FORMAT_BLOCK,
            "Format",
            [Option(value=f.key, text=clip(f.name, 75)) for f in FORMATS.values()],
            settings.get("format"),
        ),
        select_input(
            new_retro.NEW_ANONYMITY_BLOCK,
            "Anonymity",
            [Option(value=m.value, text=label) for m, label in ANONYMITY_LABELS.items()],
            settings.get("anonymity"),
        ),
        InputBlock(
            block_id=new_retro.NEW_QUESTIONS_BLOCK,
            label="Extra survey questions",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, multiline=True, max_length=1000, initial_value=questions or None
            ),
        ),
        select_input(
            new_retro.NEW_SCOPE_BLOCK,
            "Round-robin",
            options_of(dict(ROUND_ROBIN_SCOPES)),
            settings.get("round_robin_scope"),
        ),
        select_input(
            new_retro.NEW_TURN_HOURS_BLOCK,
            "Time for each turn",
            options_of({str(h): plural(h, "working hour") for h in TURN_HOURS}),
            settings.get("turn_hours", DEFAULT_TURN_HOURS),
        ),
        select_input(
            new_retro.NEW_VOTES_BLOCK,
            "Votes per person",
            options_of({str(n): str(n) for n in range(1, MAX_VOTES + 1)}),
            settings.get("votes_per_person", DEFAULT_VOTES),
        ),
        select_input(
            new_retro.NEW_FOLLOWUP_BLOCK,
            "Follow up on action items after",
            options_of({str(w): f"{w} weeks" for w in FOLLOWUP_WEEKS}),
            settings.get("followup_weeks", 2),
        ),
    ]


def schedule_modal(form: ScheduleForm) -> dict[str, Any]:
    settings = form.settings
    days = {str(d): f"{d} day{'s' if d != 1 else ''}" for d in COLLECTION_DAYS}
    windows = {str(d): f"{d} day{'s' if d != 1 else ''} after the deploy" for d in WINDOW_DAYS}
    blocks: list[Block] = [
        HeaderBlock(text="When"),
        select_input(CADENCE_BLOCK, "Cadence", options_of(CADENCES), form.cadence),
        select_input(
            WEEKDAY_BLOCK, "On", options_of({str(i): d for i, d in enumerate(WEEKDAYS)}), form.weekday
        ),
        InputBlock(
            block_id=TIME_BLOCK,
            label="At",
            element=TimePickerElement(action_id=VALUE_ACTION, initial_time=form.at_time),
            hint="In the facilitator's time zone (for a rotation, yours), kept across daylight-saving changes.",
        ),
        select_input(COLLECTION_BLOCK, "Collect answers for", options_of(days), form.collection_days),
        HeaderBlock(text="Who facilitates"),
        select_input(FACILITATION_BLOCK, "Facilitation", options_of(FACILITATIONS), form.facilitation),
        InputBlock(
            block_id=FACILITATOR_BLOCK,
            label="Facilitator",
            optional=True,
            element=UserSelectElement(action_id=VALUE_ACTION, initial_user=form.facilitator_id or None),
            hint="For one person; a rotation skips people who left the channel or were deactivated.",
        ),
        InputBlock(
            block_id=ROTATION_BLOCK,
            label="Rotation",
            optional=True,
            element=UserMultiSelectElement(
                action_id=VALUE_ACTION, initial_users=form.rotation or None, max_selected_items=30
            ),
        ),
        HeaderBlock(text="The retro"),
        *retro_settings_blocks(settings),
        HeaderBlock(text="Releases and review"),
        select_input(
            RELEASE_RULE_BLOCK,
            "A posted release starts a retro for",
            options_of(RELEASE_RULES),
            form.release_rule,
        ),
        select_input(WINDOW_BLOCK, "Retro window", options_of(windows), form.release_window_days),
        select_input(
            UNREVIEWED_BLOCK,
            "When nobody reviewed the plan",
            options_of(UNREVIEWED),
            form.unreviewed,
            hint="Each retro's plan is sent to its facilitator a day before it starts.",
        ),
    ]
    return modal(
        title="Retro schedule",
        callback_id=SCHEDULE_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": form.channel_id, "schedule_id": form.schedule_id}),
        blocks=blocks,
    )


def not_in_a_channel_text() -> str:
    return "Run `/retro schedule` in the team channel whose retros it should plan."


def invite_the_bot_text(*, channel_id: str) -> str:
    return (
        f"I'm not in <#{channel_id}> yet, so I couldn't run its retros. "
        "Invite me with `/invite @Rearview`, then run `/retro schedule` again."
    )


def saved_text(schedule: RetroSchedule) -> str:
    cadence = cadence_text(
        cadence=schedule.cadence,
        every_weeks=schedule.every_weeks,
        weekday=schedule.weekday,
        at_time=schedule.at_time,
        tz=schedule.tz,
    )
    when = f" The next retro starts {slack_date(schedule.next_at)}." if schedule.next_at else ""
    return f"Saved this channel's retro schedule: {escape(cadence)}.{when}"


def deleted_text() -> str:
    return "Deleted this channel's retro schedule. Plans already sent stay with their facilitators."
