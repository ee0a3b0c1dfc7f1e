"""Text helpers: the one escaping function for user text in mrkdwn, dates, and clipping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def escape(text: str) -> str:
    """Neutralise mrkdwn control characters so user text cannot ping `<!channel>` or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters, marking the cut, for Block Kit fields with hard limits."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_date(moment: datetime, template: str = "{date_short_pretty} at {time}") -> str:
    """A date that Slack renders in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{template}|{fallback}>"


def time_left(deadline: datetime, now: datetime) -> str:
    remaining = deadline - now
    if remaining <= timedelta(0):
        return "the deadline has passed"
    minutes = int(remaining.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    if hours:
        parts.append(f"{hours} hour{'s' * (hours != 1)}")
    if not days and minutes:
        parts.append(f"{minutes} minute{'s' * (minutes != 1)}")
    return (" ".join(parts) or "less than a minute") + " left"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def owner_label(action_item: Any) -> str:
    """An action item's owner as mrkdwn: the person, or their team with them as its point person."""
    if action_item.owner_group_id:
        return f"<!subteam^{action_item.owner_group_id}> (point: {mention(action_item.owner_id)})"
    return mention(action_item.owner_id)


def owner_plain(action_item: Any) -> str:
    """The same as plain text (reports, exports): "@platform-team (point: nina)"."""
    person = action_item.owner_name or action_item.owner_id
    if action_item.owner_group_id:
        return f"@{action_item.owner_group_handle or action_item.owner_group_id} (point: {person})"
    return str(person)


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def split_lines(text: str | None) -> list[str]:
    """One item per non-blank line; bullets people paste out of habit are dropped."""
    if not text:
        return []
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line[:2] in ("- ", "* ", "• "):
            line = line[2:].strip()
        if line:
            lines.append(line)
    return lines


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def open_failed_text(*, error: str) -> str:
    """A modal that could not open: Slack's trigger id lives 3 s, so the person must click again."""
    return f"Sorry, Slack didn't open that form (`{escape(error)}`). Please try again."
