"""Builders for action items: the modal, the owner's DM, reminders, follow-ups and listings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from bot.domain import MAX_ITEM_LENGTH
from messages.common import VALUE_ACTION, Message, dicts, modal, mrkdwn
from messages.text import channel_link, clip, escape, mention, owner_label, plural
from storage.models import ActionItem, Item, Retro

__all__ = ["Message"]

ACTION_CALLBACK = "action_submit"
DUE_CALLBACK = "action_due_submit"
CANT_CALLBACK = "action_cant_submit"
DONE_ACTION = "action_done"
DUE_ACTION = "action_due"
CANT_ACTION = "action_cant"
WHAT_BLOCK = "action_what"
OWNER_BLOCK = "action_owner"
DUE_BLOCK = "action_due"
PRIORITY_BLOCK = "action_priority"
LINK_BLOCK = "action_link"
REASON_BLOCK = "action_reason"

# Each modal's fields (the names services key their InvalidInput by) -> block ids.
FIELDS = {
    "text": WHAT_BLOCK,
    "owner": OWNER_BLOCK,
    "due": DUE_BLOCK,
    "priority": PRIORITY_BLOCK,
    "link": LINK_BLOCK,
}
DUE_FIELDS = {"due": DUE_BLOCK}
CANT_FIELDS = {"reason": REASON_BLOCK}

PRIORITY_LABELS = {
    "high": ":red_circle: High",
    "medium": ":large_yellow_circle: Medium",
    "low": ":white_circle: Low",
}


def channel(channel_id: str) -> str:
    return channel_link(channel_id)


def _due(action_item: ActionItem, today: date | None = None) -> str:
    if action_item.due_date is None:
        return "no due date"
    shown = action_item.due_date.strftime("%a %d %b %Y")
    if today is not None and action_item.status == "open" and action_item.due_date < today:
        return f"*{shown} (overdue)*"
    return shown


def new_action_item_modal(*, retro: Retro, source: Item | None, default_due: date) -> dict[str, Any]:
    priorities = [Option(value=key, text=label) for key, label in PRIORITY_LABELS.items()]
    blocks: list[Block] = []
    if source is not None:
        blocks.append(mrkdwn(f"From *#{source.number}* {escape(clip(source.text, 2500))}"))
    blocks += [
        InputBlock(
            block_id=WHAT_BLOCK,
            label="What should be done?",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=MAX_ITEM_LENGTH,
                initial_value=source.text[:MAX_ITEM_LENGTH] if source is not None else None,
            ),
        ),
        InputBlock(
            block_id=OWNER_BLOCK,
            label="Owner",
            element=UserSelectElement(action_id=VALUE_ACTION, placeholder="Who will make it happen?"),
        ),
        InputBlock(
            block_id=DUE_BLOCK,
            label="Due",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                max_length=40,
                placeholder="2026-12-04, tomorrow, in 2 weeks, next friday",
            ),
            hint=f"Empty means the follow-up date, {default_due.strftime('%a %d %b %Y')}.",
        ),
        InputBlock(
            block_id=PRIORITY_BLOCK,
            label="Priority",
            element=StaticSelectElement(
                action_id=VALUE_ACTION, options=priorities, initial_option=priorities[1]
            ),
        ),
        InputBlock(
            block_id=LINK_BLOCK,
            label="Procedure or standard it changes (link)",
            optional=True,
            element=PlainTextInputElement(action_id=VALUE_ACTION, max_length=500, placeholder="https://…"),
        ),
    ]
    return modal(
        title="New action item",
        callback_id=ACTION_CALLBACK,
        submit="Create",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id, "source_item_id": source.id if source else None}),
        blocks=blocks,
    )


def _buttons(action_item: ActionItem) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"action_{action_item.id}",
        elements=[
            ButtonElement(text="Done", action_id=DONE_ACTION, value=str(action_item.id), style="primary"),
            ButtonElement(text="Change due date", action_id=DUE_ACTION, value=str(action_item.id)),
            ButtonElement(
                text="Can't do it", action_id=CANT_ACTION, value=str(action_item.id), style="danger"
            ),
        ],
    )


def _url(link: str) -> str:
    """A link's target, inert as Slack markup whatever was stored: `&`, `<` and `>` escaped as Slack asks,
    and `|` and whitespace percent-encoded, so the target can neither end our `<…|label>` nor open another."""
    inert = escape(link).replace("|", "%7C")
    return "".join(c if c.isprintable() and not c.isspace() else quote(c) for c in inert)


def ticket_link(action_item: ActionItem) -> str:
    """ " · <url|ticket>": the item's ticket in the channel's tracker, inert whatever the tracker answered."""
    return f" · <{_url(action_item.ticket_url)}|ticket>" if action_item.ticket_url else ""


def assigned_message(*, retro: Retro, action_item: ActionItem, source: Item | None) -> Message:
    why = f"\n*Why:* #{source.number} {escape(clip(source.text, 1000))}" if source is not None else ""
    link = f"\n*Changes:* <{_url(action_item.link)}|the procedure>" if action_item.link else ""
    team = (
        f"\n*Owner:* {owner_label(action_item)}: you are the team's point person, and get its reminders."
        if action_item.owner_group_id
        else ""
    )
    blocks: list[Block] = [
        mrkdwn(
            f":dart: *New action item for you* from the retro *{escape(retro.title)}* in {channel_link(retro.channel_id)}:\n"
            f">{escape(action_item.text)}{why}\n*Due:* {_due(action_item)} · *Priority:* {PRIORITY_LABELS[action_item.priority]}{ticket_link(action_item)}{link}{team}"
        ),
        _buttons(action_item),
    ]
    return Message(
        text=f"New action item for you: {escape(clip(action_item.text, 200))}", blocks=dicts(blocks)
    )


def reminder_message(*, action_item: ActionItem, retro: Retro, kind: str) -> Message:
    lead = {
        "before": ":alarm_clock: Due tomorrow (next working day)",
        "due": ":alarm_clock: Due today",
        "overdue": ":warning: Overdue",
    }.get(kind, "Reminder")
    blocks: list[Block] = [
        mrkdwn(
            f"{lead}: your action item from *{escape(retro.title)}*\n>{escape(action_item.text)}\n*Due:* {_due(action_item)}{ticket_link(action_item)}"
        ),
        _buttons(action_item),
    ]
    return Message(text=f"{lead}: {escape(clip(action_item.text, 200))}", blocks=dicts(blocks))


def overdue_text(*, action_item: ActionItem) -> str:
    return f":warning: {owner_label(action_item)}'s action item is overdue (due {_due(action_item)}):\n>{escape(action_item.text)}"


def cannot_do_text(*, action_item: ActionItem, user_id: str) -> str:
    return (
        f"{mention(user_id)} can't do the action item owned by {owner_label(action_item)}:\n>{escape(action_item.text)}\n"
        f"*Reason:* {escape(action_item.status_note or '')}\nIt is marked as dropped; create a new one if it still matters."
    )


def due_modal(*, action_item: ActionItem) -> dict[str, Any]:
    return modal(
        title="Change due date",
        callback_id=DUE_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"action_id": action_item.id}),
        blocks=[
            mrkdwn(f">{escape(clip(action_item.text, 2500))}"),
            InputBlock(
                block_id=DUE_BLOCK,
                label="New due date",
                element=DatePickerElement(
                    action_id=VALUE_ACTION,
                    initial_date=action_item.due_date.isoformat() if action_item.due_date else None,
                ),
            ),
        ],
    )


def cant_modal(*, action_item: ActionItem) -> dict[str, Any]:
    return modal(
        title="Can't do it",
        callback_id=CANT_CALLBACK,
        submit="Tell the facilitator",
        close="Cancel",
        private_metadata=json.dumps({"action_id": action_item.id}),
        blocks=[
            mrkdwn(f">{escape(clip(action_item.text, 2500))}"),
            InputBlock(
                block_id=REASON_BLOCK,
                label="Why not?",
                element=PlainTextInputElement(action_id=VALUE_ACTION, multiline=True, max_length=1000),
            ),
        ],
    )


def status_text(*, action_item: ActionItem) -> str:
    return {
        "done": f":white_check_mark: Done: {escape(clip(action_item.text, 300))}. Thank you!",
        "dropped": f":no_entry_sign: Dropped: {escape(clip(action_item.text, 300))}. The facilitator has been told why.",
    }.get(action_item.status, f"Due date is now {_due(action_item)}: {escape(clip(action_item.text, 300))}.")


def followup_ask_message(*, action_item: ActionItem, retro: Retro) -> Message:
    blocks: list[Block] = [
        mrkdwn(
            f":mag: Follow-up on *{escape(retro.title)}*: how is your action item going?\n>{escape(action_item.text)}\n"
            f"*Due:* {_due(action_item)}{ticket_link(action_item)}"
        ),
        _buttons(action_item),
    ]
    return Message(
        text=f"Follow-up: how is {escape(clip(action_item.text, 150))} going?", blocks=dicts(blocks)
    )


def followup_summary_message(*, retro: Retro, action_items: Sequence[ActionItem], today: date) -> Message:
    groups: dict[str, list[ActionItem]] = {"done": [], "open": [], "overdue": [], "dropped": []}
    for action_item in action_items:
        key = action_item.status
        if key == "open" and action_item.due_date is not None and action_item.due_date < today:
            key = "overdue"
        groups.setdefault(key, []).append(action_item)
    lines = [f":mag: *Follow-up on {escape(retro.title)}*: {plural(len(action_items), 'action item')}"]
    for key, label in (("done", "Done"), ("open", "Open"), ("overdue", "Overdue"), ("dropped", "Dropped")):
        lines.append(f"*{label}* ({len(groups[key])})")
        lines.extend(
            f"• {escape(clip(a.text, 200))} — {owner_label(a)}, due {_due(a)}{ticket_link(a)}"
            for a in groups[key][:20]
        )
    text = "\n".join(lines)
    return Message(text=f"Follow-up on {escape(retro.title)}", blocks=dicts([mrkdwn(text)]))


def listing_message(*, title: str, action_items: Sequence[ActionItem], today: date) -> Message:
    if not action_items:
        text = f"*{title}*\n_Nothing open. Nice._"
        return Message(text=text, blocks=dicts([mrkdwn(text)]))
    blocks: list[Block] = [mrkdwn(f"*{title}* ({len(action_items)})")]
    for action_item in action_items[:40]:
        blocks.append(
            mrkdwn(
                f"{PRIORITY_LABELS[action_item.priority].split()[0]} {escape(clip(action_item.text, 500))}\n"
                f"{owner_label(action_item)} · due {_due(action_item, today)}{ticket_link(action_item)}"
            )
        )
    if len(action_items) > 40:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(action_items) - 40} more.")])
        )
    return Message(text=title, blocks=dicts(blocks))


def created_text(*, action_item: ActionItem) -> str:
    return (
        f":dart: Action item for {owner_label(action_item)}, due {_due(action_item)}:\n>{escape(action_item.text)}\n"
        "I've told them by DM."
    )


ACTION_USAGE = (
    "Usage: `/retro action <what> [@team] @owner [due]`, e.g. `/retro action Automate the rollback @bob next "
    "friday`; a user group before the owner makes the team own it, with them as its point person."
)


def not_created_text(*, problems: Sequence[str]) -> str:
    """`/retro action` refused: what to fix (the problems quote what was typed, so they are escaped)."""
    return f"I couldn't create that action item: {escape(' '.join(problems))}\n{ACTION_USAGE}"


def assigned_what(*, action_item: ActionItem) -> str:
    """What the facilitator is told could not be delivered, when the owner's DM fails."""
    return f"the action item DM to {mention(action_item.owner_id)}"


