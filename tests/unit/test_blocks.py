"""Every Block Kit builder: valid for Slack, and what a person sees: texts, choices, prefills, escaping,
limits, and the block and action ids the listeners read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import FORMATS, RetroStats
from messages import blocks
from messages.text import escape, split_lines, time_left
from tests.blockkit import (
    all_text,
    assert_valid_message,
    assert_valid_view,
    blocks_by_id,
    buttons,
    input_blocks,
    mrkdwn_text,
    options,
)
from tests.factories import NOW, make_item, make_retro

EVIL = "<!channel> deploy was <https://evil.example|fine> & <@U999>"
ESCAPED_EVIL = "&lt;!channel&gt; deploy was &lt;https://evil.example|fine&gt; &amp; &lt;@U999&gt;"
# The default retro's deadline (NOW + 2 days) as Slack's date token shows it where it cannot localise.
DEADLINE = "|2026-11-25 09:17 UTC>"
ITEM_BUTTONS = [
    ("survey_open", "7", "Open survey"),
    ("item_add_open", "7", "Add item"),
    ("items_mine", "7", "My items"),
]


def assert_escaped(text: str) -> None:
    """EVIL shows up, once escaped: no ping, no forged link, no mention, and no double escaping."""
    assert ESCAPED_EVIL in text
    for raw in ("<!channel>", "<https://evil", "<@U999>", "fine> & "):
        assert raw not in text
    assert "&amp;lt;" not in text


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape(EVIL) == ESCAPED_EVIL


def test_split_lines_drops_blanks_and_bullets() -> None:
    assert split_lines("  - first\n\n* second\n   \nthird  ") == ["first", "second", "third"]
    assert split_lines(None) == []


def test_time_left() -> None:
    assert time_left(NOW + timedelta(days=2, hours=3), NOW) == "2 days 3 hours left"
    assert time_left(NOW + timedelta(minutes=42), NOW) == "42 minutes left"
    assert time_left(NOW - timedelta(minutes=1), NOW) == "the deadline has passed"


# ---------------------------------------------------------------- new retro


def test_new_retro_modal_prefills_title_and_offers_every_format() -> None:
    view = blocks.new_retro_modal(channel_id="C1", title="Sprint 12", now=NOW)
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
    assert optional == {"participants", "questions", *blocks.RELEASE_BLOCKS.values()}

    by_id = blocks_by_id(view["blocks"])
    assert by_id["title"]["element"]["initial_value"] == "Sprint 12"
    assert by_id["title"]["element"]["max_length"] == 150
    assert by_id["participants"]["element"]["type"] == "multi_users_select"
    assert "everyone in <#C1> (bots are left out)" in by_id["participants"]["hint"]["text"]
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
    view = blocks.new_retro_modal(channel_id="C1", title="x" * 500, now=NOW)
    assert_valid_view(view)
    title = blocks_by_id(view["blocks"])["title"]["element"]
    # Clipped to the 150 characters a title may have, the cut marked, so submitting it as is works.
    assert title["initial_value"] == "x" * 149 + "…"
    assert len(title["initial_value"]) == title["max_length"] == 150


def test_new_retro_modal_keeps_a_typed_title_literal_and_omits_an_empty_one() -> None:
    # plain_text input is never parsed as mrkdwn: escaping it would show "&lt;" in the field.
    view = blocks.new_retro_modal(channel_id="C1", title=EVIL, now=NOW)
    assert blocks_by_id(view["blocks"])["title"]["element"]["initial_value"] == EVIL
    empty = blocks.new_retro_modal(channel_id="C1", title="", now=NOW)
    assert "initial_value" not in blocks_by_id(empty["blocks"])["title"]["element"]


# ---------------------------------------------------------------- kickoff and invitation


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_kickoff_escapes_the_title_and_lists_the_format(fmt: str) -> None:
    retro = make_retro(None, title=EVIL, format=fmt)
    message = blocks.kickoff_message(retro=retro, participant_ids=["U1", "U2"])
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert_escaped(message.text)
    assert message.text.startswith(f"Retrospective started: {ESCAPED_EVIL}. Answers are due <!date^")
    # The header is plain_text, which Slack shows literally: the title as typed, nothing pinged.
    header = message.blocks[0]
    assert (header["type"], header["text"]["type"]) == ("header", "plain_text")
    assert header["text"]["text"] == f"Retrospective: {EVIL}"
    assert "<@UFAC> started an asynchronous retrospective. Answers are collected until *<!date^" in text
    assert DEADLINE in text
    assert "*The Prime Directive*\n>Regardless of what we discover" in text
    assert "_No release details were given._" in text
    categories = FORMATS[fmt].categories
    assert ", ".join(f"{c.emoji} {c.label}" for c in categories) in text
    assert f"`+` {categories[0].label}, `-` {categories[1].label}, `*` or `>` {categories[2].label}" in text
    assert "You can mark survey answers and items as anonymous" in text
    assert "Participants: <@U1> <@U2>" in text
    assert buttons(message.blocks) == [
        ("survey_open", "7", "Fill in the survey"),
        ("item_add_open", "7", "Add item"),
        ("items_mine", "7", "My items"),
    ]


def test_kickoff_shows_the_release_escaped_and_marks_what_is_missing() -> None:
    retro = make_retro(None, release_version="2.4.0", incidents=EVIL, rollbacks="r" * 500)
    text = mrkdwn_text(blocks.kickoff_message(retro=retro, participant_ids=["U1"]).blocks)
    assert "*Version:* 2.4.0\n*Deploy date:* _not given_\n*Scope:* _not given_\n" in text
    assert f"*Incidents:* {ESCAPED_EVIL}\n" in text
    assert f"*Rollbacks:* {'r' * 399}…\n" in text  # clipped to 400 characters


def test_kickoff_caps_the_participant_list() -> None:
    participants = [f"U{n:04d}" for n in range(300)]
    message = blocks.kickoff_message(retro=make_retro(None), participant_ids=participants)
    assert_valid_message(message.blocks)
    context = message.blocks[-1]["elements"][0]["text"]
    shown = " ".join(f"<@{u}>" for u in participants[:40])
    assert context == f"Participants: {shown} and 260 more"
    assert "<@U0040>" not in all_text(message.blocks)


def test_survey_invite() -> None:
    message = blocks.survey_invite_message(retro=make_retro(None, title=EVIL))
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert_escaped(text)
    assert_escaped(message.text)
    assert (
        f"<@UFAC> invited you to the retrospective *{ESCAPED_EVIL}* in <#C1>. Please answer by *<!date^"
        in text
    )
    assert DEADLINE in text
    assert "It takes a few minutes: :white_check_mark: What went well, :x: What went wrong, " in text
    assert "`+` What went well, `-` What went wrong, `*` What to improve." in text
    assert message.text.startswith(
        f"You're invited to the retrospective {ESCAPED_EVIL}: please answer by <!date^"
    )
    assert buttons(message.blocks) == ITEM_BUTTONS


# ---------------------------------------------------------------- survey


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_survey_modal_has_a_field_per_category_and_prefills(fmt: str) -> None:
    retro = make_retro(None, format=fmt, title=EVIL, custom_questions=["Was the <checklist> useful?"])
    categories = FORMATS[fmt].categories
    first = categories[0].key
    view = blocks.survey_modal(
        retro=retro,
        answers={first: ["a", "b <@U1>"]},
        smoothness=7,
        surprise="wow & more",
        custom=["Yes <b>"],
        anonymous=True,
    )
    assert_valid_view(view)
    assert view["callback_id"] == "survey_submit"
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Retro survey",
        "Save answers",
        "Cancel",
    )
    assert json.loads(view["private_metadata"]) == {"retro_id": 7}
    heading = view["blocks"][0]["elements"][0]["text"]
    assert heading.startswith(f"*{ESCAPED_EVIL}* · answers until <!date^")
    assert DEADLINE in heading
    inputs = input_blocks(view)
    assert [(b["block_id"], b["label"]["text"]) for b in inputs] == [
        *((f"cat_{c.key}", c.label) for c in categories),
        ("smoothness", "How smoothly did it go?"),
        ("surprise", "What surprised you?"),
        ("custom_0", "Was the <checklist> useful?"),
        ("anonymous", "Anonymity"),
    ]
    assert {b["element"]["action_id"] for b in inputs} == {"value"}
    assert all(b["optional"] for b in inputs)
    by_id = blocks_by_id(view["blocks"])
    for category in categories:
        element = by_id[f"cat_{category.key}"]["element"]
        assert element["placeholder"]["text"] == category.prompt
        assert element["multiline"] is True
    # Saved answers come back exactly as typed, one per line: plain_text is never escaped.
    assert by_id[f"cat_{first}"]["element"]["initial_value"] == "a\nb <@U1>"
    for category in categories[1:]:
        assert "initial_value" not in by_id[f"cat_{category.key}"]["element"]
    smoothness = by_id["smoothness"]["element"]
    assert options(smoothness) == [
        ("1", "1 – very rough"),
        *((str(n), str(n)) for n in range(2, 5)),
        ("5", "5 – so-so"),
        *((str(n), str(n)) for n in range(6, 10)),
        ("10", "10 – perfectly smooth"),
    ]
    assert (smoothness["initial_option"]["value"], smoothness["initial_option"]["text"]["text"]) == ("7", "7")
    assert by_id["surprise"]["element"]["initial_value"] == "wow & more"
    assert by_id["custom_0"]["element"]["initial_value"] == "Yes <b>"
    anonymous = by_id["anonymous"]["element"]
    assert options(anonymous) == [("anonymous", "Keep my survey answers anonymous")]
    assert [o["value"] for o in anonymous["initial_options"]] == ["anonymous"]


def test_a_blank_survey_prefills_nothing() -> None:
    view = blocks.survey_modal(retro=make_retro(None), answers={}, smoothness=None, surprise=None)
    assert_valid_view(view)
    for block in input_blocks(view):
        element = block["element"]
        assert not {"initial_value", "initial_option", "initial_options"} & set(element), block
    assert "custom_0" not in blocks_by_id(view["blocks"])


@pytest.mark.parametrize(
    ("anonymity", "notice"),
    [
        ("anonymous", ":lock: This retro is anonymous: nobody sees who wrote what."),
        ("named", "This retro is named: your answers are recorded with your name."),
    ],
)
def test_a_survey_without_a_choice_says_how_answers_are_kept(anonymity: str, notice: str) -> None:
    view = blocks.survey_modal(
        retro=make_retro(None, anonymity=anonymity), answers={}, smoothness=None, surprise=None
    )
    assert "anonymous" not in blocks_by_id(view["blocks"])
    assert view["blocks"][-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]}


def test_survey_modal_survives_a_huge_saved_answer() -> None:
    saved = ["x" * 999] * 10
    view = blocks.survey_modal(
        retro=make_retro(None), answers={"went_well": saved}, smoothness=None, surprise=None
    )
    assert_valid_view(view)
    element = blocks_by_id(view["blocks"])["cat_went_well"]["element"]
    # The saved lines, cut at the field's 3000-character limit.
    assert element["max_length"] == 3000
    assert element["initial_value"] == "\n".join(saved)[:3000]
    assert element["initial_value"].startswith("x" * 999 + "\n" + "x" * 999 + "\n")


def test_thanks_modal_counts_the_items_and_escapes_the_title() -> None:
    view = blocks.survey_thanks_modal(retro=make_retro(None, title=EVIL), item_count=3, smoothness=None)
    assert_valid_view(view)
    assert view["title"]["text"] == "Thank you!"
    assert view["close"]["text"] == "Close"
    assert "submit" not in view
    text = mrkdwn_text(view)
    assert_escaped(text)
    assert text.startswith(
        f"Your answers for *{ESCAPED_EVIL}* are saved: 3 items. "
        "You can open the survey again to change them until <!date^"
    )
    assert DEADLINE in text

    rated = mrkdwn_text(
        blocks.survey_thanks_modal(retro=make_retro(None), item_count=1, smoothness=7, anonymous=True)
    )
    assert "are saved: 1 item and rated it 7/10. They are stored anonymously. You can open" in rated


def test_notice_modal_clips_its_title_to_slacks_24_characters() -> None:
    view = blocks.notice_modal(title="Collection closed for this retro", text="*" + escape(EVIL) + "*")
    assert_valid_view(view)
    assert view["title"]["text"] == "Collection closed for t…"
    assert len(view["title"]["text"]) == 24
    assert mrkdwn_text(view) == f"*{ESCAPED_EVIL}*"
    assert blocks.notice_modal(title="Retro closed", text="x")["title"]["text"] == "Retro closed"


# ---------------------------------------------------------------- items


def test_add_item_modal_offers_the_categories_and_the_anonymity_choice() -> None:
    view = blocks.item_modal(retro=make_retro(None, format="start_stop_continue"))
    assert_valid_view(view)
    assert view["callback_id"] == "item_submit"
    assert (view["title"]["text"], view["submit"]["text"]) == ("Add an item", "Add")
    assert json.loads(view["private_metadata"]) == {"retro_id": 7, "item_id": None}
    assert [b["block_id"] for b in input_blocks(view)] == ["item_category", "item_text", "anonymous"]
    by_id = blocks_by_id(view["blocks"])
    category = by_id["item_category"]["element"]
    assert options(category) == [("start", "Start"), ("stop", "Stop"), ("continue", "Continue")]
    assert category["initial_option"]["value"] == "start"
    assert by_id["item_text"]["element"]["max_length"] == 1000
    assert "initial_value" not in by_id["item_text"]["element"]
    assert options(by_id["anonymous"]["element"]) == [("anonymous", "Keep this item anonymous")]
    assert "initial_options" not in by_id["anonymous"]["element"]


def test_edit_item_modal_prefills_the_item_as_typed() -> None:
    item = make_item(None, id=42, category="went_wrong", text=EVIL)
    view = blocks.item_modal(retro=make_retro(None), item=item)
    assert_valid_view(view)
    assert (view["title"]["text"], view["submit"]["text"]) == ("Edit item", "Save")
    assert json.loads(view["private_metadata"]) == {"retro_id": 7, "item_id": 42}
    by_id = blocks_by_id(view["blocks"])
    assert by_id["item_category"]["element"]["initial_option"]["value"] == "went_wrong"
    assert by_id["item_text"]["element"]["initial_value"] == EVIL
    assert "anonymous" not in by_id  # an item keeps the author it was saved with


def test_my_items_lists_escaped_items_with_edit_and_delete() -> None:
    items = [
        make_item(None, id=1, text=EVIL),
        make_item(None, id=2, category="to_improve", text="Pairing", author_id=None, source="dm"),
    ]
    view = blocks.my_items_modal(retro=make_retro(None), items=items, editable=True)
    assert_valid_view(view)
    assert view["callback_id"] == "items_mine_view"
    text = mrkdwn_text(view)
    assert_escaped(text)
    assert f":white_check_mark: What went well\n{ESCAPED_EVIL}" in text
    assert ":bulb: What to improve · _anonymous_\nPairing" in text
    assert "editable until <!date^" in text
    assert buttons(view["blocks"]) == [
        ("item_edit", "1", "Edit"),
        ("item_delete", "1", "Delete"),
        ("item_edit", "2", "Edit"),
        ("item_delete", "2", "Delete"),
    ]
    delete = blocks_by_id(view["blocks"])["item_1"]["elements"][1]
    assert delete["confirm"]["title"]["text"] == "Delete this item?"

    closed = blocks.my_items_modal(retro=make_retro(None), items=items, editable=False)
    assert buttons(closed["blocks"]) == []
    assert "Collection is closed." in mrkdwn_text(closed)


def test_category_picker_carries_the_text_in_its_buttons() -> None:
    message = blocks.category_picker(
        retro=make_retro(None, title=EVIL), text=EVIL, anonymous=True, source="dm"
    )
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert text == f"Which category is this for *{ESCAPED_EVIL}*?\n>{ESCAPED_EVIL}"
    picks = [(action_id, json.loads(value), label) for action_id, value, label in buttons(message.blocks)]
    payload = {"r": 7, "t": EVIL, "a": True, "s": "dm"}
    assert picks == [
        ("item_pick:went_well", {**payload, "c": "went_well"}, "What went well"),
        ("item_pick:went_wrong", {**payload, "c": "went_wrong"}, "What went wrong"),
        ("item_pick:to_improve", {**payload, "c": "to_improve"}, "What to improve"),
    ]


# ---------------------------------------------------------------- status, usage, deadline, close


def test_status_message() -> None:
    stats = RetroStats(
        invited=4, responded=3, counts={"went_well": 2, "went_wrong": 1}, average_smoothness=6.5
    )
    message = blocks.status_message(retro=make_retro(None, title=EVIL), stats=stats, now=NOW)
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert_escaped(text)
    assert_escaped(message.text)
    assert text.startswith(f"*{ESCAPED_EVIL}* · phase: *collecting*\nAnswers until <!date^")
    assert f"{DEADLINE} (2 days left)" in text
    assert "*Responded*\n3 of 4" in text and "*Smoothness*\n6.5/10" in text
    assert (
        "*Items so far* (3)\n:white_check_mark: What went well: *2*\n:x: What went wrong: *1*\n"
        ":bulb: What to improve: *0*"
    ) in text
    assert "Facilitator: <@UFAC>" in text
    assert message.text == f"{ESCAPED_EVIL}: 3 of 4 responded, 3 items."


def test_usage_echoes_an_unknown_subcommand_escaped() -> None:
    message = blocks.usage_message(unknown="<!here>")
    assert_valid_message(message.blocks)
    assert message.text.startswith("I don't know `/retro &lt;!here&gt;`.\n\n*Rearview runs")
    assert "/retro new" in message.text
    assert mrkdwn_text(message.blocks) == message.text
    assert blocks.usage_message().text == blocks.USAGE
    long = blocks.usage_message(unknown="y" * 300).text
    assert long.startswith(f"I don't know `/retro {'y' * 99}…`.")


def test_extend_modal_offers_a_day_past_the_deadline() -> None:
    retro = make_retro(None, title=EVIL)
    view = blocks.extend_modal(retro=retro, now=NOW)
    assert_valid_view(view)
    assert view["callback_id"] == "retro_extend"
    assert json.loads(view["private_metadata"]) == {"retro_id": 7}
    assert_escaped(mrkdwn_text(view))
    (deadline,) = input_blocks(view)
    assert (deadline["block_id"], deadline["element"]["action_id"]) == ("deadline", "value")
    assert deadline["element"]["initial_date_time"] == int((NOW + timedelta(days=3)).timestamp())
    # A deadline already past: a day from now, not a day after the past deadline.
    late = blocks.extend_modal(retro=retro, now=NOW + timedelta(days=5))
    assert input_blocks(late)[0]["element"]["initial_date_time"] == int((NOW + timedelta(days=6)).timestamp())


def test_close_modal_asks_for_an_optional_stakeholder_channel() -> None:
    view = blocks.close_modal(retro=make_retro(None, title=EVIL))
    assert_valid_view(view)
    assert view["callback_id"] == "retro_close"
    assert (view["title"]["text"], view["submit"]["text"]) == ("Close the retro", "Close and publish")
    assert json.loads(view["private_metadata"]) == {"retro_id": 7}
    text = mrkdwn_text(view)
    assert_escaped(text)
    assert text.startswith(f"Closing *{ESCAPED_EVIL}* posts a summary in its thread")
    (channel,) = input_blocks(view)
    assert channel["block_id"] == "stakeholder_channel" and channel["optional"] is True
    assert channel["element"]["type"] == "conversations_select"
    assert channel["element"]["action_id"] == "value"


def test_close_summary_and_notices() -> None:
    stats = RetroStats(invited=2, responded=0, counts={}, average_smoothness=None)
    summary = blocks.close_summary_message(retro=make_retro(None, title=EVIL), stats=stats)
    assert_valid_message(summary.blocks)
    text = mrkdwn_text(summary.blocks)
    assert_escaped(text)
    assert (
        f":checkered_flag: *{ESCAPED_EVIL}* is closed. 0 of 2 people answered; smoothness no ratings." in text
    )
    assert ":white_check_mark: What went well: 0 · :x: What went wrong: 0 · :bulb: What to improve: 0" in text
    assert summary.text == f"{ESCAPED_EVIL} is closed."

    evil = make_retro(None, title=EVIL)
    linked = blocks.already_open_text(
        retro=make_retro(None, title=EVIL, kickoff_permalink="https://acme.slack.com/archives/C1/p1")
    )
    assert linked.startswith(
        f"This channel already has an open retro: <https://acme.slack.com/archives/C1/p1|{ESCAPED_EVIL}>, "
        "run by <@UFAC>. Close it with `/retro close`"
    )
    assert blocks.already_open_text(retro=evil).startswith(
        f"This channel already has an open retro: *{ESCAPED_EVIL}*, run by <@UFAC>."
    )
    assert blocks.report_comment(retro=evil) == (
        f"Report for the retrospective *{ESCAPED_EVIL}*, facilitated by <@UFAC>."
    )
    failed = blocks.publish_failed_text(retro=evil, error="<boom>")
    assert failed.startswith(
        f"*{ESCAPED_EVIL}* is closed, but I couldn't publish its report (`&lt;boom&gt;`)."
    )
    assert "<boom>" not in failed
    started = blocks.start_report_text(retro=evil, invited=["U1"], failed=[("U2", "user_not_found")])
    assert started.splitlines() == [
        f"*{ESCAPED_EVIL}* has started: survey sent to 1 participant.",
        "I could not reach these people, so they got no survey:",
        "• <@U2>: `user_not_found`",
        "They can still answer with the *Fill in the survey* button on the kickoff message.",
    ]
    for text in (linked, failed, started):
        assert_escaped(text)
