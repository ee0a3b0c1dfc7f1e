"""The App Home tab: what a person has to do in Rearview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from messages.action_items import CANT_ACTION, DONE_ACTION, DUE_ACTION, PRIORITY_LABELS, ticket_link
from messages.common import OPEN_SURVEY_ACTION
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


# Drawn as plain dicts: slack_sdk's models validate every attribute of every block on each to_dict(), which
# was most of the tab's time; tests/unit/messages/test_home.py checks the output with the models.
Block = dict[str, Any]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    return button | {"style": style} if style else button


def _more(hidden: int) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {hidden} more."}]}


_DIVIDER: Block = {"type": "divider"}


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
    blocks: list[Block] = [_header("Your action items")]
    if not action_items:
        blocks.append(_section("_Nothing open. Nice._"))
    for action_item in action_items[:shown_items]:
        due = action_item.due_date.strftime("%a %d %b %Y") if action_item.due_date else "no due date"
        if action_item.due_date is not None and action_item.due_date < today:
            due = f"*{due} (overdue)*"
        value = str(action_item.id)
        blocks.append(
            _section(
                f"{PRIORITY_LABELS[action_item.priority].split()[0]} {escape(clip(action_item.text, 500))}\nDue {due}{ticket_link(action_item)}"
            )
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"home_action_{action_item.id}",
                "elements": [
                    _button("Done", DONE_ACTION, value, style="primary"),
                    _button("Change due date", DUE_ACTION, value),
                    _button("Can't do it", CANT_ACTION, value),
                ],
            }
        )
    if all_items > shown_items:
        blocks.append(_more(all_items - shown_items))

    blocks += [_DIVIDER, _header("Surveys waiting for you")]
    if not surveys:
        blocks.append(_section("_None right now._"))
    for retro in surveys[:shown_surveys]:
        blocks.append(
            _section(
                f"*{escape(retro.title)}* in {channel_link(retro.channel_id)}, answers until {slack_date(retro.deadline)}"
            )
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"home_survey_{retro.id}",
                "elements": [_button("Open survey", OPEN_SURVEY_ACTION, str(retro.id))],
            }
        )
    if all_surveys > shown_surveys:
        blocks.append(_more(all_surveys - shown_surveys))

    blocks += [_DIVIDER, _header("Retros you facilitate")]
    if not facilitating:
        blocks.append(_section("_None open. Start one with `/retro new` in a team channel._"))
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
        blocks.append(_section("\n".join(lines)))
    return {"type": "home", "blocks": blocks}
