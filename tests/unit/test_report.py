"""retrospective.md from the Jinja2 template."""

from __future__ import annotations

from datetime import date
from typing import Unpack

from bot.domain import RetroStats
from messages.report import ReportData, md_escape, render_report
from storage.models import Participant, Response
from tests.factories import NOW, RetroFields, make_item, make_retro


def report_for(**retro_fields: Unpack[RetroFields]) -> str:
    fields: RetroFields = {"phase": "completed", "closed_at": NOW}
    fields.update(retro_fields)
    retro = make_retro(None, **fields)
    people = [
        Participant(team_id="T1", retro_id=7, user_id="UFAC", display_name="alice", responded_at=NOW),
        Participant(team_id="T1", retro_id=7, user_id="U2", display_name="bob"),
    ]
    responses = [
        Response(team_id="T1", retro_id=7, author_id="UFAC", smoothness=9, answers=["Yes, mostly"]),
        Response(team_id="T1", retro_id=7, author_hash="ab" * 32, surprise="Nothing broke", answers=[None]),
    ]
    items = [
        make_item(None, category="went_wrong", text="Pager | noise"),
        make_item(None, text="Fast review"),
    ]
    stats = RetroStats(
        invited=2, responded=1, counts={"went_well": 1, "went_wrong": 1}, average_smoothness=9.0
    )
    return render_report(
        ReportData(
            retro=retro, participants=people, responses=responses, items=items, action_items=[], stats=stats
        )
    )


def test_md_escape_keeps_user_text_literal_and_on_one_line() -> None:
    assert md_escape("# [x](http://y) <b>\n| *z*") == r"\# \[x\](http://y) \<b\> \| \*z\*"


def test_report_lists_everything_by_category() -> None:
    report = report_for(custom_questions=["Was the checklist useful?"])
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
    question = report.index("## Was the checklist useful?")
    assert report.index("- Yes, mostly") > question


def test_missing_release_data_is_shown_as_missing_and_listed_as_gaps() -> None:
    report = report_for(release_version="2.4.0", deploy_date=date(2026, 11, 20), incidents="None")
    assert "| Version | 2.4.0 |" in report
    assert "| Deploy date | 2026-11-20 |" in report
    assert "| Rollbacks | _missing_ |" in report
    assert "Gaps: Scope, Rollbacks, Hotfixes, Notes and metrics not recorded." in report


def test_no_release_details_at_all() -> None:
    report = report_for()
    assert "_No release details were given._" in report
    assert "Gaps: Version, Deploy date, Scope, Incidents, Rollbacks, Hotfixes, Notes and metrics" in report


def test_the_release_comes_first() -> None:
    report = report_for(release_version="2.4.0")
    assert report.index("## The release") < report.index("| Facilitator |") < report.index("## Participants")


def test_survey_answers_and_surprises_are_listed_by_text_whatever_order_the_responses_come_in() -> None:
    """Issue 12: responses have random ids, so their stored order is random; the report lists them by text."""
    retro = make_retro(None, phase="completed", closed_at=NOW, custom_questions=["Ship on Fridays?"])
    texts = ["zebra", "Apple", "mango"]
    rendered = set()
    for order in (texts, texts[::-1], texts[1:] + texts[:1]):
        responses = [
            Response(team_id="T1", retro_id=7, author_hash=f"{n:064x}", surprise=t, answers=[f"{t}!"])
            for n, t in enumerate(order)
        ]
        rendered.add(
            render_report(
                ReportData(
                    retro=retro,
                    participants=[],
                    responses=responses,
                    items=[],
                    action_items=[],
                    stats=RetroStats(invited=3, responded=3, counts={}, average_smoothness=None),
                )
            )
        )
    (report,) = rendered
    assert report.index("- Apple\n") < report.index("- mango\n") < report.index("- zebra\n")
    assert report.index("- Apple!") < report.index("- mango!") < report.index("- zebra!")
