"""The survey: the DM invitation, the survey modal and its thank-you."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from bot.domain import FORMATS, MAX_CUSTOM_QUESTIONS, MAX_ITEM_LENGTH, custom_field
from messages.common import (
    VALUE_ACTION,
    Message,
    anonymity_blocks,
    anonymity_note,
    category_list,
    dicts,
    item_buttons,
    modal,
    mrkdwn,
)
from messages.kudos import KUDOS_TEXT_BLOCK, KUDOS_USER_BLOCK, kudos_inputs
from messages.text import channel_link, clip, escape, mention, plural, slack_date
from storage.models import Retro

SURVEY_CALLBACK = "survey_submit"
SURVEY_SMOOTHNESS_BLOCK = "smoothness"
SURVEY_SURPRISE_BLOCK = "surprise"


def survey_block_id(category_key: str) -> str:
    return f"cat_{category_key}"


def custom_block_id(n: int) -> str:
    return f"custom_{n}"


# The survey's fields: each category (by its key), the rating, the surprise and the custom questions.
FIELDS: dict[str, str] = {
    **{c.key: survey_block_id(c.key) for fmt in FORMATS.values() for c in fmt.categories},
    "smoothness": SURVEY_SMOOTHNESS_BLOCK,
    "surprise": SURVEY_SURPRISE_BLOCK,
    **{custom_field(n): custom_block_id(n) for n in range(MAX_CUSTOM_QUESTIONS)},
    "kudos_to": KUDOS_USER_BLOCK,
    "kudos_text": KUDOS_TEXT_BLOCK,
}
ERROR_FIELD = next(iter(FIELDS))  # a problem that names no field (the retro is gone) shows on a category


def survey_invite_message(*, retro: Retro) -> Message:
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        mrkdwn(
            f"{mention(retro.facilitator_id)} invited you to the retrospective *{title}* in "
            f"{channel_link(retro.channel_id)}. Please answer by *{deadline}*."
        ),
        mrkdwn(
            f"It takes a few minutes: {category_list(fmt)}, a 1–10 smoothness rating, and what surprised you."
        ),
        item_buttons(retro),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You can open the survey again to change your answers. You can also just write to me "
                    f"here, one item per line: `+` {fmt.categories[0].label}, `-` {fmt.categories[1].label}, "
                    f"`*` {fmt.categories[2].label}." + anonymity_note(retro).replace("\n", " ")
                )
            ]
        ),
    ]
    return Message(
        text=f"You're invited to the retrospective {title}: please answer by {deadline}.",
        blocks=dicts(blocks),
    )


def survey_modal(
    *,
    retro: Retro,
    answers: dict[str, list[str]],
    smoothness: int | None,
    surprise: str | None,
    custom: Sequence[str | None] = (),
    anonymous: bool = False,
    kudos_to: str | None = None,
    kudos_text: str | None = None,
) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"*{escape(clip(retro.title, 200))}* · answers until {slack_date(retro.deadline)}. "
                    "One item per line; leave a field empty if nothing comes to mind."
                )
            ]
        )
    ]
    for category in fmt.categories:
        existing = "\n".join(answers.get(category.key, []))
        blocks.append(
            InputBlock(
                block_id=survey_block_id(category.key),
                label=category.label,
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION,
                    multiline=True,
                    max_length=3000,
                    initial_value=existing[:3000] or None,
                    placeholder=category.prompt,
                ),
            )
        )
    ratings = [Option(value=str(n), text=_rating_label(n)) for n in range(1, 11)]
    blocks.append(
        InputBlock(
            block_id=SURVEY_SMOOTHNESS_BLOCK,
            label="How smoothly did it go?",
            optional=True,
            element=StaticSelectElement(
                action_id=VALUE_ACTION,
                options=ratings,
                initial_option=ratings[smoothness - 1] if smoothness else None,
                placeholder="1 = very rough, 10 = perfectly smooth",
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=SURVEY_SURPRISE_BLOCK,
            label="What surprised you?",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=MAX_ITEM_LENGTH,
                initial_value=surprise or None,
            ),
        )
    )
    for n, question in enumerate(retro.custom_questions[:MAX_CUSTOM_QUESTIONS]):
        previous = custom[n] if n < len(custom) else None
        blocks.append(
            InputBlock(
                block_id=custom_block_id(n),
                label=clip(question, 2000),
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION,
                    multiline=True,
                    max_length=MAX_ITEM_LENGTH,
                    initial_value=previous or None,
                ),
            )
        )
    blocks.extend(kudos_inputs(to_user=kudos_to, text=kudos_text, optional=True))
    blocks.extend(anonymity_blocks(retro, checked=anonymous, what="my survey answers"))
    return modal(
        title="Retro survey",
        callback_id=SURVEY_CALLBACK,
        submit="Save answers",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )


def _rating_label(n: int) -> str:
    return {1: "1 – very rough", 5: "5 – so-so", 10: "10 – perfectly smooth"}.get(n, str(n))


def survey_thanks_modal(
    *, retro: Retro, item_count: int, smoothness: int | None, anonymous: bool = False
) -> dict[str, Any]:
    rating = f" and rated it {smoothness}/10" if smoothness else ""
    privacy = " They are stored anonymously." if anonymous else ""
    return modal(
        title="Thank you!",
        blocks=[
            mrkdwn(
                f"Your answers for *{escape(retro.title)}* are saved: {plural(item_count, 'item')}{rating}.{privacy} "
                f"You can open the survey again to change them until {slack_date(retro.deadline)}."
            )
        ],
    )
