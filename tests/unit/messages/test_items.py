"""The item modal and *My items*."""

from __future__ import annotations

import json

from messages import items
from tests.blockkit import assert_valid_view, blocks_by_id, buttons, input_blocks, mrkdwn_text, options
from tests.factories import make_item, make_retro
from tests.unit.messages.samples import ESCAPED_EVIL, EVIL, assert_escaped


def test_add_item_modal_offers_the_categories_and_the_anonymity_choice() -> None:
    view = items.item_modal(retro=make_retro(None, format="start_stop_continue"))
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
    view = items.item_modal(retro=make_retro(None), item=item)
    assert_valid_view(view)
    assert (view["title"]["text"], view["submit"]["text"]) == ("Edit item", "Save")
    assert json.loads(view["private_metadata"]) == {"retro_id": 7, "item_id": 42}
    by_id = blocks_by_id(view["blocks"])
    assert by_id["item_category"]["element"]["initial_option"]["value"] == "went_wrong"
    assert by_id["item_text"]["element"]["initial_value"] == EVIL
    assert "anonymous" not in by_id  # an item keeps the author it was saved with


def test_my_items_lists_escaped_items_with_edit_and_delete() -> None:
    mine = [
        make_item(None, id=1, text=EVIL),
        make_item(None, id=2, category="to_improve", text="Pairing", author_id=None, source="dm"),
    ]
    view = items.my_items_modal(retro=make_retro(None), items=mine, editable=True)
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

    closed = items.my_items_modal(retro=make_retro(None), items=mine, editable=False)
    assert buttons(closed["blocks"]) == []
    assert "Collection is closed." in mrkdwn_text(closed)


def test_the_closed_notice_names_the_facilitator() -> None:
    view = items.closed_notice(retro=make_retro(None, title="Q3 <launch>"))
    assert view["title"]["text"] == "Retro closed"
    assert "Sorry, collection for “Q3 &lt;launch&gt;” closed" in str(view["blocks"])
