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

MAX_LISTED = 25  # three sections share the Home tab's 100 blocks


def home_view(
    *,
    action_items: Sequence[ActionItem],
    surveys: Sequence[Retro],
    facilitating: Sequence[Retro],
    today: date,
) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Your action items")]
    if not action_items:
        blocks.append(mrkdwn("_Nothing open. Nice._"))
    for action_item in action_items[:MAX_LISTED]:
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
    if len(action_items) > MAX_LISTED:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(action_items) - MAX_LISTED} more.")])
        )

    blocks += [DividerBlock(), HeaderBlock(text="Surveys waiting for you")]
    if not surveys:
        blocks.append(mrkdwn("_None right now._"))
    for retro in surveys[:MAX_LISTED]:
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

    blocks += [DividerBlock(), HeaderBlock(text="Retros you facilitate")]
    if not facilitating:
        blocks.append(mrkdwn("_None open. Start one with `/retro new` in a team channel._"))
    lines = [
        f"• *{escape(r.title)}* in {channel_link(r.channel_id)} · {r.phase}"
        for r in facilitating[:MAX_LISTED]
    ]
    if lines:
        blocks.append(mrkdwn("\n".join(lines)))
    return View(type="home", blocks=blocks[:100]).to_dict()
