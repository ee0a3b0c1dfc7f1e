"""Kudos: the round-robin's "Give kudos" modal, what the kickoff thread gets at the close, and the texts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, PlainTextInputElement, UserSelectElement

from messages.common import VALUE_ACTION, Message, anonymity_blocks, dicts, modal, mrkdwn
from messages.text import clip, escape, mention
from storage.models import Kudos, Retro

KUDOS_ACTION = "turn_kudos"
KUDOS_CALLBACK = "kudos_submit"
KUDOS_USER_BLOCK = "kudos_to"
KUDOS_TEXT_BLOCK = "kudos_text"
MAX_KUDOS_LENGTH = 500
FIELDS = {"to": KUDOS_USER_BLOCK, "text": KUDOS_TEXT_BLOCK}


def kudos_inputs(*, to_user: str | None = None, text: str | None = None, optional: bool) -> list[Block]:
    """Who is thanked and what for: the survey's shout-out and the round-robin's modal."""
    return [
        InputBlock(
            block_id=KUDOS_USER_BLOCK,
            label="Shout-out to…",
            optional=optional,
            element=UserSelectElement(action_id=VALUE_ACTION, initial_user=to_user or None),
        ),
        InputBlock(
            block_id=KUDOS_TEXT_BLOCK,
            label="What for?",
            optional=optional,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, max_length=MAX_KUDOS_LENGTH, initial_value=text or None
            ),
        ),
    ]


def kudos_modal(*, retro: Retro) -> dict[str, Any]:
    blocks: list[Block] = [
        *kudos_inputs(optional=False),
        *anonymity_blocks(retro, checked=False, what="who gave these kudos"),
    ]
    return modal(
        title="Give kudos",
        callback_id=KUDOS_CALLBACK,
        submit="Send",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )


def _line(kudos: Kudos) -> str:
    giver = mention(kudos.from_user_id) if kudos.from_user_id else "someone"
    return f"• {mention(kudos.to_user_id)}: {escape(clip(kudos.text, MAX_KUDOS_LENGTH))} _({giver})_"


def kudos_thread_message(*, retro: Retro, kudos: Sequence[Kudos]) -> Message:
    text = ":tada: *Kudos from this retro*\n" + "\n".join(_line(k) for k in kudos[:40])
    if len(kudos) > 40:
        text += f"\n…and {len(kudos) - 40} more in the report."
    return Message(text=f"Kudos from {retro.title}", blocks=dicts([mrkdwn(clip(text, 3000))]))


def given_text(*, to_user: str) -> str:
    return f"Thanks for the kudos to {mention(to_user)}: they go into the report and the kickoff thread at the close."
