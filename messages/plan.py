"""The retro plan DM: what a scheduled or release-triggered retro will be, for its facilitator to review
(Start now / Looks good / Edit / Skip this one); the Edit modal; what the plan DM says once answered; the
reminders while a plan waits for its review."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)

from bot.domain import (
    ANONYMITY_LABELS,
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FORMATS,
    MAX_PLAN_REMINDERS,
    MAX_TITLE_LENGTH,
    Anonymity,
    PlanStatus,
)
from messages import new_retro
from messages.common import VALUE_ACTION, Message, dicts, modal, mrkdwn
from messages.schedule import (
    COLLECTION_DAYS,
    SETTINGS_FIELDS,
    options_of,
    retro_settings_blocks,
    select_input,
)
from messages.text import channel_link, clip, escape, mention, plural, slack_date
from storage.models import RetroPlan

PLAN_START_ACTION = "plan_start"
PLAN_REVIEWED_ACTION = "plan_reviewed"
PLAN_EDIT_ACTION = "plan_edit"
PLAN_SKIP_ACTION = "plan_skip"
PLAN_EDIT_CALLBACK = "retro_plan_edit"
PLAN_START_BLOCK = "planned_start"
PLAN_DAYS_BLOCK = "collection_days"

RELEASE_FIELDS = (
    ("version", "Version"),
    ("deployed_at", "Deployed"),
    ("scope", "Scope"),
    ("incidents", "Incidents"),
    ("rollbacks", "Rollbacks"),
    ("hotfixes", "Hotfixes"),
)
# PlanService.edit's error keys -> block ids (the retro settings' are new_retro's).
FIELDS = {
    "title": new_retro.NEW_TITLE_BLOCK,
    "planned_start": PLAN_START_BLOCK,
    "deadline": PLAN_START_BLOCK,
    "collection_days": PLAN_DAYS_BLOCK,
    **{k: v for k, v in new_retro.FIELDS.items() if k in SETTINGS_FIELDS},
}


@dataclass(frozen=True)
class PlanView:
    """A plan as its DM shows it: its title, its deadline and what happens if nobody reviews it."""

    plan: RetroPlan
    title: str
    deadline: datetime
    waits_for_review: bool  # the channel's schedule says "wait and remind" (else it starts anyway)


def _value(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(escape(clip(str(v), 300)) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in value.items()) or "none"
    return escape(clip(str(value), 500))


def release_lines(plan: RetroPlan) -> list[str]:
    """The release outcome, a line per field, with what was not given marked as a gap."""
    if not plan.release:
        return []
    lines = [
        f"• {label}: {_value(plan.release[key])}"
        if plan.release.get(key) not in (None, "", [])
        else f"• {label}: _not given_"
        for key, label in RELEASE_FIELDS
    ]
    if plan.release.get("links"):
        lines.append("• Links: " + ", ".join(f"<{link}>" for link in plan.release["links"][:10]))
    if plan.release.get("metrics"):
        lines.append(f"• Metrics: {_value(plan.release['metrics'])}")
    return lines


def _status_line(view: PlanView) -> str:
    plan = view.plan
    if plan.status == PlanStatus.REVIEWED and plan.reviewed_by:
        return f":white_check_mark: Reviewed by {mention(plan.reviewed_by)}: it starts on time."
    if plan.status == PlanStatus.WAITING:
        return ":hourglass: Its time has come, and this channel waits for your review: start it or skip it."
    if view.waits_for_review:
        return "Not reviewed yet. This channel waits for a review: it starts only once you start it or say it looks good."
    return "Not reviewed yet: it starts on time anyway, and its kickoff will say nobody reviewed it."


def plan_message(view: PlanView) -> Message:
    plan = view.plan
    settings = plan.settings
    fmt = FORMATS.get(str(settings.get("format")))
    people = [str(p) for p in settings.get("participant_ids") or []]
    anonymity = (
        ANONYMITY_LABELS.get(Anonymity(settings["anonymity"]))
        if settings.get("anonymity") in set(Anonymity)
        else None
    )
    weeks = int(settings.get("followup_weeks", 2))
    lines = [
        f"Starts {slack_date(plan.planned_start)}; answers until {slack_date(view.deadline)}.",
        f"*Facilitator:* {mention(plan.facilitator_id)}"
        + (f" (next time: {mention(plan.next_facilitator_id)})" if plan.next_facilitator_id else ""),
        "*Participants:* "
        + (", ".join(mention(p) for p in people[:30]) if people else "everyone in the channel")
        + (f" and {len(people) - 30} more" if len(people) > 30 else ""),
        f"*Format:* {escape(fmt.name) if fmt else 'as last time'}"
        + (f" · {escape(anonymity)}" if anonymity else ""),
    ]
    agenda = [
        f"1. Answers by survey, thread or DM until {slack_date(view.deadline)}",
        "2. The round-robin: each person in turn, "
        f"{plural(int(settings.get('turn_hours', DEFAULT_TURN_HOURS)), 'working hour')} each",
        f"3. Voting, {plural(int(settings.get('votes_per_person', DEFAULT_VOTES)), 'vote')} each",
        "4. Action items with an owner, a due date and a priority",
        f"5. The report (`retrospective.md`) in {channel_link(plan.channel_id)}; action items followed up "
        f"{weeks} weeks after the close (around {slack_date(view.deadline + timedelta(weeks=weeks), '{date_short}')})",
    ]
    questions = [str(q) for q in settings.get("custom_questions") or []]
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retro plan: {view.title}", 150)),
        mrkdwn(f"For {channel_link(plan.channel_id)}. " + "\n".join(lines)),
        mrkdwn("*Agenda*\n" + "\n".join(agenda)),
    ]
    if questions:
        blocks.append(
            mrkdwn(clip("*Extra questions*\n" + "\n".join(f"• {escape(q)}" for q in questions), 3000))
        )
    release = release_lines(plan)
    if release:
        blocks.append(mrkdwn(clip("*Release*\n" + "\n".join(release), 3000)))
    buttons = [
        ButtonElement(text="Start now", action_id=PLAN_START_ACTION, value=str(plan.id), style="primary")
    ]
    if plan.status != PlanStatus.REVIEWED:
        buttons.append(ButtonElement(text="Looks good", action_id=PLAN_REVIEWED_ACTION, value=str(plan.id)))
    buttons += [
        ButtonElement(text="Edit", action_id=PLAN_EDIT_ACTION, value=str(plan.id)),
        ButtonElement(text="Skip this one", action_id=PLAN_SKIP_ACTION, value=str(plan.id)),
    ]
    blocks.append(ActionsBlock(elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_status_line(view))]))
    return Message(text=f"Retro plan: {escape(view.title)}", blocks=dicts(blocks))


def plan_edit_modal(view: PlanView) -> dict[str, Any]:
    """The plan's Edit modal: its title, start, collection length and retro settings."""
    plan = view.plan
    days = {str(d): plural(d, "day") for d in sorted({*COLLECTION_DAYS, plan.collection_days})}
    blocks: list[Block] = [
        InputBlock(
            block_id=new_retro.NEW_TITLE_BLOCK,
            label="Title",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, initial_value=clip(view.title, 150), max_length=MAX_TITLE_LENGTH
            ),
        ),
        InputBlock(
            block_id=PLAN_START_BLOCK,
            label="Starts",
            element=DateTimePickerElement(
                action_id=VALUE_ACTION, initial_date_time=int(plan.planned_start.timestamp())
            ),
            hint="In your time zone.",
        ),
        select_input(PLAN_DAYS_BLOCK, "Collect answers for", options_of(days), plan.collection_days),
        *retro_settings_blocks(plan.settings),
    ]
    return modal(
        title="Edit the retro plan",
        callback_id=PLAN_EDIT_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"plan_id": plan.id}),
        blocks=blocks,
    )


def waiting_message(*, plan: RetroPlan, title: str) -> Message:
    text = (
        f"*{escape(title)}* was due to start in {channel_link(plan.channel_id)}, but nobody reviewed its plan, "
        "and this channel waits for a review. Start it or skip it from the plan above."
    )
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def reminder_text(*, plan: RetroPlan, title: str, number: int) -> str:
    last = " This is the last reminder." if number >= MAX_PLAN_REMINDERS else ""
    return (
        f":hourglass: *{escape(title)}* in {channel_link(plan.channel_id)} still waits for your review: "
        f"press *Start now* or *Skip this one* on its plan above.{last}"
    )


def started_text(*, title: str, channel_id: str) -> str:
    return f"Started *{escape(title)}* in {channel_link(channel_id)}: its kickoff is on its way."


def skipped_text(*, title: str, channel_id: str) -> str:
    return f"Skipped *{escape(title)}* in {channel_link(channel_id)}. Nothing will start for this plan."


def cannot_start_text(*, reason: str) -> str:
    return f"The planned retro could not start: {escape(reason)} Start it from the plan once that is sorted."


def not_open_text() -> str:
    return "This plan has already started or was skipped."
