"""Builders for the voting results and the facilitator's root-cause notes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    SectionBlock,
)

from bot.domain import MAX_ROOT_CAUSE_LENGTH
from messages.common import VALUE_ACTION, Message, modal, mrkdwn
from messages.rounds import (
    NEW_ACTION_ACTION,
    RESULT_MENU_ACTION,
    ROOT_CAUSE_BLOCK,
    ROOT_CAUSE_CALLBACK,
    ROOT_CAUSE_RANKS,
    item_line,
    pack,
)
from messages.text import clip, escape, plural
from storage.models import Item, Retro

if TYPE_CHECKING:
    from bot.services.voting import Ranked

# The root-cause modal's fields: domain field name -> block id.
ROOT_CAUSE_FIELDS = {"root_cause": ROOT_CAUSE_BLOCK}


def results_messages(*, retro: Retro, ranked: Sequence[Ranked]) -> list[Message]:
    header: list[Block] = [mrkdwn(f":trophy: *Voting results for {escape(retro.title)}*")]
    body: list[Block] = []
    for entry in ranked:
        place = f"={entry.rank}" if entry.tied else f"{entry.rank}"
        line = f"*{place}.* {plural(entry.votes, 'vote')} · {item_line(retro, entry.item, with_author=False)}"
        options = [Option(value=f"action:{entry.item.id}", text="Turn into action item")]
        if entry.rank <= ROOT_CAUSE_RANKS and entry.votes > 0:
            options.append(Option(value=f"root:{entry.item.id}", text="Add a root cause"))
        body.append(
            SectionBlock(
                block_id=f"result_{entry.item.id}",
                text=MarkdownTextObject(text=clip(line, 3000)),
                accessory=OverflowMenuElement(action_id=RESULT_MENU_ACTION, options=options),
            )
        )
    if not body:
        body.append(mrkdwn("_Nothing was on the ballot._"))
    body.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Equal counts share a place (=). From each item's menu the facilitator turns it into "
                    "an action item or notes its root cause."
                )
            ]
        )
    )
    body.append(
        ActionsBlock(
            elements=[ButtonElement(text="Add action item", action_id=NEW_ACTION_ACTION, value=str(retro.id))]
        )
    )
    return pack(header, body, text=f"Voting results for {escape(retro.title)}")


def root_cause_modal(*, retro: Retro, item: Item) -> dict[str, Any]:
    return modal(
        title="Root cause",
        callback_id=ROOT_CAUSE_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"item_id": item.id}),
        blocks=[
            mrkdwn(f"*#{item.number}* {escape(item.text)}"),
            InputBlock(
                block_id=ROOT_CAUSE_BLOCK,
                label="Why did it happen? (for example 5 whys)",
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION,
                    multiline=True,
                    max_length=MAX_ROOT_CAUSE_LENGTH,
                    initial_value=item.root_cause or None,
                    placeholder="Why? → Why? → Why? → Why? → Why?",
                ),
            ),
        ],
    )
