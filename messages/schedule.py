"""A channel's schedule: what `/retro schedule` shows (with Edit / Pause or Resume / Delete), and what the
cadence says in the channel (paused for lack of answers, nobody left to facilitate)."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.cadence import Cadence
from messages.common import Message, dicts, mrkdwn
from messages.text import mention, slack_date

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


def summary_message(
    *,
    schedule_id: int,
    cadence: str,
    collection_days: int,
    facilitation: str,
    release_rule: str,
    release_window_days: int,
    unreviewed: str,
    next_at: object,
    paused: bool,
    pause_reason: str | None,
) -> Message:
    """`/retro schedule` with a schedule in place: what it is, and Edit / Pause (Resume) / Delete."""
    lines = [
        "*This channel's retro schedule*",
        f"Cadence: {cadence}",
        f"Answers for {collection_days} day{'s' if collection_days != 1 else ''}",
        f"Facilitator: {facilitation}",
        f"Releases: {RELEASE_RULES.get(release_rule, release_rule)}, retro within {release_window_days} days",
        f"Plans nobody reviewed: {UNREVIEWED.get(unreviewed, unreviewed)}",
    ]
    if paused:
        lines.append("*Paused*" + (f": {pause_reason}" if pause_reason else ""))
    elif next_at is not None:
        lines.append(f"Next retro: {slack_date(next_at)}")  # type: ignore[arg-type]
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
