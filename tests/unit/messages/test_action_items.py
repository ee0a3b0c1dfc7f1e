"""Action-item builders: what the owner, the facilitator and the channel read, with people's text escaped."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from messages import action_items
from storage.models import ActionItem
from tests.blockkit import assert_valid_message, assert_valid_view, buttons, mrkdwn_text
from tests.factories import NOW, make_item, make_retro

DUE = date(2026, 3, 6)


def _action_item(**overrides: Any) -> ActionItem:
    fields: dict[str, Any] = {
        "id": 5,
        "team_id": "T1",
        "retro_id": 7,
        "text": "Fix <CI> & docs",
        "owner_id": "U2",
        "due_date": DUE,
        "priority": "high",
        "created_at": NOW,
    }
    fields.update(overrides)
    return ActionItem(**fields)


def test_the_owner_is_told_what_why_when_and_where_with_buttons() -> None:
    retro = make_retro(None, title="Release <2.4>")
    source = make_item(None, number=3, text="Slow *review*")
    message = action_items.assigned_message(
        retro=retro, action_item=_action_item(link="https://wiki.example/p"), source=source
    )
    assert_valid_message(message.blocks)
    text = mrkdwn_text(message.blocks)
    assert "from the retro *Release &lt;2.4&gt;* in <#C1>" in text
    assert ">Fix &lt;CI&gt; &amp; docs" in text
    assert "*Why:* #3 Slow *review*" in text
    assert "*Due:* Fri 06 Mar 2026 · *Priority:* :red_circle: High" in text
    assert "*Changes:* <https://wiki.example/p|the procedure>" in text
    assert message.text == "New action item for you: Fix &lt;CI&gt; &amp; docs"
    assert [b[0] for b in buttons(message.blocks)] == [
        action_items.DONE_ACTION,
        action_items.DUE_ACTION,
        action_items.CANT_ACTION,
    ]


def test_the_modals_quote_the_item_and_map_their_fields() -> None:
    retro = make_retro(None)
    view = action_items.new_action_item_modal(
        retro=retro, source=make_item(None, id=4, number=2, text="a <b>"), default_due=DUE
    )
    assert_valid_view(view)
    assert "From *#2* a &lt;b&gt;" in mrkdwn_text(view["blocks"])
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert set(action_items.FIELDS.values()) <= block_ids
    due = action_items.due_modal(action_item=_action_item())
    assert ">Fix &lt;CI&gt; &amp; docs" in mrkdwn_text(due["blocks"])
    assert set(action_items.DUE_FIELDS.values()) <= {b.get("block_id") for b in due["blocks"]}
    cant = action_items.cant_modal(action_item=_action_item())
    assert set(action_items.CANT_FIELDS.values()) <= {b.get("block_id") for b in cant["blocks"]}


def test_progress_texts() -> None:
    assert action_items.status_text(action_item=_action_item(status="done")) == (
        ":white_check_mark: Done: Fix &lt;CI&gt; &amp; docs. Thank you!"
    )
    assert action_items.cannot_do_text(action_item=_action_item(status_note="No <access>"), user_id="U3") == (
        "<@U3> can't do the action item owned by <@U2>:\n>Fix &lt;CI&gt; &amp; docs\n"
        "*Reason:* No &lt;access&gt;\nIt is marked as dropped; create a new one if it still matters."
    )
    assert action_items.not_yours_text(owner_id="U2", facilitator_id="UFAC") == (
        "Only the owner, <@U2>, or the facilitator, <@UFAC>, can change this action item."
    )


def test_what_the_facilitator_hears_when_the_owner_cannot_be_reached() -> None:
    assert action_items.cannot_own_text(action_item=_action_item(), why="they are a bot.") == (
        "<@U2> can't own “Fix &lt;CI&gt; &amp; docs”: they are a bot. Create it again with another owner."
    )
    assert action_items.assigned_what(action_item=_action_item()) == "the action item DM to <@U2>"
    assert action_items.followup_what(retro=make_retro(None)) == "the follow-up in <#C1>"


def test_retro_action_problems_are_escaped_and_followed_by_the_usage() -> None:
    text = action_items.not_created_text(problems=["I can't read “<soon>”.", "Pick an owner."])
    assert text == (
        "I couldn't create that action item: I can't read “&lt;soon&gt;”. Pick an owner.\n"
        + action_items.ACTION_USAGE
    )


def test_listings_title_by_owner_or_channel_and_mark_overdue_items() -> None:
    overdue = _action_item(due_date=DUE - timedelta(days=1))
    mine = action_items.listing_reply(owner_id="U2", channel_id="C1", action_items=[overdue], today=DUE)
    assert mine.text == "Open action items of <@U2>"
    text = mrkdwn_text(mine.blocks)
    assert ":red_circle: Fix &lt;CI&gt; &amp; docs\n<@U2> · due *Thu 05 Mar 2026 (overdue)*" in text
    empty = action_items.listing_reply(owner_id=None, channel_id="C1", action_items=[], today=DUE)
    assert empty.text == "*Open action items in <#C1>*\n_Nothing open. Nice._"


def test_reminders_and_follow_ups_quote_the_item() -> None:
    retro = make_retro(None, title="R <1>")
    reminder = action_items.reminder_message(action_item=_action_item(), retro=retro, kind="overdue")
    assert reminder.text == ":warning: Overdue: Fix &lt;CI&gt; &amp; docs"
    assert "your action item from *R &lt;1&gt;*" in mrkdwn_text(reminder.blocks)
    summary = action_items.followup_summary_message(retro=retro, action_items=[_action_item()], today=DUE)
    assert summary.text == "Follow-up on R &lt;1&gt;"
    assert "• Fix &lt;CI&gt; &amp; docs — <@U2>, due Fri 06 Mar 2026" in mrkdwn_text(summary.blocks)
    assert action_items.overdue_text(action_item=_action_item()) == (
        ":warning: <@U2>'s action item is overdue (due Fri 06 Mar 2026):\n>Fix &lt;CI&gt; &amp; docs"
    )


def test_the_refusal_to_change_an_action_item_names_people_in_plain_text() -> None:
    assert action_items.not_yours_plain(owner_name="Bob <b>", facilitator_name="Fay") == (
        "Only the owner, Bob <b>, or the facilitator, Fay, can change this action item."
    )
    assert action_items.not_yours_plain(owner_name="", facilitator_name="") == (
        "Only the owner or the facilitator can change this action item."
    )
