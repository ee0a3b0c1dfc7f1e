"""retrospective.md: rendered from a Jinja2 template (Markdown, not mrkdwn)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.domain import FORMATS, RetroMetrics, RetroStats
from messages.new_retro import release_lines
from messages.text import owner_plain

if TYPE_CHECKING:
    from bot.services.recurrence import Recurrence
from storage.models import ActionItem, Item, Kudos, Participant, Response, Retro

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Keep user text literal in Markdown: no headings, links, HTML or broken tables, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


_env = Environment(
    loader=PackageLoader("messages", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # Markdown, not HTML: user text goes through the `md` filter instead  # noqa: S701
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["md"] = md_escape


@dataclass(frozen=True)
class ReportData:
    retro: Retro
    participants: Sequence[Participant]
    responses: Sequence[Response]
    items: Sequence[Item]
    action_items: Sequence[ActionItem]
    stats: RetroStats
    votes: Mapping[int, int] = field(default_factory=dict)  # item id -> votes
    comments: Mapping[int, Sequence[str]] = field(default_factory=dict)  # item id -> round-robin comments
    previous: Retro | None = None
    previous_actions: Sequence[ActionItem] = ()
    history: Sequence[RetroMetrics] = ()  # earlier retros of the channel, then this one
    recurring: Sequence[Recurrence] = ()
    kudos: Sequence[Kudos] = ()


def render_report(data: ReportData) -> str:
    names = {p.user_id: p.display_name or p.user_id for p in data.participants}
    fmt = FORMATS[data.retro.format]
    sections = [
        (category, [item for item in data.items if item.category == category.key])
        for category in fmt.categories
    ]
    ratings = [r.smoothness for r in data.responses if r.smoothness is not None]
    release = release_lines(data.retro)
    questions = [
        (question, _by_text(r.answers[n] for r in data.responses if n < len(r.answers) and r.answers[n]))
        for n, question in enumerate(data.retro.custom_questions)
    ]
    rate = round(100 * data.stats.responded / data.stats.invited) if data.stats.invited else 0
    return _env.get_template("retrospective.md.j2").render(
        retro=data.retro,
        facilitator=next(
            (
                p.display_name
                for p in data.participants
                if p.user_id == data.retro.facilitator_id and p.display_name
            ),
            data.retro.facilitator_id,
        ),
        format=fmt,
        participants=data.participants,
        sections=sections,
        surprises=_by_text(r.surprise for r in data.responses if r.surprise),
        release=release,
        gaps=[label for label, value in release if value is None],
        questions=questions,
        action_items=data.action_items,
        stats=data.stats,
        response_rate=rate,
        ratings=ratings,
        day=_day,
        votes=data.votes,
        previous=data.previous,
        previous_actions=data.previous_actions,
        history=data.history,
        owner=owner_plain,
        roti_history=[m for m in data.history if m.roti_count],
        kudos=[
            (
                names.get(k.to_user_id, k.to_user_id),
                k.text,
                names.get(k.from_user_id, k.from_user_id) if k.from_user_id else "anonymous",
            )
            for k in data.kudos
        ],
        recurring=data.recurring,
        distribution=[ratings.count(n) for n in range(1, 11)],
        percent=_percent,
        vote_note=_vote_note,
        smoothness_note=(
            f"{data.stats.average_smoothness:.1f}/10 from {len(ratings)} rating{'s' if len(ratings) != 1 else ''}"
            if data.stats.average_smoothness is not None
            else "no ratings"
        ),
        comments=data.comments,
    )


def _by_text(texts: Iterable[str]) -> list[str]:
    """Survey answers have no number and random ids (anonymity): listed by their text, a stable order that
    says nothing about who answered when."""
    return sorted(texts, key=lambda t: (t.casefold(), t))


def _vote_note(votes: int) -> str:
    return f" ({votes} vote{'s' if votes != 1 else ''})" if votes else ""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "—"
