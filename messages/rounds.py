"""Builders for the round-robin: item digests, turn prompts, the turn modals and the facilitator's replies.
The Slack ids of the whole discussion (round-robin, ballots, results) are here; voting's builders are in
messages/ballot.py and messages/results.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
)

from bot.domain import FORMATS, MAX_ITEM_LENGTH, Anonymity
from messages.common import VALUE_ACTION, Message, dicts, modal, mrkdwn
from messages.items import ITEM_CATEGORY_BLOCK, ITEM_TEXT_BLOCK
from messages.kudos import KUDOS_ACTION
from messages.text import clip, escape, mention, plural, slack_date
from storage.models import Item, Retro, Turn

if TYPE_CHECKING:
    pass

TURN_COMMENT_ACTION = "turn_comment"
TURN_ADD_ACTION = "turn_add"
TURN_PASS_ACTION = "turn_pass"  # noqa: S105 - an action id, not a password
TURN_COMMENT_CALLBACK = "turn_comment_submit"
TURN_ADD_CALLBACK = "turn_add_submit"
TURN_ITEM_BLOCK = "turn_item"
TURN_TEXT_BLOCK = "turn_text"
VOTE_ACTION = "vote"
UNVOTE_ACTION = "unvote"
RESULT_MENU_ACTION = "result_menu"
NEW_ACTION_ACTION = "action_new"
ROOT_CAUSE_CALLBACK = "root_cause_submit"
ROOT_CAUSE_BLOCK = "root_cause"

MAX_BLOCKS = 45  # Slack allows 50 per message; the rest is headroom for headers and context
SECTION_CHARS = 2900  # under the 3000 a section's text may hold
MAX_SELECT_OPTIONS = 100
ROOT_CAUSE_RANKS = 3  # the facilitator can note root causes for the top ranks

# The turn modals' fields: domain field name -> block id (adding an item reuses the item modal's blocks).
TURN_COMMENT_FIELDS = {"item": TURN_ITEM_BLOCK, "text": TURN_TEXT_BLOCK}
TURN_ADD_FIELDS = {"category": ITEM_CATEGORY_BLOCK, "text": ITEM_TEXT_BLOCK}


def pack(header: Sequence[Block], body: Sequence[Block], text: str) -> list[Message]:
    """Split blocks over as many messages as needed; the header opens the first."""
    messages: list[Message] = []
    current: list[Block] = list(header)
    for block in body:
        if len(current) >= MAX_BLOCKS:
            messages.append(Message(text=text, blocks=dicts(current)))
            current = []
        current.append(block)
    if current or not messages:
        messages.append(Message(text=text, blocks=dicts(current)))
    return messages


def _lines_to_sections(lines: Sequence[str]) -> list[Block]:
    """Join lines into sections that stay under the section limit."""
    sections: list[Block] = []
    chunk = ""
    for line in lines:
        line = clip(line, SECTION_CHARS)
        if chunk and len(chunk) + 1 + len(line) > SECTION_CHARS:
            sections.append(mrkdwn(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        sections.append(mrkdwn(chunk))
    return sections


def item_line(retro: Retro, item: Item, *, with_author: bool = True) -> str:
    author = (
        f" — {mention(item.author_id)}"
        if with_author and item.author_id and retro.anonymity != Anonymity.ANONYMOUS
        else ""
    )
    return f"*#{item.number}* {escape(item.text)}{author}"


# ---------------------------------------------------------------- discussion


def items_digest_messages(*, retro: Retro, items: Sequence[Item]) -> list[Message]:
    """Every item, grouped by category, over as many messages as it takes."""
    fmt = FORMATS[retro.format]
    body: list[Block] = []
    for category in fmt.categories:
        listed = sorted((i for i in items if i.category == category.key), key=lambda i: i.number or 0)
        body.append(mrkdwn(f"{category.emoji} *{category.label}* ({len(listed)})"))
        body.extend(_lines_to_sections([item_line(retro, i) for i in listed]) or [mrkdwn("_Nothing here._")])
    header = [mrkdwn(f":inbox_tray: *What came in for {escape(retro.title)}* ({plural(len(items), 'item')})")]
    return pack(header, body, text=f"What came in for {escape(retro.title)}")


def round_robin_intro_message(*, retro: Retro, order: Sequence[str], now: datetime) -> Message:
    if not order:
        text = "Nobody is in the round-robin, so voting opens next."
    else:
        people = " → ".join(mention(u) for u in order[:40]) + (
            f" and {len(order) - 40} more" if len(order) > 40 else ""
        )
        text = (
            f":arrows_counterclockwise: *Round-robin.* Everyone gets a turn, one after another: {people}. "
            f"On your turn you have {plural(retro.turn_hours, 'working hour')} to comment on an item, add something "
            "missing, or pass. Turns start in each person's daytime."
        )
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def turn_prompt_thread_message(*, retro: Retro, turn: Turn) -> Message:
    due = slack_date(turn.due_at) if turn.due_at else "soon"
    text = f"{mention(turn.user_id)}, it's your turn (until {due}). I've sent you the options by DM."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def turn_prompt_dm(*, retro: Retro, turn: Turn) -> Message:
    due = slack_date(turn.due_at) if turn.due_at else "soon"
    blocks: list[Block] = [
        mrkdwn(
            f":speech_balloon: Your turn in *{escape(retro.title)}*, until {due}. The items are in the "
            "retro thread. Comment on one, add something that is missing, or pass."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Comment on an item",
                    action_id=TURN_COMMENT_ACTION,
                    value=str(turn.id),
                    style="primary",
                ),
                ButtonElement(text="Add something", action_id=TURN_ADD_ACTION, value=str(turn.id)),
                ButtonElement(text="Pass", action_id=TURN_PASS_ACTION, value=str(turn.id)),
                ButtonElement(text="Give kudos", action_id=KUDOS_ACTION, value=str(retro.id)),
            ]
        ),
    ]
    return Message(text=f"Your turn in {escape(retro.title)}", blocks=dicts(blocks))


def turn_scheduled_message(*, turn: Turn) -> Message:
    when = slack_date(turn.starts_at) if turn.starts_at else "their morning"
    text = f"Next up: {mention(turn.user_id)}. It's night where they are, so their turn starts {when}."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def turn_done_message(*, turn: Turn, summary: str | None) -> Message:
    who = mention(turn.user_id)
    text = {
        "answered": f"{who} answered." + (f"\n{summary}" if summary else ""),
        "passed": f"{who} passed.",
        "timed_out": f"{who}'s turn timed out.",
        "skipped": f"The facilitator skipped {who}'s turn.",
    }.get(turn.status, f"{who}'s turn is over.")
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def comment_summary(*, item: Item, text: str) -> str:
    return f">On *#{item.number}*: {escape(clip(text, 1500))}"


def added_summary(*, retro: Retro, item: Item) -> str:
    label = FORMATS[retro.format].category(item.category).label
    return f">Added *#{item.number}* to {escape(label)}: {escape(clip(item.text, 1500))}"


def round_robin_done_message(*, retro: Retro) -> Message:
    text = ":white_check_mark: Everyone has had their turn. Voting opens now."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def paused_message(*, retro: Retro) -> Message:
    text = (
        ":double_vertical_bar: The facilitator paused the round-robin. The current turn's time stands still."
    )
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def resumed_message(*, retro: Retro) -> Message:
    text = ":arrow_forward: The round-robin continues."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def turn_comment_modal(*, retro: Retro, turn: Turn, items: Sequence[Item]) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    listed = sorted(items, key=lambda i: i.number or 0)
    if 0 < len(listed) <= MAX_SELECT_OPTIONS:
        groups = []
        for category in fmt.categories:
            options = [
                Option(value=str(i.number), text=clip(f"#{i.number} {i.text}", 75))
                for i in listed
                if i.category == category.key
            ]
            if options:
                groups.append(OptionGroup(label=clip(category.label, 75), options=options))
        chooser: Block = InputBlock(
            block_id=TURN_ITEM_BLOCK,
            label="Which item?",
            element=StaticSelectElement(action_id=VALUE_ACTION, option_groups=groups),
        )
    else:
        # More items than a menu can hold: people type the number shown in the thread.
        chooser = InputBlock(
            block_id=TURN_ITEM_BLOCK,
            label="Item number (as shown in the thread)",
            element=NumberInputElement(action_id=VALUE_ACTION, is_decimal_allowed=False, min_value="1"),
        )
    return modal(
        title="Comment on an item",
        callback_id=TURN_COMMENT_CALLBACK,
        submit="Post",
        close="Back",
        private_metadata=json.dumps({"turn_id": turn.id}),
        blocks=[
            chooser,
            InputBlock(
                block_id=TURN_TEXT_BLOCK,
                label="Your thought",
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION, multiline=True, max_length=MAX_ITEM_LENGTH
                ),
            ),
        ],
    )


def turn_add_modal(*, retro: Retro, turn: Turn) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    options = [Option(value=c.key, text=clip(c.label, 75)) for c in fmt.categories]
    return modal(
        title="Add something",
        callback_id=TURN_ADD_CALLBACK,
        submit="Add",
        close="Back",
        private_metadata=json.dumps({"turn_id": turn.id}),
        blocks=[
            InputBlock(
                block_id=ITEM_CATEGORY_BLOCK,
                label="Category",
                element=StaticSelectElement(
                    action_id=VALUE_ACTION, options=options, initial_option=options[0]
                ),
            ),
            InputBlock(
                block_id=ITEM_TEXT_BLOCK,
                label="What is missing?",
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION, multiline=True, max_length=MAX_ITEM_LENGTH
                ),
            ),
        ],
    )


# ---------------------------------------------------------------- answers and refusals


def passed_text() -> str:
    return "You passed. Thanks! The next person is up."


def turn_dm_what(*, user_id: str) -> str:
    """How a turn's DM is named to the facilitator if it cannot be delivered."""
    return f"their turn's DM to {mention(user_id)}"


def not_your_turn_text(*, owner_id: str) -> str:
    return f"This is {mention(owner_id)}'s turn, not yours: you can answer on your own turn."


def not_your_turn_plain(*, owner_name: str) -> str:
    """The same, for a modal's inline errors (no mentions there): the person by name."""
    whose = f"{owner_name}'s" if owner_name else "someone else's"
    return f"This is {whose} turn, not yours: you can answer on your own turn."


def no_round_robin_text(*, retro: Retro) -> str:
    return f"*{escape(retro.title)}* has no round-robin running (phase: {retro.phase})."


def skipped_text(*, user_id: str) -> str:
    return f"Skipped {mention(user_id)}'s turn."


def paused_text() -> str:
    return "The round-robin is paused. `/retro resume` continues it where it stopped."


def resumed_text() -> str:
    return "The round-robin continues."
