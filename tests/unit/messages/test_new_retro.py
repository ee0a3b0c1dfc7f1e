"""The new-retro modal: valid for Slack, its choices, prefills and block ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain import FORMATS
from messages import new_retro
from tests.blockkit import assert_valid_view, blocks_by_id, input_blocks, options
from tests.factories import NOW
from tests.unit.messages.samples import EVIL


def test_new_retro_modal_prefills_title_and_offers_every_format() -> None:
    view = new_retro.new_retro_modal(channel_id="C1", title="Sprint 12", now=NOW)
    assert_valid_view(view)
    assert view["callback_id"] == "retro_new"
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "New retrospective",
        "Start retro",
        "Cancel",
    )
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}
    # The ids RetroService.draft_from_view reads back; each input's element answers as "value".
    inputs = input_blocks(view)
    assert [(b["block_id"], b["label"]["text"]) for b in inputs] == [
        ("title", "Title"),
        ("participants", "Participants"),
        ("deadline", "Collect answers until"),
        ("format", "Format"),
        ("anonymity", "Anonymity"),
        ("questions", "Extra survey questions"),
        ("round_robin_scope", "Round-robin"),
        ("turn_hours", "Time for each turn"),
        ("votes_per_person", "Votes per person"),
        ("followup_weeks", "Follow up on action items after"),
        ("release_version", "Version"),
        ("release_deploy_date", "Deploy date"),
        ("release_scope", "Scope: what shipped"),
        ("release_incidents", "Incidents"),
        ("release_rollbacks", "Rollbacks"),
        ("release_hotfixes", "Hotfixes"),
        ("release_notes", "Notes and metrics"),
    ]
    assert {b["element"]["action_id"] for b in inputs} == {"value"}
    optional = {b["block_id"] for b in inputs if b.get("optional")}
    assert optional == {"participants", "questions", *new_retro.RELEASE_BLOCKS.values()}

    by_id = blocks_by_id(view["blocks"])
    assert by_id["title"]["element"]["initial_value"] == "Sprint 12"
    assert by_id["title"]["element"]["max_length"] == 150
    assert by_id["participants"]["element"]["type"] == "multi_users_select"
    assert "everyone in this channel (bots are left out)" in by_id["participants"]["hint"]["text"]
    # Three days on, rounded up to the next full hour.
    assert by_id["deadline"]["element"]["initial_date_time"] == int(
        datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp()
    )
    fmt = by_id["format"]["element"]
    assert options(fmt) == [(f.key, f.name) for f in FORMATS.values()]
    assert options(fmt)[:2] == [
        ("well_wrong_improve", "What went well / What went wrong / What to improve"),
        ("start_stop_continue", "Start / Stop / Continue"),
    ]
    assert fmt["initial_option"]["value"] == "well_wrong_improve"
    anonymity = by_id["anonymity"]["element"]
    assert options(anonymity) == [
        ("optional", "Each person chooses (anonymous optional)"),
        ("named", "Named: authors are recorded"),
        ("anonymous", "Always anonymous"),
    ]
    assert anonymity["initial_option"]["value"] == "optional"
    scope = by_id["round_robin_scope"]["element"]
    assert options(scope) == [("everyone", "Everyone invited"), ("respondents", "Only people who answered")]
    assert scope["initial_option"]["value"] == "everyone"
    hours = by_id["turn_hours"]["element"]
    assert options(hours) == [
        ("1", "1 working hour"),
        ("2", "2 working hours"),
        ("4", "4 working hours"),
        ("8", "8 working hours"),
        ("16", "16 working hours"),
    ]
    assert hours["initial_option"]["value"] == "4"
    votes = by_id["votes_per_person"]["element"]
    assert options(votes) == [(str(n), str(n)) for n in range(1, 11)]
    assert votes["initial_option"]["value"] == "3"
    followup = by_id["followup_weeks"]["element"]
    assert options(followup) == [("2", "2 weeks"), ("3", "3 weeks"), ("4", "4 weeks")]
    assert followup["initial_option"]["value"] == "2"
    assert by_id["release_deploy_date"]["element"]["type"] == "datepicker"
    assert by_id["release_version"]["element"]["max_length"] == 100


def test_new_retro_modal_clips_an_overlong_command_title() -> None:
    view = new_retro.new_retro_modal(channel_id="C1", title="x" * 500, now=NOW)
    assert_valid_view(view)
    title = blocks_by_id(view["blocks"])["title"]["element"]
    # Clipped to the 150 characters a title may have, the cut marked, so submitting it as is works.
    assert title["initial_value"] == "x" * 149 + "…"
    assert len(title["initial_value"]) == title["max_length"] == 150


def test_new_retro_modal_keeps_a_typed_title_literal_and_omits_an_empty_one() -> None:
    # plain_text input is never parsed as mrkdwn: escaping it would show "&lt;" in the field.
    view = new_retro.new_retro_modal(channel_id="C1", title=EVIL, now=NOW)
    assert blocks_by_id(view["blocks"])["title"]["element"]["initial_value"] == EVIL
    empty = new_retro.new_retro_modal(channel_id="C1", title="", now=NOW)
    assert "initial_value" not in blocks_by_id(empty["blocks"])["title"]["element"]


def test_every_field_of_the_new_retro_modal_maps_to_one_of_its_blocks() -> None:
    view = new_retro.new_retro_modal(channel_id="C1", title="", now=NOW)
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert set(new_retro.FIELDS.values()) <= block_ids
    assert {"title", "deadline", "format", "questions", "release_version"} <= set(new_retro.FIELDS)
