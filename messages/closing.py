"""Closing or cancelling a retro: the close modal, the summaries and the report's notes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
)

from bot.domain import FORMATS, RetroStats
from messages.common import VALUE_ACTION, Message, dicts, modal, mrkdwn
from messages.text import channel_link, clip, escape, mention
from storage.models import Retro

CLOSE_CALLBACK = "retro_close"
STAKEHOLDER_BLOCK = "stakeholder_channel"
FIELDS = {"share_with": STAKEHOLDER_BLOCK}  # the close modal's fields -> their block ids


def close_summary_message(*, retro: Retro, stats: RetroStats) -> Message:
    fmt = FORMATS[retro.format]
    rating = f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings"
    counts = " · ".join(f"{c.emoji} {c.label}: {stats.counts.get(c.key, 0)}" for c in fmt.categories)
    blocks: list[Block] = [
        mrkdwn(
            f":checkered_flag: *{escape(retro.title)}* is closed. "
            f"{stats.responded} of {stats.invited} people answered; smoothness {rating}."
        ),
        mrkdwn(counts),
        ContextBlock(
            elements=[MarkdownTextObject(text="The full report, `retrospective.md`, is in the channel.")]
        ),
    ]
    return Message(text=f"{escape(retro.title)} is closed.", blocks=dicts(blocks))


def cancelled_text(*, retro: Retro) -> str:
    return (
        f":no_entry_sign: {mention(retro.facilitator_id)} cancelled *{escape(retro.title)}*: "
        f"{escape(retro.cancel_reason or '')}"
    )


def cancelled_reply_text(*, retro: Retro) -> str:
    """`/retro cancel`'s answer to the facilitator."""
    return f"*{escape(retro.title)}* is cancelled. The reason is on record."


def may_close(*, retro: Retro, mrkdwn: bool = True) -> str:
    """Ends "Only the facilitator, @them, …" (`mrkdwn=False`: plain, for a modal)."""
    return f"can close *{escape(retro.title)}*" if mrkdwn else f"can close {retro.title}"


def may_cancel(*, retro: Retro) -> str:
    """Ends "Only the facilitator, @them, …"."""
    return f"can cancel *{escape(retro.title)}*"


def was_cancelled_text(*, retro: Retro, mrkdwn: bool = True) -> str:
    """`mrkdwn=False`: plain, for the close modal's inline error."""
    title = f"*{escape(retro.title)}*" if mrkdwn else retro.title
    return f"{title} was cancelled. Start the next one with `/retro new`."


def already_closed_text(*, retro: Retro, mrkdwn: bool = True) -> str:
    """`mrkdwn=False`: plain, for the close modal's inline error."""
    title = f"*{escape(retro.title)}*" if mrkdwn else retro.title
    return (
        f"{title} is already closed and its report is in the channel. Start the next one with `/retro new`."
    )


def publishing_again_text() -> str:
    """`/retro close` on a retro that closed but whose report did not get out."""
    return "Publishing the report again…"


def report_requested_text(*, retro: Retro) -> str:
    """`/retro report`'s answer while the upload is queued."""
    return f"Uploading the report of *{escape(retro.title)}*…"


def export_requested_text(*, retro: Retro, fmt: str) -> str:
    """`/retro export`'s answer while the files are made."""
    what = "one JSON file" if fmt == "json" else "four CSV files (items, votes, comments, action items)"
    return f"Exporting *{escape(retro.title)}* as {what}: they will arrive in a DM from me."


def export_comment(*, retro: Retro, filename: str) -> str:
    return f"Export of *{escape(retro.title)}*: `{escape(filename)}`"


def export_what(*, retro: Retro) -> str:
    """What a failed export upload tells the person it could not deliver."""
    return f"the export of *{escape(retro.title)}* (run `/retro export` again to retry)"


def report_title(*, retro: Retro) -> str:
    """The title of the uploaded retrospective.md (plain text)."""
    return f"Retrospective: {retro.title}"


def report_what(*, retro: Retro) -> str:
    """What a failed report upload tells the facilitator it could not deliver."""
    return f"the report of *{escape(retro.title)}* (run `/retro close` again to retry)"


def summary_what(*, channel_id: str) -> str:
    """What a failed stakeholder summary tells the facilitator it could not deliver."""
    return f"the summary for <#{channel_id}> (invite me there with `/invite @Rearview`)"


def report_comment(*, retro: Retro) -> str:
    return f"Report for the retrospective *{escape(retro.title)}*, facilitated by {mention(retro.facilitator_id)}."


def close_modal(*, retro: Retro) -> dict[str, Any]:
    return modal(
        title="Close the retro",
        callback_id=CLOSE_CALLBACK,
        submit="Close and publish",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=[
            mrkdwn(
                f"Closing *{escape(retro.title)}* posts a summary in its thread and uploads `retrospective.md` "
                f"to {channel_link(retro.channel_id)}."
            ),
            InputBlock(
                block_id=STAKEHOLDER_BLOCK,
                label="Also share a short summary with",
                optional=True,
                element=ConversationSelectElement(
                    action_id=VALUE_ACTION,
                    placeholder="A stakeholder channel (optional)",
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
                hint="Highlights, key learnings, top improvements and a link to the full report. Invite me there first.",
            ),
        ],
    )


def stakeholder_summary(
    *,
    retro: Retro,
    stats: RetroStats,
    highlights: Sequence[str],
    learnings: Sequence[str],
    improvements: Sequence[str],
) -> Message:
    def bullets(lines: Sequence[str], empty: str) -> str:
        return "\n".join(f"• {escape(clip(line, 300))}" for line in lines[:5]) or f"_{empty}_"

    rating = f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings"
    link = (
        f"<{retro.report_url}|the full report>"
        if retro.report_url
        else f"the full report in {channel_link(retro.channel_id)}"
    )
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retro summary: {retro.title}", 150)),
        mrkdwn(
            f"{stats.responded} of {stats.invited} people took part · smoothness {rating} · "
            f"facilitated by {mention(retro.facilitator_id)}"
        ),
        mrkdwn("*Highlights*\n" + bullets(highlights, "none recorded")),
        mrkdwn("*Key learnings*\n" + bullets(learnings, "none recorded")),
        mrkdwn("*Top improvements*\n" + bullets(improvements, "none voted on")),
        ContextBlock(elements=[MarkdownTextObject(text=f"Details, votes and action items: {link}.")]),
    ]
    return Message(text=f"Retro summary: {escape(retro.title)}", blocks=dicts(blocks))
