"""Escalation: `/retro escalate`'s answers, the weekly digest in the escalation channel, and the notices to
the owner and facilitator of an escalated action item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject

from messages.common import Message, dicts, mrkdwn
from messages.text import channel_link, clip, escape, owner_label, plural, slack_date
from storage.models import Escalation, Retro

if TYPE_CHECKING:
    from bot.services.escalations import Digest, EscalationChange, Overdue

USAGE = (
    "Use `/retro escalate #channel [days]` to send this channel's action items that are more than that many "
    "days overdue (7 if you leave it out) and its recurring problems to #channel every Monday, "
    "`/retro escalate off` to stop, or `/retro escalate` to see the setting."
)
MAX_LISTED = 20  # per section: a digest stays readable and within Slack's 50 blocks


def bad_days_text(*, most: int) -> str:
    return f"The number of days must be a whole number from 1 to {most}, as in `/retro escalate #board 14`."


def same_channel_text() -> str:
    return "Escalations go to another channel, such as a release advisory board's: name that one."


def change_text(change: EscalationChange) -> str:
    escalation = change.escalation
    if escalation is None:
        if change.changed:
            return f"Nothing from {channel_link(change.channel_id)} is escalated any more."
        return "Nothing from this channel is escalated. " + USAGE
    lead = "From now on, action" if change.changed else "Action"
    return (
        f"{lead} items from {channel_link(escalation.channel_id)} more than "
        f"{plural(escalation.overdue_days, 'day')} overdue, and problems raised in 3 or more of its last "
        f"retros, go to {channel_link(escalation.target_channel_id)} every Monday at 09:00 "
        f"({escape(escalation.tz)}); the next digest: {slack_date(escalation.next_at)}. Each item's owner and "
        "facilitator are told when it is escalated. (Invite me to that channel if I'm not in it.)"
    )


def _retro_link(retro: Retro) -> str:
    url = retro.report_url or retro.kickoff_permalink
    title = escape(clip(retro.title, 80))
    return f"<{url}|{title}>" if url else f"_{title}_"


def _overdue_line(item: Overdue) -> str:
    action = item.action_item
    return (
        f"• {escape(clip(action.text, 200))}: {owner_label(action)}, from {_retro_link(item.retro)}, "
        f"*{plural(item.days_late, 'day')} late* ({escape(action.priority)} priority)"
    )


def digest_message(digest: Digest) -> Message:
    escalation = digest.escalation
    blocks: list[Block] = [
        HeaderBlock(text="Escalated from the team's retros"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"From {channel_link(escalation.channel_id)}: action items more than "
                    f"{plural(escalation.overdue_days, 'day')} overdue, and problems raised in 3 or more of "
                    f"its last {digest.window} retros."
                )
            ]
        ),
    ]
    if digest.overdue:
        lines = [_overdue_line(item) for item in digest.overdue[:MAX_LISTED]]
        if len(digest.overdue) > MAX_LISTED:
            lines.append(f"…and {len(digest.overdue) - MAX_LISTED} more.")
        blocks.append(
            mrkdwn(clip(f"*Overdue action items ({len(digest.overdue)})*\n" + "\n".join(lines), 3000))
        )
    if digest.recurring:
        lines = [
            f"• “{escape(clip(r.item.text, 200))}”: raised in {r.raised_in} of the last {r.window} retros"
            for r in digest.recurring[:MAX_LISTED]
        ]
        if len(digest.recurring) > MAX_LISTED:
            lines.append(f"…and {len(digest.recurring) - MAX_LISTED} more.")
        blocks.append(
            mrkdwn(clip(f"*Recurring problems ({len(digest.recurring)})*\n" + "\n".join(lines), 3000))
        )
    text = (
        f"Escalated from {channel_link(escalation.channel_id)}: "
        f"{plural(len(digest.overdue), 'overdue action item')}, {plural(len(digest.recurring), 'recurring problem')}"
    )
    return Message(text=text, blocks=dicts(blocks))


def digest_what(escalation: Escalation) -> str:
    return f"the weekly escalation digest for {channel_link(escalation.target_channel_id)}"


def escalated_text(*, item: Overdue, escalation: Escalation, owner: bool) -> str:
    action = item.action_item
    whose = "Your action item" if owner else f"{owner_label(action)}'s action item"
    return (
        f":rotating_light: {whose} from {_retro_link(item.retro)} is {plural(item.days_late, 'day')} overdue and "
        f"was escalated to {channel_link(escalation.target_channel_id)}:\n>{escape(clip(action.text, 500))}\n"
        "Mark it done, change its due date or say you can't do it from the Home tab."
    )
