"""Pickers for items that arrive as messages: which category, which retro."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain import FORMATS
from messages.common import Message, dicts, mrkdwn
from messages.text import clip, escape, plural
from storage.models import Retro

PICK_CATEGORY_ACTION = "item_pick"  # + ":<category>": action ids must be unique within a block
PICK_RETRO_ACTION = "retro_pick"  # + ":<retro id>"


def category_picker(*, retro: Retro, text: str, anonymous: bool, source: str) -> Message:
    """Ask which category an unprefixed reply belongs to; the text travels in the buttons."""
    fmt = FORMATS[retro.format]
    buttons = [
        ButtonElement(
            text=clip(c.label, 75),
            action_id=f"{PICK_CATEGORY_ACTION}:{c.key}",
            value=json.dumps({"r": retro.id, "c": c.key, "t": text, "a": anonymous, "s": source}),
        )
        for c in fmt.categories
    ]
    blocks: list[Block] = [
        mrkdwn(f"Which category is this for *{escape(retro.title)}*?\n>{escape(clip(text, 500))}"),
        ActionsBlock(elements=buttons),
    ]
    return Message(text="Which category is this?", blocks=dicts(blocks))


def picker_fits(*, retro_id: int, category_key: str, text: str) -> bool:
    """Button values hold at most 2000 characters."""
    return len(json.dumps({"r": retro_id, "c": category_key, "t": text, "a": False, "s": "thread"})) <= 2000


def retro_picker_fits(*, text: str) -> bool:
    return len(json.dumps({"r": 10**9, "t": text})) <= 2000


def retro_picker(*, retros: Sequence[Retro], text: str) -> Message:
    buttons = [
        ButtonElement(
            text=clip(r.title, 75),
            action_id=f"{PICK_RETRO_ACTION}:{r.id}",
            value=json.dumps({"r": r.id, "t": text}),
        )
        for r in retros[:5]
    ]
    blocks: list[Block] = [
        mrkdwn("You are in more than one open retro. Which one is this for?"),
        ActionsBlock(elements=buttons),
    ]
    return Message(text="Which retro is this for?", blocks=dicts(blocks))


NO_ANONYMOUS_THREAD_REPLIES = (
    "Thread replies can't be anonymous: Slack shows your name next to them. I didn't add this; "
    "send it to me in a DM starting with `anon`, or use the *Add item* button."
)
NOT_IN_A_RETRO = (
    "You are not part of any retro that is collecting answers right now. "
    "When a facilitator invites you, you can write your items here."
)
NO_ITEM_FOUND = "I didn't find an item in that message."
NO_LONGER_COLLECTING = "That retro is no longer collecting answers."
TOO_LONG_FOR_PICKER = (
    "That message is too long for me to sort. Start each line with `+`, `-` or `*`, "
    "or use the *Add item* button."
)


def noted_text() -> str:
    """Replaces the retro picker once a retro is picked."""
    return "Thanks, noted."


def fix_and_resend_text(*, problem: str) -> str:
    """An item that could not be added (`problem` says why): nothing of the message was kept."""
    return f"I couldn't add that: {problem} Nothing was saved; please send it again."


def added_text(*, retro: Retro, count: int, anonymous: bool) -> str:
    return (
        f":white_check_mark: Added {plural(count, 'item')}{' anonymously' if anonymous else ''} "
        f"to *{escape(retro.title)}*."
    )


def added_to_category_text(*, retro: Retro, category_label: str) -> str:
    return f":white_check_mark: Added to *{escape(category_label)}* in *{escape(retro.title)}*."
