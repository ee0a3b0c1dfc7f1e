"""The retro plan DM: what a scheduled or release-triggered retro will be, for its facilitator to review."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject

from bot.domain import FORMATS
from messages.common import Message, dicts, mrkdwn
from messages.text import channel_link, escape, mention, slack_date
from storage.models import RetroPlan

PLAN_START_ACTION = "plan_start"
PLAN_SKIP_ACTION = "plan_skip"

RELEASE_FIELDS = (
    ("version", "Version"),
    ("deployed_at", "Deployed"),
    ("scope", "Scope"),
    ("incidents", "Incidents"),
    ("rollbacks", "Rollbacks"),
    ("hotfixes", "Hotfixes"),
)


def _value(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(escape(str(v)) for v in value) or "none"
    return escape(str(value))


def release_lines(plan: RetroPlan) -> list[str]:
    """The release outcome, a line per field, with what was not given marked as a gap."""
    if not plan.release:
        return []
    return [
        f"• {label}: {_value(plan.release[key])}"
        if plan.release.get(key) not in (None, "")
        else f"• {label}: _not given_"
        for key, label in RELEASE_FIELDS
    ]


def plan_message(*, plan: RetroPlan, title: str, deadline: datetime) -> Message:
    fmt = FORMATS.get(str(plan.settings.get("format")))
    people = plan.settings.get("participant_ids") or []
    lines = [
        f"*Retro plan: {escape(title)}* in {channel_link(plan.channel_id)}",
        f"Starts {slack_date(plan.planned_start)}; answers until {slack_date(deadline)}.",
        f"Facilitator: {mention(plan.facilitator_id)}"
        + (f" (next time: {mention(plan.next_facilitator_id)})" if plan.next_facilitator_id else ""),
        "Participants: " + (", ".join(mention(p) for p in people) if people else "everyone in the channel"),
        f"Format: {escape(fmt.name) if fmt else 'as last time'}",
    ]
    blocks: list[Block] = [mrkdwn("\n".join(lines))]
    release = release_lines(plan)
    if release:
        blocks.append(mrkdwn("*Release*\n" + "\n".join(release)))
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Start now", action_id=PLAN_START_ACTION, value=str(plan.id), style="primary"
                ),
                ButtonElement(text="Skip this one", action_id=PLAN_SKIP_ACTION, value=str(plan.id)),
            ]
        )
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="It starts on time unless you skip it.")]))
    return Message(text=f"Retro plan: {title}", blocks=dicts(blocks))


def waiting_message(*, plan: RetroPlan, title: str) -> Message:
    text = (
        f"*{escape(title)}* was due to start in {channel_link(plan.channel_id)}, but nobody reviewed its plan, "
        "and this channel waits for a review. Start it or skip it from the plan above."
    )
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def started_text(*, title: str, channel_id: str) -> str:
    return f"Started *{escape(title)}* in {channel_link(channel_id)}: its kickoff is on its way."


def skipped_text(*, title: str, channel_id: str) -> str:
    return f"Skipped *{escape(title)}* in {channel_link(channel_id)}. Nothing will start for this plan."


def cannot_start_text(*, reason: str) -> str:
    return f"The planned retro could not start: {escape(reason)} Start it from the plan once that is sorted."
