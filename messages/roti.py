"""ROTI ("Return On Time Invested"): the one question each participant gets at a retro's close, and its
answer."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject

from messages.common import Message, dicts, mrkdwn
from messages.text import channel_link, escape
from storage.models import Retro

ROTI_ACTION = "roti_rate"
SCORES = {1: "1 · a waste", 2: "2", 3: "3 · fair", 4: "4", 5: "5 · very much"}


def _buttons(retro: Retro, chosen: int | None) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=label,
                action_id=f"{ROTI_ACTION}_{score}",
                value=f"{retro.id}:{score}",
                style="primary" if score == chosen else None,
            )
            for score, label in SCORES.items()
        ]
    )


def roti_message(*, retro: Retro) -> Message:
    question = (
        f"*{escape(retro.title)}* in {channel_link(retro.channel_id)} is closed. "
        "*Was this retro worth your time?*"
    )
    blocks: list[Block] = [
        mrkdwn(question),
        _buttons(retro, None),
        ContextBlock(
            elements=[MarkdownTextObject(text="Anonymous, like votes: nobody can see who gave which rating.")]
        ),
    ]
    return Message(text=f"Was {retro.title} worth your time?", blocks=dicts(blocks))


def rated_message(*, retro: Retro, score: int) -> Message:
    text = (
        f"Thanks: you rated *{escape(retro.title)}* {score} of 5. The report and `/retro history` show the "
        "average. Change it below if you like."
    )
    return Message(
        text=f"You rated {retro.title} {score} of 5", blocks=dicts([mrkdwn(text), _buttons(retro, score)])
    )


def not_yours_text() -> str:
    return "Only the retro's participants rate it."
