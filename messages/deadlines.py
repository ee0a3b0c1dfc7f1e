"""The collection deadline: reminders, moving it, and what happens when it passes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block, DateTimePickerElement, InputBlock

from bot.domain import FORMATS, Phase, RetroStats
from messages.common import VALUE_ACTION, Message, dicts, item_buttons, modal, mrkdwn
from messages.text import channel_link, escape, mention, plural, slack_date, time_left
from storage.models import Retro

EXTEND_CALLBACK = "retro_extend"
EXTEND_DEADLINE_BLOCK = "deadline"

FIELDS: dict[str, str] = {"deadline": EXTEND_DEADLINE_BLOCK}  # the extend modal's one field


def may_change_deadline(*, retro: Retro, mrkdwn: bool = True) -> str:
    """Ends "Only the facilitator, @them, …" (`mrkdwn=False`: plain, for a modal)."""
    title = f"*{escape(retro.title)}*" if mrkdwn else retro.title
    return f"can change the deadline for {title}"


def may_remind(*, retro: Retro) -> str:
    return f"can send reminders for *{escape(retro.title)}*"


def deadline_fixed_text(*, retro: Retro) -> str:
    return (
        f"Collection for *{escape(retro.title)}* is over (phase: {retro.phase}); "
        "its deadline can no longer change."
    )


def not_collecting_text(*, retro: Retro) -> str:
    return f"*{escape(retro.title)}* is no longer collecting answers."


def reminding_text(*, queued: int, pending: int) -> str:
    """`/retro remind`'s answer: `queued` of the `pending` people who have not answered are reminded."""
    if not pending:
        return "Everyone has answered already: nobody to remind."
    return (
        f"Reminding {queued} of {pending} people who have not answered yet. "
        "If I can't reach someone, I'll tell you."
    )


def nudge_what(*, user_id: str) -> str:
    """How a failed reminder is named to the facilitator."""
    return f"a reminder to {mention(user_id)}"


def collection_closed_text(*, retro: Retro, stats: RetroStats) -> str:
    fmt = FORMATS[retro.format]
    counts = ", ".join(f"{c.label}: {stats.counts.get(c.key, 0)}" for c in fmt.categories)
    return (
        f":hourglass: Collection for *{escape(retro.title)}* is closed. "
        f"{stats.responded} of {stats.invited} people answered; {plural(stats.total_items, 'item')} ({counts}). "
        "The items are in the retro thread and the round-robin has begun. `/retro skip`, `/retro pause` and "
        "`/retro resume` steer it; `/retro next` moves on to voting."
    )


def next_step_text(*, retro: Retro) -> str:
    return {
        Phase.COLLECTING: "Closing collection: the items go to the thread and the round-robin starts.",
        Phase.DISCUSSING: "Ending the round-robin: ballots go out now.",
        Phase.VOTING: "Closing the vote: the results follow in the thread.",
    }.get(Phase(retro.phase), "Moving on.")


def nudge_message(*, retro: Retro, now: datetime) -> Message:
    blocks: list[Block] = [
        mrkdwn(
            f":wave: A reminder: the retrospective *{escape(retro.title)}* in {channel_link(retro.channel_id)} "
            f"collects answers until *{slack_date(retro.deadline)}* ({time_left(retro.deadline, now)}). "
            "A few lines are enough."
        ),
        item_buttons(retro),
    ]
    return Message(
        text=f"Reminder: {escape(retro.title)} closes {slack_date(retro.deadline)}.", blocks=dicts(blocks)
    )


def deadline_moved_message(*, retro: Retro) -> Message:
    text = f":calendar: {mention(retro.facilitator_id)} moved the deadline to *{slack_date(retro.deadline)}*."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def extend_modal(*, retro: Retro, now: datetime) -> dict[str, Any]:
    initial = max(retro.deadline, now) + timedelta(days=1)
    return modal(
        title="Change the deadline",
        callback_id=EXTEND_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=[
            mrkdwn(f"*{escape(retro.title)}* collects answers until {slack_date(retro.deadline)}."),
            InputBlock(
                block_id=EXTEND_DEADLINE_BLOCK,
                label="New deadline",
                element=DateTimePickerElement(
                    action_id=VALUE_ACTION, initial_date_time=int(initial.timestamp())
                ),
            ),
        ],
    )
