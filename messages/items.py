"""Items one adds or edits by hand: the item modal, its confirmation and *My items*."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from bot.domain import FORMATS, MAX_ITEM_LENGTH, Phase
from messages.common import VALUE_ACTION, anonymity_blocks, modal, mrkdwn, notice_modal
from messages.text import clip, escape, mention, slack_date
from storage.models import Item, Retro

ITEM_CALLBACK = "item_submit"
ITEM_EDIT_ACTION = "item_edit"
ITEM_DELETE_ACTION = "item_delete"
MY_ITEMS_CALLBACK = "items_mine_view"
ITEM_TEXT_BLOCK = "item_text"
ITEM_CATEGORY_BLOCK = "item_category"
MAX_LISTED_ITEMS = 40

# The item modal's fields (the discussion area's "add an item during your turn" modal has the same two).
FIELDS: dict[str, str] = {"category": ITEM_CATEGORY_BLOCK, "text": ITEM_TEXT_BLOCK}


def late_message(retro: Retro, *, mrkdwn: bool = True) -> str:
    """Collection is over: what someone who answers now is told (`mrkdwn=False`: plain, for a modal)."""
    who = mention(retro.facilitator_id) if mrkdwn else (retro.facilitator_name or "the facilitator")
    title = escape(retro.title) if mrkdwn else retro.title
    # When collection ended: at close, at the deadline, or (after /retro next) at a moment not worth naming.
    closed = retro.closed_at or (retro.deadline if retro.phase == Phase.COLLECTING else None)
    when = (
        ""
        if closed is None
        else " at " + (slack_date(closed) if mrkdwn else closed.strftime("%Y-%m-%d %H:%M UTC"))
    )
    later = " You can still add it on your round-robin turn." if retro.phase == Phase.DISCUSSING else ""
    return (
        f"Sorry, collection for “{title}” closed{when}, so I can't add this.{later} "
        f"If it matters, please tell {who}: they can still bring it up."
    )


def not_a_member_text(
    *, retro: Retro, user_id: str | None, facilitator_id: str | None, facilitator_name: str = ""
) -> str:
    """Someone outside the retro opened or submitted its survey or Add item, or DMed an item (mrkdwn with
    mentions; plain, for a modal's inline error, when `facilitator_id` is None): who may, and how to get in."""
    if facilitator_id:
        how = f"ask {mention(facilitator_id)} to add you with `/retro invite` " + (
            mention(user_id) if user_id else "and your name"
        )
        title = f"*{escape(retro.title)}*"
    else:
        how = f"ask {facilitator_name or 'the facilitator'} to add you with /retro invite and your name"
        title = retro.title
    return f"Only the facilitator and the participants of {title} add items and answer its survey: {how}."


def closed_notice(*, retro: Retro) -> dict[str, Any]:
    """What a button that opens a collection modal shows once collection is over."""
    return notice_modal(title="Retro closed", text=late_message(retro))


def item_modal(*, retro: Retro, item: Item | None = None) -> dict[str, Any]:
    """Add an item, or edit one of your own (`item`)."""
    fmt = FORMATS[retro.format]
    options = [Option(value=c.key, text=clip(c.label, 75)) for c in fmt.categories]
    chosen = next((o for o in options if item is not None and o.value == item.category), options[0])
    blocks: list[Block] = [
        InputBlock(
            block_id=ITEM_CATEGORY_BLOCK,
            label="Category",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=options, initial_option=chosen),
        ),
        InputBlock(
            block_id=ITEM_TEXT_BLOCK,
            label="Your item",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=MAX_ITEM_LENGTH,
                initial_value=item.text if item is not None else None,
            ),
        ),
    ]
    if item is None:
        blocks.extend(anonymity_blocks(retro, checked=False, what="this item"))
    metadata = {"retro_id": retro.id, "item_id": item.id if item is not None else None}
    return modal(
        title="Edit item" if item is not None else "Add an item",
        callback_id=ITEM_CALLBACK,
        submit="Save" if item is not None else "Add",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )


def item_added_modal(*, retro: Retro, category_label: str, anonymous: bool) -> dict[str, Any]:
    privacy = " anonymously" if anonymous else ""
    return modal(
        title="Item added",
        blocks=[
            mrkdwn(
                f":white_check_mark: Added{privacy} to *{escape(category_label)}* in *{escape(retro.title)}*. "
                "You can change it under *My items* until the deadline."
            )
        ],
    )


def my_items_modal(*, retro: Retro, items: Sequence[Item], editable: bool) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    labels = {c.key: f"{c.emoji} {c.label}" for c in fmt.categories}
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Your items in *{escape(clip(retro.title, 200))}*"
                    + (
                        f", editable until {slack_date(retro.deadline)}."
                        if editable
                        else ". Collection is closed."
                    )
                )
            ]
        )
    ]
    if not items:
        blocks.append(mrkdwn("_You have no items in this retro yet._"))
    for item in items[:MAX_LISTED_ITEMS]:
        marker = " · _anonymous_" if item.author_id is None else ""
        blocks.append(mrkdwn(f"{labels.get(item.category, item.category)}{marker}\n{escape(item.text)}"))
        if editable:
            blocks.append(
                ActionsBlock(
                    block_id=f"item_{item.id}",
                    elements=[
                        ButtonElement(text="Edit", action_id=ITEM_EDIT_ACTION, value=str(item.id)),
                        ButtonElement(
                            text="Delete",
                            action_id=ITEM_DELETE_ACTION,
                            value=str(item.id),
                            style="danger",
                            confirm=ConfirmObject(
                                title="Delete this item?",
                                text="It is removed from the retro for good.",
                                confirm="Delete",
                                deny="Keep it",
                            ),
                        ),
                    ],
                )
            )
    if len(items) > MAX_LISTED_ITEMS:
        blocks.append(mrkdwn(f"_…and {len(items) - MAX_LISTED_ITEMS} more._"))
    return modal(
        title="My items",
        callback_id=MY_ITEMS_CALLBACK,
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )
