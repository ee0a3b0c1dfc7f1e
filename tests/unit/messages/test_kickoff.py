"""The kickoff message: escaped, the format and release shown, the participant list capped."""

from __future__ import annotations

import pytest

from bot.domain import FORMATS
from messages import kickoff
from tests.blockkit import all_text, assert_valid_message, buttons, mrkdwn_text
from tests.factories import make_retro
from tests.unit.messages.samples import DEADLINE, ESCAPED_EVIL, EVIL, assert_escaped


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_kickoff_escapes_the_title_and_lists_the_format(fmt: str) -> None:
    retro = make_retro(None, title=EVIL, format=fmt)
    message = kickoff.kickoff_message(retro=retro, participant_ids=["U1", "U2"])
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
    text = mrkdwn_text(kickoff.kickoff_message(retro=retro, participant_ids=["U1"]).blocks)
    assert "*Version:* 2.4.0\n*Deploy date:* _not given_\n*Scope:* _not given_\n" in text
    assert f"*Incidents:* {ESCAPED_EVIL}\n" in text
    assert f"*Rollbacks:* {'r' * 399}…\n" in text  # clipped to 400 characters


def test_kickoff_caps_the_participant_list() -> None:
    participants = [f"U{n:04d}" for n in range(300)]
    message = kickoff.kickoff_message(retro=make_retro(None), participant_ids=participants)
    assert_valid_message(message.blocks)
    context = message.blocks[-1]["elements"][0]["text"]
    shown = " ".join(f"<@{u}>" for u in participants[:40])
    assert context == f"Participants: {shown} and 260 more"
    assert "<@U0040>" not in all_text(message.blocks)


def test_a_failed_start_names_slacks_error_escaped() -> None:
    assert kickoff.start_failed_text(error="<bad>") == (
        "I couldn't start the retro because Slack answered `&lt;bad&gt;`. Please try `/retro new` again."
    )
