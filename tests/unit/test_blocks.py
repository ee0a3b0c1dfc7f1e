"""Every Block Kit builder: valid for Slack, escaped, within limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import FORMATS, RetroStats
from messages import blocks
from messages.text import escape, split_lines, time_left
from storage.models import Retro
from tests.unit.blockkit import all_text, assert_valid_message, assert_valid_view, mrkdwn_text

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
EVIL = "<!channel> deploy was <https://evil.example|fine> & <@U999>"


def make_retro(**overrides: object) -> Retro:
    fields: dict[str, object] = {
        "id": 7,
        "team_id": "T1",
        "channel_id": "C1",
        "facilitator_id": "UFAC",
        "title": "Release 2.4",
        "format": "well_wrong_improve",
        "phase": "collecting",
        "deadline": NOW + timedelta(days=2),
        "created_at": NOW,
        "kickoff_permalink": "https://acme.slack.com/archives/C1/p1",
    }
    fields.update(overrides)
    return Retro(**fields)


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape(EVIL) == "&lt;!channel&gt; deploy was &lt;https://evil.example|fine&gt; &amp; &lt;@U999&gt;"


def test_split_lines_drops_blanks_and_bullets() -> None:
    assert split_lines("  - first\n\n* second\n   \nthird  ") == ["first", "second", "third"]
    assert split_lines(None) == []


def test_time_left() -> None:
    assert time_left(NOW + timedelta(days=2, hours=3), NOW) == "2 days 3 hours left"
    assert time_left(NOW + timedelta(minutes=42), NOW) == "42 minutes left"
    assert time_left(NOW - timedelta(minutes=1), NOW) == "the deadline has passed"


def test_new_retro_modal_prefills_title_and_offers_every_format() -> None:
    view = blocks.new_retro_modal(channel_id="C1", title="Sprint 12", now=NOW)
    assert_valid_view(view)
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["title"]["element"]["initial_value"] == "Sprint 12"
    assert [o["value"] for o in by_id["anonymity"]["element"]["options"]] == [
        "optional",
        "named",
        "anonymous",
    ]
    assert by_id["turn_hours"]["element"]["initial_option"]["value"] == "4"
    assert by_id["votes_per_person"]["element"]["initial_option"]["value"] == "3"
    assert [o["value"] for o in by_id["round_robin_scope"]["element"]["options"]] == [
        "everyone",
        "respondents",
    ]
    for block_id in blocks.RELEASE_BLOCKS.values():
        assert by_id[block_id]["optional"] is True
    assert by_id["participants"]["optional"] is True
    assert by_id["deadline"]["element"]["initial_date_time"] > NOW.timestamp()
    assert [o["value"] for o in by_id["format"]["element"]["options"]] == list(FORMATS)
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}


def test_new_retro_modal_clips_an_overlong_command_title() -> None:
    view = blocks.new_retro_modal(channel_id="C1", title="x" * 500, now=NOW)
    assert_valid_view(view)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_kickoff_escapes_the_title_and_lists_the_format(fmt: str) -> None:
    retro = make_retro(title=EVIL, format=fmt)
    message = blocks.kickoff_message(retro=retro, participant_ids=["U1", "U2"])
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks) + message.text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert "<@U1> <@U2>" in text
    for category in FORMATS[fmt].categories:
        assert category.label in text


def test_kickoff_caps_the_participant_list() -> None:
    message = blocks.kickoff_message(retro=make_retro(), participant_ids=[f"U{n:04d}" for n in range(300)])
    assert_valid_message(message.blocks)
    assert "and 260 more" in all_text(message.blocks)


def test_survey_invite() -> None:
    message = blocks.survey_invite_message(retro=make_retro(title=EVIL))
    assert_valid_message(message.blocks)
    assert "<!channel>" not in mrkdwn_text(message.blocks) + message.text
    assert "survey_open" in json.dumps(message.blocks)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_survey_modal_has_a_field_per_category_and_prefills(fmt: str) -> None:
    retro = make_retro(format=fmt)
    first = FORMATS[fmt].categories[0].key
    view = blocks.survey_modal(retro=retro, answers={first: ["a", "b"]}, smoothness=7, surprise="wow")
    assert_valid_view(view)
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    for category in FORMATS[fmt].categories:
        assert f"cat_{category.key}" in by_id
    assert by_id[f"cat_{first}"]["element"]["initial_value"] == "a\nb"
    assert by_id["smoothness"]["element"]["initial_option"]["value"] == "7"
    assert len(by_id["smoothness"]["element"]["options"]) == 10
    assert by_id["surprise"]["element"]["initial_value"] == "wow"


def test_survey_modal_survives_a_huge_saved_answer() -> None:
    answers = {"went_well": ["x" * 999] * 10}
    assert_valid_view(
        blocks.survey_modal(retro=make_retro(), answers=answers, smoothness=None, surprise=None)
    )


def test_thanks_and_notice_modals() -> None:
    assert_valid_view(blocks.survey_thanks_modal(retro=make_retro(title=EVIL), item_count=3, smoothness=None))
    view = blocks.notice_modal(title="Retro closed", text="*" + escape(EVIL) + "*")
    assert_valid_view(view)
    assert "<!channel>" not in mrkdwn_text(view)


def test_status_message() -> None:
    stats = RetroStats(
        invited=4, responded=3, counts={"went_well": 2, "went_wrong": 1}, average_smoothness=6.5
    )
    message = blocks.status_message(retro=make_retro(title=EVIL), stats=stats, now=NOW)
    assert_valid_message(message.blocks)
    text = all_text(message.blocks)
    assert "3 of 4" in text and "6.5/10" in text and "What to improve: *0*" in text
    assert "<!channel>" not in mrkdwn_text(message.blocks) + message.text


def test_usage_echoes_an_unknown_subcommand_escaped() -> None:
    message = blocks.usage_message(unknown="<!here>")
    assert_valid_message(message.blocks)
    assert "&lt;!here&gt;" in message.text
    assert "/retro new" in message.text


def test_close_summary_and_notices() -> None:
    stats = RetroStats(invited=2, responded=0, counts={}, average_smoothness=None)
    assert_valid_message(blocks.close_summary_message(retro=make_retro(title=EVIL), stats=stats).blocks)
    for text in (
        blocks.already_open_text(retro=make_retro(title=EVIL)),
        blocks.report_comment(retro=make_retro(title=EVIL)),
        blocks.publish_failed_text(retro=make_retro(title=EVIL), error="<boom>"),
        blocks.start_report_text(
            retro=make_retro(title=EVIL), invited=["U1"], failed=[("U2", "user_not_found")]
        ),
    ):
        assert "<!channel>" not in text and "<boom>" not in text
    assert "https://acme.slack.com/archives/C1/p1" in blocks.already_open_text(retro=make_retro())
