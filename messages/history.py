"""`/retro history`."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.domain import Phase, RetroMetrics
from messages.common import Message, dicts, mrkdwn
from messages.text import channel_link, clip, escape, plural
from storage.models import Retro


def history_message(*, channel_id: str, retros: Sequence[Retro], metrics: dict[int, RetroMetrics]) -> Message:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{round(100 * value)}%"

    lines: list[str] = []
    for retro in retros:
        head = f"*#{retro.id} {escape(clip(retro.title, 80))}* · {retro.created_at.date().isoformat()}"
        if retro.phase == Phase.CANCELLED:
            lines.append(f"{head} · cancelled: {escape(clip(retro.cancel_reason or '', 200))}")
            continue
        m = metrics[retro.id]
        smooth = f"{m.average_smoothness:.1f}" if m.average_smoothness is not None else "—"
        lines.append(
            f"{head} · {retro.phase}\nparticipation {pct(m.participation)} ({m.responded}/{m.invited}) · "
            f"{plural(m.items, 'item')} · action items {m.actions_done}/{m.actions_created} done "
            f"(on time {pct(m.on_time)}) · smoothness {smooth}"
            + (
                f" · worth the time {m.roti_average:.1f}/5 ({plural(m.roti_count, 'rating')})"
                if m.roti_average is not None
                else ""
            )
        )
    if not lines:
        text = f"No retros in {channel_link(channel_id)} yet. Start one with `/retro new [title]`."
        return Message(text=text, blocks=dicts([mrkdwn(text)]))
    blocks: list[Block] = [
        mrkdwn(f":chart_with_upwards_trend: *Retro history of {channel_link(channel_id)}*")
    ]
    blocks.extend(mrkdwn(line) for line in lines)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="`rearview report <number>` or `/retro report <number>` gives any report."
                )
            ]
        )
    )
    return Message(text=f"Retro history of {channel_link(channel_id)}", blocks=dicts(blocks))


CHART_COMMENT = "Participation, action-item completion and smoothness, retro after retro."


def no_match_text(*, which: str) -> str:
    """`/retro report <which>` when no retro of the channel matches."""
    return (
        f"No retro in this channel matches “{escape(which)}”. `/retro history` lists them with their numbers."
    )
