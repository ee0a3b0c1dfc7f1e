"""`/retro status`: its answer goes in the ack, so it is drawn as plain dicts (slack_sdk's models validate
every attribute on each `to_dict()`, a quarter of the listener's time); its texts are clipped to Slack's
limits here, and tests validate the blocks with slack_sdk's models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import FORMATS, Phase, RetroStats
from messages.common import Message
from messages.text import clip, escape, mention, slack_date, time_left
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
    blocks: list[dict[str, Any]] = [
        _section(f"*{escape(retro.title)}* · phase: *{retro.phase}*\n{when}"),
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Responded*\n{stats.responded} of {stats.invited}"),
                _mrkdwn(f"*Smoothness*\n{rating}"),
            ],
        },
        _section(f"*Items so far* ({stats.total_items})\n{counts}"),
        {"type": "context", "elements": [_mrkdwn(f"Facilitator: {mention(retro.facilitator_id)}")]},
    ]
    return Message(
        text=f"{escape(retro.title)}: {stats.responded} of {stats.invited} responded, {stats.total_items} items.",
        blocks=blocks,
    )


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, 2000)}  # a section field's or context element's limit


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}