def followup_what(*, retro: Retro) -> str:
    return f"the follow-up in {channel(retro.channel_id)}"


def cannot_own_text(*, action_item: ActionItem, why: str) -> str:
    return (
        f"{mention(action_item.owner_id)} can't own “{escape(action_item.text[:200])}”: {why}"
        " Create it again with another owner."
    )


def not_yours_text(*, owner_id: str, facilitator_id: str) -> str:
    return (
        f"Only the owner, {mention(owner_id)}, or the facilitator, {mention(facilitator_id)}, "
        "can change this action item."
    )


def not_participant_text(*, retro: Retro, facilitator_id: str | None, facilitator_name: str = "") -> str:
    """Someone outside the retro tried to create an action item in it (mrkdwn with a mention, or plain)."""
    who = mention(facilitator_id) if facilitator_id else (facilitator_name or "the facilitator")
    title = f"*{escape(retro.title)}*" if facilitator_id else retro.title
    return f"Only the facilitator and the participants of {title} can create its action items: ask {who}."


def not_yours_plain(*, owner_name: str, facilitator_name: str) -> str:
    """The same refusal for a modal's inline errors, which show no mentions: people by name."""
    owner = f"the owner, {owner_name}," if owner_name else "the owner"
    facilitator = f"the facilitator, {facilitator_name}," if facilitator_name else "the facilitator"
    return f"Only {owner} or {facilitator} can change this action item."


def listing_reply(
    *, owner_id: str | None, channel_id: str, action_items: Sequence[ActionItem], today: date
) -> Message:
    """`/retro actions`: one owner's open items (`owner_id`), or else those of the channel's retros."""
    title = (
        f"Open action items of {mention(owner_id)}"
        if owner_id is not None
        else f"Open action items in {channel(channel_id)}"
    )
    return listing_message(title=title, action_items=action_items, today=today)
