"""The retros area's handlers, called directly: their answers and what they change or queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.errors import DomainError, InvalidInput, NoRetroHere, NotFacilitator, RetroAlreadyOpen
from bot.listeners import retros
from bot.listeners.answers import OpenModal, Reply
from bot.listeners.requests import Command, Submission, ViewState
from bot.listeners.routing import answer_submission
from bot.services import Services
from messages import closing, new_retro
from messages.common import VALUE_ACTION
from storage.models import Delivery, Retro
from tests.conftest import FakeClock
from tests.factories import make_retro


def command(subcommand: str, args: str = "", **overrides: Any) -> Command:
    fields: dict[str, Any] = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "UFAC",
        "subcommand": subcommand,
        "args": args,
        "trigger_id": "trig",
    }
    return Command(**(fields | overrides))


def stored(engine: Engine, **fields: Any) -> Retro:
    with Session(engine) as session:
        retro = make_retro(session, **fields)
        session.refresh(retro)
        session.expunge(retro)
        return retro


def reload(engine: Engine, retro_id: int) -> Retro:
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        return retro


def tasks(engine: Engine, prefix: str) -> list[Delivery]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Delivery).where(Delivery.kind == "task", col(Delivery.key).startswith(prefix))
            )
        )


# ---------------------------------------------------------------- commands


def test_new_in_a_dm_says_where_to_run_it(services: Services) -> None:
    answer = retros.new(services, command("new", channel_id="D1"))
    assert answer == Reply("Run `/retro new` in the team channel where the retro should happen, not in a DM.")


def test_new_opens_the_new_retro_modal_with_the_title(services: Services) -> None:
    answer = retros.new(services, command("new", "Release <2.4>"))  # args arrive unescaped (Command.parse)
    assert isinstance(answer, OpenModal) and not answer.push
    assert answer.view["callback_id"] == new_retro.NEW_RETRO_CALLBACK
    assert "Release <2.4>" in str(answer.view)


def test_new_refuses_a_second_open_retro(services: Services, engine: Engine) -> None:
    stored(engine)
    with pytest.raises(RetroAlreadyOpen):
        retros.new(services, command("new"))


def test_status_shows_the_channels_retro(services: Services, engine: Engine) -> None:
    stored(engine, title="Q3 <launch>")
    answer = retros.status(services, command("status"))
    assert isinstance(answer, Reply) and answer.blocks
    assert "Q3 &lt;launch&gt;" in answer.text + str(answer.blocks)


def test_status_without_a_retro(services: Services) -> None:
    with pytest.raises(NoRetroHere):
        retros.status(services, command("status"))


def test_close_opens_the_close_modal_for_the_facilitator(services: Services, engine: Engine) -> None:
    retro = stored(engine)
    answer = retros.close(services, command("close"))
    assert isinstance(answer, OpenModal)
    assert answer.view["callback_id"] == closing.CLOSE_CALLBACK
    assert str(retro.id) in answer.view["private_metadata"]


def test_close_publishes_again_when_the_report_did_not_get_out(services: Services, engine: Engine) -> None:
    retro = stored(engine, phase="completed")
    assert retros.close(services, command("close")) == Reply("Publishing the report again…")
    assert [t.payload["args"]["retro_id"] for t in tasks(engine, "publish:")] == [retro.id]


def test_close_is_the_facilitators(services: Services, engine: Engine) -> None:
    stored(engine, title="Q3 <launch>")
    with pytest.raises(NotFacilitator) as raised:
        retros.close(services, command("close", user_id="U1"))
    assert raised.value.message == "Only the facilitator, <@UFAC>, can close *Q3 &lt;launch&gt;*."


def test_report_queues_the_upload(services: Services, engine: Engine) -> None:
    retro = stored(engine, title="Q3 <launch>")
    answer = retros.report(services, command("report"))
    assert answer == Reply("Uploading the report of *Q3 &lt;launch&gt;*…")
    assert [t.payload["args"] for t in tasks(engine, "upload_report:")] == [
        {"retro_id": retro.id, "user_id": "UFAC"}
    ]


def test_report_of_a_retro_that_does_not_match(services: Services, engine: Engine) -> None:
    stored(engine)
    with pytest.raises(NoRetroHere) as raised:
        retros.report(services, command("report", "<nope>"))
    assert raised.value.message == (
        "No retro in this channel matches “&lt;nope&gt;”. `/retro history` lists them with their numbers."
    )


def test_cancel_ends_the_retro(services: Services, engine: Engine) -> None:
    retro = stored(engine, title="Q3 <launch>")
    answer = retros.cancel(services, command("cancel", "wrong channel"))
    assert answer == Reply("*Q3 &lt;launch&gt;* is cancelled. The reason is on record.")
    cancelled = reload(engine, retro.id)
    assert cancelled.phase == "cancelled" and cancelled.cancel_reason == "wrong channel"


def test_cancel_needs_a_reason(services: Services, engine: Engine) -> None:
    stored(engine)
    with pytest.raises(DomainError) as raised:
        retros.cancel(services, command("cancel"))
    assert raised.value.message == "Say why, so the team knows: `/retro cancel <reason>`."


def test_history_lists_the_channels_retros(services: Services, engine: Engine, clock: FakeClock) -> None:
    stored(engine, title="Q3 <launch>", phase="completed", closed_at=clock())
    answer = retros.history(services, command("history"))
    assert isinstance(answer, Reply) and answer.blocks
    assert "Q3 &lt;launch&gt;" in str(answer.blocks)
    assert tasks(engine, "chart:") == []  # one retro: nothing to chart


def test_history_charts_two_retros_or_more(services: Services, engine: Engine, clock: FakeClock) -> None:
    stored(engine, title="One", phase="completed", closed_at=clock())
    stored(engine, title="Two", phase="completed", closed_at=clock())
    retros.history(services, command("history"))
    assert [t.payload["args"] for t in tasks(engine, "chart:")] == [{"channel_id": "C1", "user_id": "UFAC"}]


def test_help_and_unknown_subcommands(services: Services) -> None:
    helped = retros.help_(services, command("help"))
    assert isinstance(helped, Reply) and "/retro new" in helped.text + str(helped.blocks)
    unknown = retros.unknown(services, command("frobnicate"))
    assert isinstance(unknown, Reply) and "frobnicate" in unknown.text + str(unknown.blocks)


# ---------------------------------------------------------------- submissions


def _value(**value: Any) -> dict[str, Any]:
    return {VALUE_ACTION: value}


def new_retro_submission(clock: FakeClock, **values: dict[str, Any]) -> Submission:
    state = {
        new_retro.NEW_TITLE_BLOCK: _value(value="Sprint 12"),
        new_retro.NEW_PARTICIPANTS_BLOCK: _value(selected_users=["U1", "U2"]),
        new_retro.NEW_DEADLINE_BLOCK: _value(
            selected_date_time=int((clock() + timedelta(days=1)).timestamp())
        ),
        new_retro.NEW_FORMAT_BLOCK: _value(selected_option={"value": "start_stop_continue"}),
        new_retro.NEW_QUESTIONS_BLOCK: _value(value="What surprised you?\n\n  Anything else?  "),
        new_retro.NEW_VOTES_BLOCK: _value(selected_option={"value": "5"}),
        new_retro.RELEASE_BLOCKS["version"]: _value(value="  2.4  "),
        new_retro.RELEASE_BLOCKS["deploy_date"]: _value(selected_date="2026-11-20"),
    } | values
    return Submission(
        team_id="T1",
        user_id="UFAC",
        callback_id=new_retro.NEW_RETRO_CALLBACK,
        metadata={"channel_id": "C1"},
        state=ViewState(state),
    )


def test_new_retro_submitted_stores_the_retro_and_queues_its_launch(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    assert retros.new_retro_submitted(services, new_retro_submission(clock)) is None
    with Session(engine) as session:
        retro = session.exec(select(Retro)).one()
    assert (retro.title, retro.channel_id, retro.facilitator_id) == ("Sprint 12", "C1", "UFAC")
    assert retro.custom_questions == ["What surprised you?", "Anything else?"]
    assert (retro.votes_per_person, retro.release_version, str(retro.deploy_date)) == (5, "2.4", "2026-11-20")
    assert [t.payload["args"]["participants"] for t in tasks(engine, "launch:")] == [["U1", "U2"]]


def test_new_retro_submitted_refuses_by_field(services: Services, engine: Engine, clock: FakeClock) -> None:
    submission = new_retro_submission(
        clock,
        **{new_retro.NEW_TITLE_BLOCK: _value(value="  "), new_retro.NEW_DEADLINE_BLOCK: _value()},
    )
    with pytest.raises(InvalidInput) as raised:
        retros.new_retro_submitted(services, submission)
    assert set(raised.value.errors) == {"title", "deadline"}
    assert set(raised.value.errors) <= set(new_retro.FIELDS)
    with Session(engine) as session:
        assert session.exec(select(Retro)).first() is None


def close_submission(retro_id: int, user_id: str = "UFAC", share_with: str | None = None) -> Submission:
    state = {closing.STAKEHOLDER_BLOCK: _value(selected_conversation=share_with)} if share_with else {}
    return Submission(
        team_id="T1",
        user_id=user_id,
        callback_id=closing.CLOSE_CALLBACK,
        metadata={"retro_id": retro_id},
        state=ViewState(state),
    )


def test_close_submitted_closes_and_queues_the_report_and_the_summary(
    services: Services, engine: Engine
) -> None:
    retro = stored(engine)
    assert retros.close_submitted(services, close_submission(retro.id, share_with="CSTAKE")) is None
    assert reload(engine, retro.id).phase == "completed"
    assert len(tasks(engine, "publish:")) == 1
    assert [t.payload["args"] for t in tasks(engine, "share:")] == [
        {"retro_id": retro.id, "channel_id": "CSTAKE"}
    ]


def test_close_submitted_by_someone_else_is_refused(services: Services, engine: Engine) -> None:
    retro = stored(engine)
    with pytest.raises(NotFacilitator):
        retros.close_submitted(services, close_submission(retro.id, user_id="U1"))
    assert reload(engine, retro.id).phase == "collecting"
    assert tasks(engine, "publish:") == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Fay", "Only the facilitator, Fay, can close Q3 <launch> & co."),
        ("", "Only the facilitator can close Q3 <launch> & co."),
    ],
)
def test_a_refusal_in_the_close_modal_is_plain_text(
    services: Services, engine: Engine, name: str, expected: str
) -> None:
    """Slack shows a modal's inline errors as plain text: no mention, no bold, no escaped title."""
    retro = stored(engine, title="Q3 <launch> & co", facilitator_name=name)
    route = next(r for r in retros.routes.submissions if r.callback_id == closing.CLOSE_CALLBACK)
    acks: list[dict[str, Any]] = []
    answer_submission(services, route, close_submission(retro.id, user_id="U1"), lambda **kw: acks.append(kw))
    assert acks == [{"response_action": "errors", "errors": {closing.STAKEHOLDER_BLOCK: expected}}]
    with Session(engine) as session:
        cancelled = session.get(Retro, retro.id)
        assert cancelled is not None
        cancelled.phase = "cancelled"
        session.add(cancelled)
        session.commit()
    acks.clear()
    answer_submission(services, route, close_submission(retro.id), lambda **kw: acks.append(kw))
    assert acks[0]["errors"] == {
        closing.STAKEHOLDER_BLOCK: "Q3 <launch> & co was cancelled. Start the next one with `/retro new`."
    }
