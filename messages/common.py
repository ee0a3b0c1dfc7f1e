"""Block Kit building blocks shared by every screen: the Message type, modals, and the pieces several
screens draw (the item buttons, anonymity notes). Pure functions; every user-written string goes through
`escape` or plain_text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain import Anonymity, RetroFormat
from messages.text import clip, mention
from storage.models import Retro

OPEN_SURVEY_ACTION = "survey_open"
ADD_ITEM_ACTION = "item_add_open"
MY_ITEMS_ACTION = "items_mine"
ANONYMOUS_BLOCK = "anonymous"
ANONYMOUS_VALUE = "anonymous"
VALUE_ACTION = "value"  # the action_id of the single element inside each input block


@dataclass(frozen=True)
class Message:
    text: str  # notification and screen-reader fallback
    blocks: list[dict[str, Any]]


def dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def mrkdwn(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))


def modal(
    *,
    title: str,
    blocks: Sequence[Block],
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str | None = None,
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, 24)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text=close),
        private_metadata=private_metadata,
        blocks=list(blocks),
    )
    return view.to_dict()


def category_list(fmt: RetroFormat) -> str:
    return ", ".join(f"{c.emoji} {c.label}" for c in fmt.categories)


def notice_modal(*, title: str, text: str) -> dict[str, Any]:
    return modal(title=title, blocks=[mrkdwn(text)])


def anonymity_note(retro: Retro) -> str:
    return {
        Anonymity.NAMED: "\nAnswers in this retro are named.",
        Anonymity.OPTIONAL: "\nYou can mark survey answers and items as anonymous (in a DM, start with `anon`).",
        Anonymity.ANONYMOUS: "\nSurvey answers and items sent by DM or *Add item* are anonymous.",
    }.get(Anonymity(retro.anonymity), "")


def item_buttons(retro: Retro) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Open survey", action_id=OPEN_SURVEY_ACTION, value=str(retro.id), style="primary"
            ),
            ButtonElement(text="Add item", action_id=ADD_ITEM_ACTION, value=str(retro.id)),
            ButtonElement(text="My items", action_id=MY_ITEMS_ACTION, value=str(retro.id)),
        ]
    )


def anonymity_blocks(retro: Retro, *, checked: bool, what: str) -> list[Block]:
    if retro.anonymity == Anonymity.OPTIONAL:
        option = Option(value=ANONYMOUS_VALUE, text=f"Keep {what} anonymous")
        return [
            InputBlock(
                block_id=ANONYMOUS_BLOCK,
                label="Anonymity",
                optional=True,
                element=CheckboxesElement(
                    action_id=VALUE_ACTION, options=[option], initial_options=[option] if checked else None
                ),
                hint="Anonymous answers are stored without your Slack id; nobody sees who wrote them.",
            )
        ]
    text = {
        Anonymity.ANONYMOUS: ":lock: This retro is anonymous: nobody sees who wrote what.",
        Anonymity.NAMED: "This retro is named: your answers are recorded with your name.",
    }[Anonymity(retro.anonymity)]
    return [ContextBlock(elements=[MarkdownTextObject(text=text)])]


def not_facilitator_text(*, facilitator_id: str, may: str) -> str:
    """A refusal that says who can: `may` ends the sentence, as in "can close *Q3*" (already mrkdwn)."""
    return f"Only the facilitator, {mention(facilitator_id)}, {may}."


def not_facilitator_plain(*, retro: Retro, may: str) -> str:
    """The same refusal in plain text, for a modal's inline errors: the facilitator by name (Slack shows no
    mention there), and `may` written plain too, as in "can close Q3"."""
    if not retro.facilitator_name:
        return f"Only the facilitator {may}."
    return f"Only the facilitator, {retro.facilitator_name}, {may}."
