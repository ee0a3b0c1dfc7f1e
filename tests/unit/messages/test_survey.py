"""The survey: the invitation, the modal (a field per category, prefills, anonymity) and the thanks."""

from __future__ import annotations

import json

import pytest

from bot.domain import FORMATS, custom_field
from messages import survey
from tests.blockkit import (
    assert_valid_message,
    assert_valid_view,
    blocks_by_id,
    buttons,
    input_blocks,
    mrkdwn_text,
    options,
)
from tests.factories import make_retro
from tests.unit.messages.samples import DEADLINE, ESCAPED_EVIL, EVIL, ITEM_BUTTONS, assert_escaped


def test_survey_invite() -> None:
    message = survey.survey_invite_message(retro=make_retro(None, title=EVIL))
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


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_survey_modal_has_a_field_per_category_and_prefills(fmt: str) -> None:
    retro = make_retro(None, format=fmt, title=EVIL, custom_questions=["Was the <checklist> useful?"])
    categories = FORMATS[fmt].categories
    first = categories[0].key
    view = survey.survey_modal(
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
        ("kudos_to", "Shout-out to…"),
        ("kudos_text", "What for?"),
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
    view = survey.survey_modal(retro=make_retro(None), answers={}, smoothness=None, surprise=None)
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
    view = survey.survey_modal(
        retro=make_retro(None, anonymity=anonymity), answers={}, smoothness=None, surprise=None
    )
    assert "anonymous" not in blocks_by_id(view["blocks"])
    assert view["blocks"][-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]}


def test_survey_modal_survives_a_huge_saved_answer() -> None:
    saved = ["x" * 999] * 10
    view = survey.survey_modal(
        retro=make_retro(None), answers={"went_well": saved}, smoothness=None, surprise=None
    )
    assert_valid_view(view)
    element = blocks_by_id(view["blocks"])["cat_went_well"]["element"]
    # The saved lines, cut at the field's 3000-character limit.
    assert element["max_length"] == 3000
    assert element["initial_value"] == "\n".join(saved)[:3000]
    assert element["initial_value"].startswith("x" * 999 + "\n" + "x" * 999 + "\n")


def test_thanks_modal_counts_the_items_and_escapes_the_title() -> None:
    view = survey.survey_thanks_modal(retro=make_retro(None, title=EVIL), item_count=3, smoothness=None)
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
        survey.survey_thanks_modal(retro=make_retro(None), item_count=1, smoothness=7, anonymous=True)
    )
    assert "are saved: 1 item and rated it 7/10. They are stored anonymously. You can open" in rated


def test_the_survey_fields_map_to_its_blocks() -> None:
    assert survey.FIELDS["went_well"] == survey.survey_block_id("went_well") == "cat_went_well"
    assert survey.FIELDS["smoothness"] == survey.SURVEY_SMOOTHNESS_BLOCK
    assert survey.FIELDS[custom_field(2)] == survey.custom_block_id(2)
    assert survey.ERROR_FIELD in survey.FIELDS
