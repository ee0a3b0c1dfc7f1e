"""The collection area's handlers, called directly: what each answers and what it changes or queues."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.errors import DomainError, InvalidInput, NoRetroHere, NotFacilitator
from bot.listeners import collection
from bot.listeners.answers import OpenModal, RefreshModal, Reply, Respond, ShowModal
from bot.listeners.requests import Click, Command, HomeOpened, Posted, Submission, ViewState
from bot.listeners.routing import answer_click
from bot.services import Services
from bot.services.surveys import SurveyAnswers
from messages import common, deadlines, items, kickoff, replies, survey
from storage.models import Delivery, Item, Participant, Retro
from tests.blockkit import input_blocks, mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro
from tests.recording import RecordingGateway


def collecting(engine: Engine, clock: FakeClock, *people: str, channel: str = "C1") -> int:
    with Session(engine) as session:
        retro = make_retro(
            session,
            channel_id=channel,
            title=channel,
            created_at=clock(),
            deadline=clock() + timedelta(days=1),
        )
        session.add_all(Participant(team_id="T1", retro_id=retro.id, user_id=p) for p in people)
        session.commit()
        return retro.id


def click(action_id: str, value: object, **more: Any) -> Click:
    return Click(team_id="T1", user_id="U1", action_id=action_id, value=str(value), trigger_id="trig", **more)


def command(subcommand: str, user_id: str = "U1") -> Command:
    return Command(team_id="T1", channel_id="C1", user_id=user_id, subcommand=subcommand)


def submission(
    callback_id: str, metadata: dict[str, Any], values: dict[str, Any], *, user_id: str = "U1", **more: Any
) -> Submission:
    state = {block: {common.VALUE_ACTION: value} for block, value in values.items()}
    return Submission(
        team_id="T1",
        user_id=user_id,
        callback_id=callback_id,
        metadata=metadata,
        state=ViewState(state),
        **more,
    )


def stored_items(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        # By time, then id: ids are random, but one message's lines get ascending ones (storage/ids.py).
        ordered = select(Item).order_by(col(Item.created_at), col(Item.id))
        return [(i.category, i.text) for i in session.exec(ordered).all()]


# ------------------------------------------------------------ commands


def test_mine_opens_my_items(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        make_item(session, retro_id=retro_id, text="Mine", author_id="U1")
    answer = collection.mine(services, command("mine"))
    assert isinstance(answer, OpenModal) and not answer.push
    assert answer.view["title"]["text"] == "My items"
    assert "Mine" in mrkdwn_text(answer.view["blocks"])


def test_mine_elsewhere_says_there_is_no_retro(services: Services) -> None:
    with pytest.raises(NoRetroHere, match=r"There is no open retro here for you\."):
        collection.mine(services, command("mine"))


def test_remind_answers_how_many_are_reminded(services: Services, engine: Engine, clock: FakeClock) -> None:
    collecting(engine, clock, "U1", "U2")
    answer = collection.remind(services, command("remind", user_id="UFAC"))
    assert answer == Reply(
        "Reminding 2 of 2 people who have not answered yet. If I can't reach someone, I'll tell you."
    )
    with pytest.raises(
        NotFacilitator, match=r"Only the facilitator, <@UFAC>, can send reminders for \*C1\*."
    ):
        collection.remind(services, command("remind"))


def test_extend_opens_the_deadline_modal(services: Services, engine: Engine, clock: FakeClock) -> None:
    collecting(engine, clock)
    answer = collection.extend(services, command("extend", user_id="UFAC"))
    assert isinstance(answer, OpenModal) and answer.view["callback_id"] == deadlines.EXTEND_CALLBACK
    with pytest.raises(NotFacilitator, match=r"can change the deadline for \*C1\*"):
        collection.extend(services, command("extend"))


# ------------------------------------------------------------ buttons


def test_open_survey_opens_it_prefilled_or_says_it_is_closed(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        make_item(session, retro_id=retro_id, text="Saved before", author_id="U1")
    answer = collection.open_survey(services, click(common.OPEN_SURVEY_ACTION, retro_id))
    assert isinstance(answer, OpenModal) and answer.view["callback_id"] == survey.SURVEY_CALLBACK
    assert "Saved before" in json.dumps(answer.view)
    clock.advance(days=1)
    closed = collection.open_survey(services, click(common.OPEN_SURVEY_ACTION, retro_id))
    assert isinstance(closed, OpenModal) and closed.view["title"]["text"] == "Retro closed"
    assert input_blocks(closed.view) == []


def test_after_the_deadline_the_item_dialogs_say_so(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        item_id = make_item(session, retro_id=retro_id, author_id="U1").id
    opened = collection.open_add_item(services, click(common.ADD_ITEM_ACTION, retro_id))
    assert isinstance(opened, OpenModal)
    assert opened.view["title"]["text"] == "Add an item"
    clock.advance(days=1)
    added = collection.open_add_item(services, click(common.ADD_ITEM_ACTION, retro_id))
    edited = collection.edit_item(services, click(items.ITEM_EDIT_ACTION, item_id))
    assert isinstance(added, OpenModal) and not added.push
    assert isinstance(edited, OpenModal) and edited.push
    for view in (added.view, edited.view):
        assert view["title"]["text"] == "Retro closed"
        assert mrkdwn_text(view["blocks"]).startswith("Sorry, collection for “C1” closed at <!date^")


def test_open_my_items_lists_ones_own(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        make_item(session, retro_id=retro_id, text="Mine", author_id="U1")
        make_item(session, retro_id=retro_id, text="Theirs", author_id="U2")
    answer = collection.open_my_items(services, click(common.MY_ITEMS_ACTION, retro_id))
    assert isinstance(answer, OpenModal) and answer.view["callback_id"] == items.MY_ITEMS_CALLBACK
    text = mrkdwn_text(answer.view["blocks"])
    assert "Mine" in text and "Theirs" not in text


def test_edit_item_pushes_the_item_modal_and_refuses_others_items(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        mine = make_item(session, retro_id=retro_id, text="Mine", author_id="U1").id
        theirs = make_item(session, retro_id=retro_id, text="Theirs", author_id="U2").id
    answer = collection.edit_item(services, click(items.ITEM_EDIT_ACTION, mine))
    assert isinstance(answer, OpenModal) and answer.push
    assert answer.view["title"]["text"] == "Edit item"
    assert json.loads(answer.view["private_metadata"]) == {"retro_id": retro_id, "item_id": mine}
    with pytest.raises(NoRetroHere, match=r"That item no longer exists, or it is not yours\."):
        collection.edit_item(services, click(items.ITEM_EDIT_ACTION, theirs))


def test_delete_item_redraws_the_list(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        mine = make_item(session, retro_id=retro_id, text="Mine", author_id="U1").id
        make_item(session, retro_id=retro_id, text="Kept", author_id="U1")
    answer = collection.delete_item(services, click(items.ITEM_DELETE_ACTION, mine, view_id="V1"))
    assert isinstance(answer, RefreshModal) and answer.view["title"]["text"] == "My items"
    assert stored_items(engine) == [("went_well", "Kept")]
    with pytest.raises(NoRetroHere):
        collection.delete_item(services, click(items.ITEM_DELETE_ACTION, mine, view_id="V1"))


def test_pick_category_adds_the_text_it_carries(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id = collecting(engine, clock, "U1")
    value = json.dumps({"r": retro_id, "c": "went_wrong", "t": "Flaky CI\n", "a": False, "s": "dm"})
    answer = collection.pick_category(services, click(f"{replies.PICK_CATEGORY_ACTION}:went_wrong", value))
    assert answer == Respond(":white_check_mark: Added to *What went wrong* in *C1*.", replace=True)
    assert stored_items(engine) == [("went_wrong", "Flaky CI")]
    clock.advance(days=1)
    with pytest.raises(DomainError) as late:
        collection.pick_category(services, click(f"{replies.PICK_CATEGORY_ACTION}:went_wrong", value))
    assert late.value.message.startswith("Sorry, collection for “C1”")
    # The router shows it as an ephemeral answer to the click.
    route = next(r for r in collection.routes.clicks if r.handler is collection.pick_category)
    answer_click(
        services,
        route,
        click(f"{replies.PICK_CATEGORY_ACTION}:went_wrong", value, response_url="https://hooks.example/r"),
    )
    [(_, payload)] = [sent for sent in gateway.sent if sent[0] == "response"]
    assert payload["text"].startswith("Sorry, collection for “C1”") and payload["replace_original"] is False


def test_pick_category_asks_to_resend_what_it_cannot_add(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    value = json.dumps({"r": retro_id, "c": "nope", "t": "Flaky CI", "a": False, "s": "dm"})
    with pytest.raises(DomainError) as refused:
        collection.pick_category(services, click(f"{replies.PICK_CATEGORY_ACTION}:nope", value))
    assert refused.value.message == replies.fix_and_resend_text(
        problem="Pick one of this retro's categories."
    )
    assert stored_items(engine) == []


def test_pick_retro_adds_the_dm_to_the_chosen_retro(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    collecting(engine, clock, "U1")
    second = collecting(engine, clock, "U1", channel="C2")
    value = json.dumps({"r": second, "t": "- Flaky emulator"})
    answer = collection.pick_retro(
        services,
        click(
            f"{replies.PICK_RETRO_ACTION}:{second}",
            value,
            channel_id="D1",
            response_url="https://hooks.example/r",
        ),
    )
    assert answer is None
    assert stored_items(engine) == [("went_wrong", "Flaky emulator")]
    assert gateway.messages_to("D1")[-1]["text"] == ":white_check_mark: Added 1 item to *C2*."
    # The picker is replaced first, then the DM is answered.
    with Session(engine) as session:
        queued = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
    (noted,) = [d for d in queued if d.kind == "respond"]
    assert noted.payload["text"] == "Thanks, noted." and noted.payload["replace_original"] is True
    assert [kind for kind, _ in gateway.sent if kind in ("response", "message")] == ["response", "message"]


# ------------------------------------------------------------ modals


def test_survey_submitted_thanks_and_maps_errors_to_fields(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    values = {
        survey.survey_block_id("went_well"): {"value": "Pairing\nDemos"},
        survey.SURVEY_SMOOTHNESS_BLOCK: {"selected_option": {"value": "7"}},
    }
    answer = collection.survey_submitted(
        services, submission(survey.SURVEY_CALLBACK, {"retro_id": retro_id}, values)
    )
    assert isinstance(answer, ShowModal) and answer.view["title"]["text"] == "Thank you!"
    assert "2 items and rated it 7/10" in mrkdwn_text(answer.view["blocks"])
    too_long = {survey.SURVEY_SURPRISE_BLOCK: {"value": "x" * 1001}}
    with pytest.raises(InvalidInput) as invalid:
        collection.survey_submitted(
            services, submission(survey.SURVEY_CALLBACK, {"retro_id": retro_id}, too_long)
        )
    assert list(invalid.value.errors) == ["surprise"]
    assert survey.FIELDS["surprise"] == survey.SURVEY_SURPRISE_BLOCK
    with pytest.raises(InvalidInput) as empty:
        collection.survey_submitted(services, submission(survey.SURVEY_CALLBACK, {"retro_id": retro_id}, {}))
    assert list(empty.value.errors) == ["went_well"]


def test_item_submitted_adds_or_edits(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock, "U1")
    values = {
        items.ITEM_CATEGORY_BLOCK: {"selected_option": {"value": "went_well"}},
        items.ITEM_TEXT_BLOCK: {"value": "Pairing"},
    }
    meta: dict[str, Any] = {"retro_id": retro_id, "item_id": None}
    answer = collection.item_submitted(services, submission(items.ITEM_CALLBACK, meta, values))
    assert isinstance(answer, ShowModal) and answer.view["title"]["text"] == "Item added"
    assert "Added to *What went well* in *C1*" in mrkdwn_text(answer.view["blocks"])
    with Session(engine) as session:
        item_id = session.exec(select(Item.id)).one()
    edit = {**values, items.ITEM_TEXT_BLOCK: {"value": "Pair programming"}}
    stacked = submission(
        items.ITEM_CALLBACK, {"retro_id": retro_id, "item_id": item_id}, edit, view_id="V2", root_view_id="V1"
    )
    redraw = collection.item_submitted(services, stacked)
    assert stored_items(engine) == [("went_well", "Pair programming")]
    # The edit view closes; the list under it is redrawn with the edited text.
    assert isinstance(redraw, RefreshModal) and redraw.view["title"]["text"] == "My items"
    assert "Pair programming" in str(redraw.view["blocks"])


def test_item_submitted_errors_are_keyed_by_field(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    meta: dict[str, Any] = {"retro_id": retro_id, "item_id": None}
    blank = {
        items.ITEM_CATEGORY_BLOCK: {"selected_option": {"value": "went_well"}},
        items.ITEM_TEXT_BLOCK: {},
    }
    with pytest.raises(InvalidInput) as invalid:
        collection.item_submitted(services, submission(items.ITEM_CALLBACK, meta, blank))
    assert invalid.value.errors == {"text": "Write something: an item cannot be empty."}
    assert items.FIELDS == {"category": items.ITEM_CATEGORY_BLOCK, "text": items.ITEM_TEXT_BLOCK}
    clock.advance(days=1)
    late = {**blank, items.ITEM_TEXT_BLOCK: {"value": "late"}}
    with pytest.raises(DomainError) as closed:
        collection.item_submitted(services, submission(items.ITEM_CALLBACK, meta, late))
    assert closed.value.plain.startswith("Sorry, collection for “C1” closed at 2026-")
    assert closed.value.message.startswith("Sorry, collection for “C1” closed at <!date^")


def test_extend_submitted_moves_the_deadline(services: Services, engine: Engine, clock: FakeClock) -> None:
    retro_id = collecting(engine, clock)
    later = int((clock() + timedelta(days=3)).timestamp())
    values = {deadlines.EXTEND_DEADLINE_BLOCK: {"selected_date_time": later}}
    request = submission(deadlines.EXTEND_CALLBACK, {"retro_id": retro_id}, values)
    with pytest.raises(NotFacilitator):
        collection.extend_submitted(services, request)
    facilitator = submission(deadlines.EXTEND_CALLBACK, {"retro_id": retro_id}, values, user_id="UFAC")
    assert collection.extend_submitted(services, facilitator) is None
    soon = submission(deadlines.EXTEND_CALLBACK, {"retro_id": retro_id}, {}, user_id="UFAC")
    with pytest.raises(InvalidInput) as invalid:
        collection.extend_submitted(services, soon)
    assert invalid.value.errors == {"deadline": "Pick a time at least 10 minutes from now."}
    assert deadlines.FIELDS == {"deadline": deadlines.EXTEND_DEADLINE_BLOCK}


# ------------------------------------------------------------ events


def test_home_opened_publishes_the_home_tab(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    collecting(engine, clock, "U1")
    collection.home_opened(services, HomeOpened(team_id="T1", user_id="U1"))
    collection.home_opened(services, HomeOpened(team_id="T1", user_id="U2", tab="messages"))
    homes = [p for kind, p in gateway.sent if kind == "home"]
    assert [h["user_id"] for h in homes] == ["U1"]
    assert "C1" in mrkdwn_text(homes[0]["view"]["blocks"])


def test_posted_dm_and_thread_reply_become_items_once(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        retro.kickoff_ts = "100.0"
        session.add(retro)
        session.commit()
    dm = Posted(team_id="T1", channel_id="D1", user_id="U1", ts="1.0", text="+ From a DM", in_dm=True)
    collection.posted(services, dm)
    collection.posted(services, dm)  # Slack's retry
    reply = Posted(
        team_id="T1", channel_id="C1", user_id="U1", ts="101.0", text="- In the thread", thread_ts="100.0"
    )
    collection.posted(services, reply)
    elsewhere = Posted(team_id="T1", channel_id="C1", user_id="U1", ts="102.0", text="+ Not an item")
    collection.posted(services, elsewhere)
    assert sorted(stored_items(engine)) == [("went_well", "From a DM"), ("went_wrong", "In the thread")]


# ------------------------------------------------------------ who may add items (issue 12)


def test_someone_outside_the_retro_is_refused_at_the_kickoff_buttons_and_at_submission(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    """U1 is invited; U9 (a forged payload, a shared modal) is not: told at the click, in a notice modal that
    says how to get in, and again inline if the modal is submitted anyway. Nothing is stored."""
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        retro.facilitator_name = "Fay"
        session.add(retro)
        session.commit()
    for action in (common.ADD_ITEM_ACTION, common.OPEN_SURVEY_ACTION):
        route = next(r for r in collection.routes.clicks if r.action_id == action)
        answer_click(
            services, route, Click(team_id="T1", user_id="U9", action_id=action, value=str(retro_id))
        )
    notices = [view for kind, view in gateway.sent if kind == "view"]
    assert len(notices) == 2
    for notice in notices:
        text = mrkdwn_text(notice["blocks"])
        assert "Only the facilitator and the participants of *C1*" in text
        assert "ask <@UFAC> to add you with `/retro invite` <@U9>" in text
    metadata = {"retro_id": retro_id}
    with pytest.raises(NotFacilitator) as item_refused:
        collection.item_submitted(
            services,
            submission(
                items.ITEM_CALLBACK,
                metadata,
                {items.ITEM_CATEGORY_BLOCK: {"selected_option": {"value": "went_well"}}},
                user_id="U9",
            ),
        )
    with pytest.raises(NotFacilitator) as survey_refused:
        services.surveys.submit(
            team_id="T1",
            retro_id=retro_id,
            user_id="U9",
            answers=SurveyAnswers(items={"went_well": "Pairing"}, smoothness=None, surprise=None),
        )
    for refused in (item_refused, survey_refused):
        assert refused.value.plain == (
            "Only the facilitator and the participants of C1 add items and answer its survey: "
            "ask Fay to add you with /retro invite and your name."
        )
    # A DM from them is not an item either; the invited one's is.
    collection.posted(
        services, Posted(team_id="T1", channel_id="D9", user_id="U9", ts="1.0", text="+ Hi", in_dm=True)
    )
    with Session(engine) as session:
        assert session.exec(select(Item)).all() == []
        assert session.exec(select(Participant.user_id)).all() == ["U1"]
    # The invited one opens both.
    for action in (common.ADD_ITEM_ACTION, common.OPEN_SURVEY_ACTION):
        route = next(r for r in collection.routes.clicks if r.action_id == action)
        answer_click(
            services, route, Click(team_id="T1", user_id="U1", action_id=action, value=str(retro_id))
        )
    opened = [view for kind, view in gateway.sent if kind == "view"][2:]
    assert [v.get("callback_id") for v in opened] == [items.ITEM_CALLBACK, survey.SURVEY_CALLBACK]


def test_a_reply_in_the_kickoff_thread_is_taken_from_anyone_and_makes_them_a_participant(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    """Slack delivers thread replies only from people in the channel: not forgeable, so accepted, and the
    poster is a participant from then on (their DMs and buttons work too)."""
    retro_id = collecting(engine, clock, "U1")
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        retro.kickoff_ts = "100.0"
        session.add(retro)
        session.commit()
    reply = Posted(
        team_id="T1", channel_id="C1", user_id="U7", ts="101.0", text="- Flaky CI", thread_ts="100.0"
    )
    collection.posted(services, reply)
    dm = Posted(team_id="T1", channel_id="D7", user_id="U7", ts="2.0", text="+ Pairing", in_dm=True)
    collection.posted(services, dm)
    assert sorted(stored_items(engine)) == [("went_well", "Pairing"), ("went_wrong", "Flaky CI")]
    with Session(engine) as session:
        joined = session.exec(select(Participant).where(Participant.user_id == "U7")).one()
    assert joined.responded_at is not None


def test_retro_invite_reads_the_mentions_slack_marked_and_refuses_groups(
    services: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    collecting(engine, clock, "U1")
    gateway.human("U2")

    def invite(raw: str, user_id: str = "UFAC") -> object:
        return collection.invite(
            services,
            Command(
                team_id="T1", channel_id="C1", user_id=user_id, subcommand="invite", args=raw, raw_args=raw
            ),
        )

    for group in ("<!subteam^S1|@devs>", "<!channel>", "<!here>", "<@U2> <!everyone>"):
        assert invite(group) == Reply(kickoff.INVITE_NO_GROUPS)
    assert invite("") == Reply(kickoff.INVITE_USAGE)
    assert invite("&lt;@U2&gt;") == Reply(kickoff.INVITE_USAGE)  # typed, not a mention
    with pytest.raises(NotFacilitator):
        invite("<@U2|bea>", user_id="U1")
    assert invite("<@U2|bea> <@U1>") is None  # the summary follows, once they are looked up
    assert gateway.ephemerals_to("UFAC") == ["Invited <@U2> to *C1*; <@U1> was already in."]
    with Session(engine) as session:
        assert sorted(session.exec(select(Participant.user_id)).all()) == ["U1", "U2"]
