"""retrospective.md from the Jinja2 template."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import RetroStats
from messages.report import ReportData, md_escape, render_report
from storage.models import Item, Participant
from tests.unit.test_blocks import make_retro

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_md_escape_keeps_user_text_literal_and_on_one_line() -> None:
    assert md_escape("# [x](http://y) <b>\n| *z*") == r"\# \[x\](http://y) \<b\> \| \*z\*"


def test_report_lists_everything_by_category() -> None:
    retro = make_retro(phase="closed", closed_at=NOW)
    people = [
        Participant(
            team_id="T1", retro_id=7, user_id="UFAC", display_name="alice", responded_at=NOW, smoothness=9
        ),
        Participant(team_id="T1", retro_id=7, user_id="U2", display_name="bob", surprise="Nothing broke"),
    ]
    items = [
        Item(
            team_id="T1",
            retro_id=7,
            category="went_wrong",
            text="Pager | noise",
            source="survey",
            created_at=NOW,
        ),
        Item(
            team_id="T1",
            retro_id=7,
            category="went_well",
            text="Fast review",
            source="survey",
            created_at=NOW,
        ),
    ]
    stats = RetroStats(
        invited=2, responded=1, counts={"went_well": 1, "went_wrong": 1}, average_smoothness=9.0
    )
    report = render_report(
        ReportData(retro=retro, participants=people, items=items, action_items=[], stats=stats)
    )
    assert report.startswith("# Retrospective: Release 2.4\n")
    assert "| Facilitator | alice |" in report
    assert "| Responses | 1 of 2 (50%) |" in report
    assert "| Smoothness | 9.0/10 from 1 rating |" in report
    well = report.index("## What went well")
    wrong = report.index("## What went wrong")
    improve = report.index("## What to improve")
    assert well < report.index("- Fast review") < wrong < report.index(r"- Pager \| noise") < improve
    assert "_No items._" in report[improve:]
    assert "- Nothing broke" in report
    assert "- alice (answered)" in report and "- bob (did not answer)" in report
