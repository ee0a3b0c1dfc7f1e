"""Exports: CSV that round-trips through Python's `csv` and never runs in a spreadsheet, JSON that loads back
equal, anonymous items and comments without an author, and only the retro's own workspace."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from bot.services.exports import Cell, Table, csv_text, export_files, export_tables, json_text, safe_cell
from storage.models import ActionItem, Comment, Participant, Retro, Vote
from tests.factories import NOW, make_item, make_retro

NASTY = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", '"quoted", with comma', "a\r\nb", "\t=x"]
    ),
)
CELLS = st.one_of(st.none(), st.integers(min_value=-(10**9), max_value=10**9), NASTY)


def _read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS), max_size=8))
def test_csv_round_trips_through_pythons_csv(rows: list[tuple[Cell, ...]]) -> None:
    table = Table("t", ("a", "b", "c"), rows)
    read = _read_back(csv_text(table))
    assert read[0] == ["a", "b", "c"]
    assert read[1:] == [["" if cell is None else str(safe_cell(cell)) for cell in row] for row in rows]
    for row in read[1:]:
        for cell in row:  # nothing a spreadsheet would run as a formula
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("-").isdigit()


def test_a_formula_becomes_text_and_a_number_stays_a_number() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@me") == "'@me"
    assert safe_cell("plain") == "plain"
    assert safe_cell(-3) == -3


def _retro_with_everything(engine: Engine) -> int:
    with Session(engine) as session:
        retro = make_retro(session, phase="completed", closed_at=NOW + timedelta(days=3))
        session.add(Participant(team_id="T1", retro_id=retro.id, user_id="UBOB", display_name="bob"))
        named = make_item(session, retro_id=retro.id, category="went_wrong", text="=flaky, CI", author_id="UBOB",
                          number=1)  # fmt: skip
        hidden = make_item(session, retro_id=retro.id, category="to_improve", text="Pair more",
                           author_id=None, author_hash="h" * 64, number=2)  # fmt: skip
        session.add(Vote(team_id="T1", retro_id=retro.id, item_id=hidden.id, voter_hash="v1", created_at=NOW))
        session.add(Vote(team_id="T1", retro_id=retro.id, item_id=hidden.id, voter_hash="v2", created_at=NOW))
        session.add(Vote(team_id="T1", retro_id=retro.id, item_id=named.id, voter_hash="v1", created_at=NOW))
        session.add(Comment(team_id="T1", retro_id=retro.id, item_id=named.id, text="Seen it too",
                            author_hash="c" * 64, created_at=NOW))  # fmt: skip
        session.add(ActionItem(team_id="T1", retro_id=retro.id, text="Quarantine flaky tests", owner_id="UBOB",
                               owner_name="bob", due_date=(NOW + timedelta(days=14)).date(), priority="high",
                               source_item_id=named.id, created_at=NOW))  # fmt: skip
        # Another workspace's retro with the same channel: none of it may appear.
        other = make_retro(session, team_id="T2")
        make_item(
            session, team_id="T2", retro_id=other.id, text="Other team's secret", author_id="UX", number=1
        )
        session.commit()
        return retro.id


def test_the_tables_of_a_retro(engine: Engine) -> None:
    retro_id = _retro_with_everything(engine)
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        tables = {t.name: t.records() for t in export_tables(session, retro)}
    assert [(i["number"], i["text"], i["author"], i["author_id"], i["votes"]) for i in tables["items"]] == [
        (1, "=flaky, CI", "bob", "UBOB", 1),
        (2, "Pair more", "anonymous", None, 2),
    ]
    assert tables["items"][0]["category_label"] == "What went wrong"
    assert [(v["item_number"], v["votes"]) for v in tables["votes"]] == [(2, 2), (1, 1)]
    assert [(c["item_number"], c["text"], c["author"], c["author_id"]) for c in tables["comments"]] == [
        (1, "Seen it too", "anonymous", None)
    ]
    (action,) = tables["action_items"]
    assert (action["owner"], action["priority"], action["from_item_number"], action["due_date"]) == (
        "bob",
        "high",
        1,
        (NOW + timedelta(days=14)).date().isoformat(),
    )
    everything = json.dumps(tables)
    assert "Other team's secret" not in everything
    assert "h" * 64 not in everything and "v1" not in everything  # no hash of who wrote or voted


def test_csv_files_and_the_json_file_load_back_equal(engine: Engine) -> None:
    retro_id = _retro_with_everything(engine)
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        tables = export_tables(session, retro)
        csv_files = dict(export_files(session, retro, "csv"))
        (json_file,) = export_files(session, retro, "json")
    assert sorted(csv_files) == [
        f"retro-{retro_id}-{n}.csv" for n in ("action_items", "comments", "items", "votes")
    ]
    items = list(csv.DictReader(io.StringIO(csv_files[f"retro-{retro_id}-items.csv"], newline="")))
    assert [(i["text"], i["author"], i["author_id"]) for i in items] == [
        ("'=flaky, CI", "bob", "UBOB"),
        ("Pair more", "anonymous", ""),
    ]
    name, text = json_file
    assert name == f"retro-{retro_id}.json"
    loaded = json.loads(text)
    assert loaded["retro"]["id"] == retro_id
    for table in tables:
        assert loaded[table.name] == table.records()
    assert loaded == json.loads(json_text(retro, tables))
