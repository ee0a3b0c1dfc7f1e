"""The App Home tab: what a person has to do in Rearview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
)
from slack_sdk.models.views import View

from messages.action_items import CANT_ACTION, DONE_ACTION, DUE_ACTION, PRIORITY_LABELS
from messages.common import OPEN_SURVEY_ACTION, mrkdwn
from messages.text import channel_link, clip, escape, slack_date
from storage.models import ActionItem, Retro

MAX_BLOCKS = 100  # Slack refuses a bigger Home tab
# Three headers, two dividers, the facilitated retros' one block and a "…and N more" per listed section.
_FIXED_BLOCKS = 3 + 2 + 1 + 2
PAIRS = (MAX_BLOCKS - _FIXED_BLOCKS) // 2  # action items and surveys take two blocks each
MAX_FACILITATED_CHARS = 2900  # one section block holds 3000 characters


def shares(action_items: int, surveys: int, pairs: int = PAIRS) -> tuple[int, int]:
    """How many action items and surveys fit: each gets at least half of the room, and what one
    leaves unused the other takes."""
    if action_items + surveys <= pairs:
        return action_items, surveys
    half = pairs // 2
    if surveys <= half:
        return pairs - surveys, surveys
    if action_items <= pairs - half:
        return action_items, pairs - action_items
    return pairs - half, half


def _more(hidden: int) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=f"…and {hidden} more.")])


def home_view(
    *,
    action_items: Sequence[ActionItem],
    surveys: Sequence[Retro],
    facilitating: Sequence[Retro],
    today: date,
    total_action_items: int | None = None,
    total_surveys: int | None = None,
) -> dict[str, Any]:
    """`action_items` and `surveys` may be the first `PAIRS` of them only, with their totals given: no
    more than `PAIRS` of either is ever shown, the rest is counted in a "…and N more"."""
    all_items = len(action_items) if total_action_items is None else total_action_items
    all_surveys = len(surveys) if total_surveys is None else total_surveys
    shown_items, shown_surveys = shares(all_items, all_surveys)
    blocks: list[Block] = [HeaderBlock(text="Your action items")]
    if not action_items:
        blocks.append(mrkdwn("_Nothing open. Nice._"))
    for action_item in action_items[:shown_items]:
        due = action_item.due_date.strftime("%a %d %b %Y") if action_item.due_date else "no due date"
        if action_item.due_date is not None and action_item.due_date < today:
            due = f"*{due} (overdue)*"
        blocks.append(
            mrkdwn(
                f"{PRIORITY_LABELS[action_item.priority].split()[0]} {escape(clip(action_item.text, 500))}\nDue {due}"
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=f"home_action_{action_item.id}",
                elements=[
                    ButtonElement(
                        text="Done", action_id=DONE_ACTION, value=str(action_item.id), style="primary"
                    ),
                    ButtonElement(text="Change due date", action_id=DUE_ACTION, value=str(action_item.id)),
                    ButtonElement(text="Can't do it", action_id=CANT_ACTION, value=str(action_item.id)),
                ],
            )
        )
    if all_items > shown_items:
        blocks.append(_more(all_items - shown_items))

    blocks += [DividerBlock(), HeaderBlock(text="Surveys waiting for you")]
    if not surveys:
        blocks.append(mrkdwn("_None right now._"))
    for retro in surveys[:shown_surveys]:
        blocks.append(
            mrkdwn(
                f"*{escape(retro.title)}* in {channel_link(retro.channel_id)}, answers until {slack_date(retro.deadline)}"
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=f"home_survey_{retro.id}",
                elements=[
                    ButtonElement(text="Open survey", action_id=OPEN_SURVEY_ACTION, value=str(retro.id))
                ],
            )
        )
    if all_surveys > shown_surveys:
        blocks.append(_more(all_surveys - shown_surveys))

    blocks += [DividerBlock(), HeaderBlock(text="Retros you facilitate")]
    if not facilitating:
        blocks.append(mrkdwn("_None open. Start one with `/retro new` in a team channel._"))
    lines: list[str] = []
    used = 0
    for r in facilitating:
        line = f"• *{escape(clip(r.title, 150))}* in {channel_link(r.channel_id)} · {r.phase}"
        if used + len(line) + 1 > MAX_FACILITATED_CHARS - 20:  # room for the "…and N more." line
            lines.append(f"…and {len(facilitating) - len(lines)} more.")
            break
        lines.append(line)
        used += len(line) + 1
    if lines:
        blocks.append(mrkdwn("\n".join(lines)))
    return View(type="home", blocks=blocks).to_dict()
