"""The discussion's screens: the round-robin's replies and turn modals, the ballot, the results and the
root-cause modal. User text is escaped wherever it shows."""

from __future__ import annotations

import json

from bot.services.voting import Ballot, Ranked
from messages import ballot, results, rounds
from storage.models import Turn
from tests.blockkit import assert_valid_view, blocks_by_id, input_blocks, mrkdwn_text
from tests.factories import NOW, make_item, make_retro
from tests.unit.messages.samples import EVIL, assert_escaped


def test_the_facilitators_replies() -> None:
    assert rounds.skipped_text(user_id="U1") == "Skipped <@U1>'s turn."
    assert rounds.paused_text() == "The round-robin is paused. `/retro resume` continues it where it stopped."
    assert rounds.resumed_text() == "The round-robin continues."
    retro = make_retro(None, title=EVIL)
    refusal = rounds.no_round_robin_text(retro=retro)
    assert_escaped(refusal)
    assert refusal.endswith("has no round-robin running (phase: collecting).")


def test_answers_and_refusals_of_a_turn() -> None:
    assert rounds.passed_text() == "You passed. Thanks! The next person is up."
    assert rounds.not_your_turn_text(owner_id="U1") == (
        "This is <@U1>'s turn, not yours: you can answer on your own turn."
    )
    assert rounds.turn_dm_what(user_id="U1") == "their turn's DM to <@U1>"


def test_summaries_escape_what_people_wrote() -> None:
    retro = make_retro(None)
    item = make_item(None, category="went_wrong", text=EVIL, number=3)
    assert_escaped(rounds.comment_summary(item=item, text=EVIL))
    assert rounds.comment_summary(item=item, text="Yes").startswith(">On *#3*: Yes")
    added = rounds.added_summary(retro=retro, item=item)
    assert_escaped(added)
    assert added.startswith(">Added *#3* to ")


def test_the_turn_modals() -> None:
    retro = make_retro(None, phase="discussing")
    turn = Turn(id=5, team_id="T1", retro_id=7, position=1, user_id="U1", status="active")
    listed = [make_item(None, id=11, category="went_wrong", text=EVIL, number=1)]
    comment = rounds.turn_comment_modal(retro=retro, turn=turn, items=listed)
    assert_valid_view(comment)
    assert comment["callback_id"] == rounds.TURN_COMMENT_CALLBACK
    assert json.loads(comment["private_metadata"]) == {"turn_id": 5}
    assert {b["block_id"] for b in input_blocks(comment)} == set(rounds.TURN_COMMENT_FIELDS.values())
    add = rounds.turn_add_modal(retro=retro, turn=turn)
    assert_valid_view(add)
    assert add["callback_id"] == rounds.TURN_ADD_CALLBACK
    assert {b["block_id"] for b in input_blocks(add)} == set(rounds.TURN_ADD_FIELDS.values())


def test_the_ballot_escapes_and_marks_votes() -> None:
    retro = make_retro(None, title=EVIL, phase="voting", votes_per_person=2)
    first = make_item(None, id=11, category="went_wrong", text=EVIL, number=1)
    second = make_item(None, id=12, category="went_wrong", text="Late QA", number=2)
    (message,) = ballot.ballot_of(Ballot(retro=retro, candidates=[first, second], voted={11}, now=NOW))
    assert_escaped(message.text)
    assert_escaped(mrkdwn_text(message.blocks))
    assert "You have *1 of 2* votes left." in mrkdwn_text(message.blocks)
    accessories = {k: b["accessory"] for k, b in blocks_by_id(message.blocks).items() if "accessory" in b}
    assert [(a["action_id"], a["value"], a["text"]["text"]) for a in accessories.values()] == [
        (rounds.UNVOTE_ACTION, "7:11", "Remove vote"),
        (rounds.VOTE_ACTION, "7:12", "Vote"),
    ]
    assert ballot.ballot_what(user_id="U1") == "a ballot to <@U1>"
    closed = ballot.voting_closed_text(retro=retro)
    assert_escaped(closed)
    assert closed.startswith("Voting for *") and closed.endswith("* is closed.")


def test_the_results_and_the_root_cause_modal() -> None:
    retro = make_retro(None, title=EVIL, phase="actions")
    item = make_item(None, id=11, category="went_wrong", text=EVIL, number=1, root_cause="Nobody owned CI")
    (message,) = results.results_messages(
        retro=retro, ranked=[Ranked(rank=1, tied=False, votes=2, item=item)]
    )
    assert_escaped(message.text)
    assert_escaped(mrkdwn_text(message.blocks))
    view = results.root_cause_modal(retro=retro, item=item)
    assert_valid_view(view)
    assert view["callback_id"] == rounds.ROOT_CAUSE_CALLBACK
    assert json.loads(view["private_metadata"]) == {"item_id": 11}
    assert_escaped(mrkdwn_text(view["blocks"]))
    (note,) = input_blocks(view)
    assert note["block_id"] == results.ROOT_CAUSE_FIELDS["root_cause"]
    assert note["element"]["initial_value"] == "Nobody owned CI"


def test_someone_elses_turn_in_plain_text() -> None:
    assert rounds.not_your_turn_plain(owner_name="Ann") == (
        "This is Ann's turn, not yours: you can answer on your own turn."
    )
    assert rounds.not_your_turn_plain(owner_name="").startswith("This is someone else's turn")
