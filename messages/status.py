"""`/retro status`."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain import FORMATS, Phase, RetroStats
from messages.common import Message, dicts, mrkdwn
from messages.text import escape, mention, slack_date, time_left
from storage.models import Retro


def _phase_line(retro: Retro, now: datetime, turn_user: str | None, turn_due: datetime | None) -> str:
    phase = Phase(retro.phase)
    if phase == Phase.COLLECTING:
        return f"Answers until {slack_date(retro.deadline)} ({time_left(retro.deadline, now)})"
    if phase == Phase.DISCUSSING:
        if retro.paused_at:
            return "Round-robin paused"
        if turn_user is None:
            return "Round-robin"
        until = f" until {slack_date(turn_due)}" if turn_due else ""
        return f"Round-robin: {mention(turn_user)}'s turn{until}"
    if phase == Phase.VOTING:
        return f"Voting until {slack_date(retro.voting_deadline)}" if retro.voting_deadline else "Voting"
    if phase == Phase.ACTIONS:
        return "Voting is over: the results are in the thread"
    return f"Closed {slack_date(retro.closed_at or retro.deadline)}"


def status_message(
    *,
    retro: Retro,
    stats: RetroStats,
    now: datetime,
    turn_user: str | None = None,
    turn_due: datetime | None = None,
) -> Message:
    fmt = FORMATS[retro.format]
    when = _phase_line(retro, now, turn_user, turn_due)
    counts = "\n".join(f"{c.emoji} {c.label}: *{stats.counts.get(c.key, 0)}*" for c in fmt.categories)
    rating = (
        f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings yet"
    )
    blocks: list[Block] = [
        mrkdwn(f"*{escape(retro.title)}* · phase: *{retro.phase}*\n{when}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Responded*\n{stats.responded} of {stats.invited}"),
                MarkdownTextObject(text=f"*Smoothness*\n{rating}"),
            ]
        ),
        mrkdwn(f"*Items so far* ({stats.total_items})\n{counts}"),
        ContextBlock(elements=[MarkdownTextObject(text=f"Facilitator: {mention(retro.facilitator_id)}")]),
    ]
    return Message(
        text=f"{escape(retro.title)}: {stats.responded} of {stats.invited} responded, {stats.total_items} items.",
        blocks=dicts(blocks),
    )
