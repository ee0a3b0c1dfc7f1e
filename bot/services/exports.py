"""A retro's data for spreadsheets and BI tools: items, votes, comments and action items, as CSV (one table
per file) or as one JSON document. Used by `rearview export` and by `/retro export` (a worker's task).

What is anonymous stays anonymous: an anonymous item or comment has no author, and votes are counts per item
(who voted is never stored, only a keyed hash, which is never exported)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.domain import FORMATS
from messages.text import owner_plain
from storage import action_items as action_item_queries
from storage import discussion as discussion_queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage.models import Retro

FORMAT_NAMES = ("csv", "json")
ANONYMOUS = "anonymous"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a cell gets a
# leading apostrophe, which spreadsheets hide and treat as "this is text".
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | None


@dataclass(frozen=True)
class Table:
    name: str  # the file's name without its extension: items, votes, comments, action_items
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


def _when(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_tables(session: Session, retro: Retro) -> list[Table]:
    """The four tables of one retro, read once each, every query scoped to the retro's workspace."""
    team_id, retro_id = retro.team_id, retro.id
    names = {
        p.user_id: p.display_name or p.user_id
        for p in retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
    }
    fmt = FORMATS.get(retro.format)
    labels = {c.key: c.label for c in fmt.categories} if fmt else {}
    items = item_queries.items(session, team_id=team_id, retro_id=retro_id)
    numbers = {item.id: item.number for item in items}
    votes = discussion_queries.vote_counts(session, team_id=team_id, retro_id=retro_id)

    def author(author_id: str | None) -> tuple[str, str | None]:
        if author_id is None:
            return ANONYMOUS, None
        return names.get(author_id, author_id), author_id

    item_rows: list[tuple[Cell, ...]] = []
    for item in items:
        name, user_id = author(item.author_id)
        item_rows.append(
            (
                item.number,
                item.category,
                labels.get(item.category, item.category),
                item.text,
                name,
                user_id,
                votes.get(item.id, 0),
                item.root_cause,
                item.source,
                _when(item.created_at),
            )
        )
    vote_rows: list[tuple[Cell, ...]] = [
        (item.number, item.text, votes[item.id])
        for item in sorted(items, key=lambda i: (-votes.get(i.id, 0), i.number or 0))
        if votes.get(item.id)
    ]
    comment_rows: list[tuple[Cell, ...]] = []
    for comment in discussion_queries.comments(session, team_id=team_id, retro_id=retro_id):
        name, user_id = author(comment.author_id)
        comment_rows.append(
            (numbers.get(comment.item_id), comment.text, name, user_id, _when(comment.created_at))
        )
    action_rows: list[tuple[Cell, ...]] = [
        (
            action.id,
            action.text,
            owner_plain(action),
            action.owner_id,
            _when(action.due_date),
            action.priority,
            action.status,
            action.link,
            numbers.get(action.source_item_id) if action.source_item_id is not None else None,
            _when(action.created_at),
            _when(action.closed_at),
            action.status_note,
        )
        for action in action_item_queries.of_retros(session, team_id=team_id, retro_ids=[retro_id])[retro_id]
    ]
    return [
        Table(
            "items",
            (
                "number",
                "category",
                "category_label",
                "text",
                "author",
                "author_id",
                "votes",
                "root_cause",
                "source",
                "created_at",
            ),
            item_rows,
        ),
        Table("votes", ("item_number", "item_text", "votes"), vote_rows),
        Table("comments", ("item_number", "text", "author", "author_id", "created_at"), comment_rows),
        Table(
            "action_items",
            (
                "id",
                "text",
                "owner",
                "owner_id",
                "due_date",
                "priority",
                "status",
                "link",
                "from_item_number",
                "created_at",
                "closed_at",
                "status_note",
            ),
            action_rows,
        ),
    ]


def safe_cell(value: Cell) -> Cell:
    """A cell a spreadsheet shows as the text it is, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(table: Table) -> str:
    """One table as CSV: a header row, then a row per record (RFC 4180 quoting, "\\r\\n" line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])
    return out.getvalue()


def json_text(retro: Retro, tables: Sequence[Table]) -> str:
    """Every table in one document, with the retro it comes from (values as they are: JSON runs nothing)."""
    document: dict[str, Any] = {
        "retro": {
            "id": retro.id,
            "title": retro.title,
            "channel_id": retro.channel_id,
            "format": retro.format,
            "phase": retro.phase,
            "created_at": _when(retro.created_at),
            "closed_at": _when(retro.closed_at),
            "release_version": retro.release_version,
        },
        **{table.name: table.records() for table in tables},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_files(session: Session, retro: Retro, fmt: str) -> list[tuple[str, str]]:
    """(file name, content) of one retro's export in `fmt` ("csv": four files; "json": one)."""
    tables = export_tables(session, retro)
    stem = f"retro-{retro.id}"
    if fmt == "json":
        return [(f"{stem}.json", json_text(retro, tables))]
    return [(f"{stem}-{table.name}.csv", csv_text(table)) for table in tables]
