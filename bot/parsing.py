"""Reading items out of a message: `+` first category, `-` second, `*` or `>` third, one per line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain import PREFIXES, RetroFormat

_ANON = re.compile(r"^\s*anon(?:ymous(?:ly)?)?\b\s*:?\s*", re.IGNORECASE)


@dataclass
class ParsedReply:
    items: list[tuple[str, str]] = field(default_factory=list)  # (category key, text)
    unclassified: list[str] = field(default_factory=list)
    anonymous: bool = False


def unescape_slack(text: str) -> str:
    """Slack sends message text with &, < and > escaped; store what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_reply(text: str, fmt: RetroFormat) -> ParsedReply:
    parsed = ParsedReply()
    body = unescape_slack(text)
    marker = _ANON.match(body)
    if marker:
        parsed.anonymous = True
        body = body[marker.end() :]
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        position = PREFIXES.get(line[0])
        content = line[1:].strip()
        if position is not None and position < len(fmt.categories) and content:
            parsed.items.append((fmt.categories[position].key, content))
        elif position is None:
            parsed.unclassified.append(line)
    return parsed
