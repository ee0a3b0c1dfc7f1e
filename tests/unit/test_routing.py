"""The router: how each answer and each domain error reaches the person, and a views.open that fails."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import DomainError, InvalidInput
from bot.listeners.answers import Answer, OpenModal, RefreshModal, Reply, Respond, ShowModal
from bot.listeners.requests import Click, Command, Posted, Submission, ViewState
from bot.listeners.routing import (
    ClickRoute,
    CommandRoute,
    Routes,
    SubmissionRoute,
    answer_click,
    answer_command,
    answer_submission,
)
from bot.services import Services
from tests.recording import RecordingGateway

VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}


class Acks:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def _command(**overrides: Any) -> Command:
    fields: dict[str, Any] = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "subcommand": "x",
        "trigger_id": "trig",
        "response_url": "https://hooks.example/cmd",
    }
    return Command(**(fields | overrides))


def _click(**overrides: Any) -> Click:
    fields: dict[str, Any] = {
        "team_id": "T1",
        "user_id": "U1",
        "action_id": "a",
        "value": "7",
        "trigger_id": "trig",
        "response_url": "https://hooks.example/click",
    }
    return Click(**(fields | overrides))


def _raises(exc: Exception) -> Any:
    def handler(services: Services, request: object) -> Answer:
        raise exc

    return handler


def _answers(answer: Answer) -> Any:
    return lambda services, request: answer


def test_a_command_reply_is_in_the_ack(services: Services, gateway: RecordingGateway) -> None:
    ack = Acks()
    answer_command(services, CommandRoute("x", _answers(Reply("hi", [{"type": "divider"}]))), _command(), ack)
    assert ack.calls == [{"text": "hi", "blocks": [{"type": "divider"}]}]
    assert gateway.sent == []


def test_a_command_domain_error_is_its_message_or_its_explanation(services: Services) -> None:
    ack = Acks()
    answer_command(services, CommandRoute("x", _raises(DomainError("*no*"))), _command(), ack)
    explained = CommandRoute("x", _raises(InvalidInput({"f": "bad"})), explain=lambda e: f"fix: {e.message}")
    answer_command(services, explained, _command(), ack)
    assert ack.calls == [{"text": "*no*"}, {"text": "fix: bad"}]


def test_a_command_opens_its_modal_after_the_ack(services: Services, gateway: RecordingGateway) -> None:
    ack = Acks()
    answer_command(services, CommandRoute("x", _answers(OpenModal(VIEW))), _command(), ack)
    assert ack.calls == [{}]
    assert gateway.sent == [("view", VIEW)]


def test_a_modal_that_does_not_open_asks_the_person_to_try_again(
    services: Services, gateway: RecordingGateway
) -> None:
    gateway.failures[("views.open", "trig")] = "expired_trigger_id"
    answer_command(services, CommandRoute("x", _answers(OpenModal(VIEW))), _command(), Acks())
    answer_click(services, ClickRoute("a", _answers(OpenModal(VIEW))), _click(response_url=None))
    sent = gateway.sent
    assert [kind for kind, _ in sent] == ["response", "message"]
    assert sent[0][1]["response_url"] == "https://hooks.example/cmd"
    assert sent[0][1]["replace_original"] is False
    for _, payload in sent:
        assert "expired_trigger_id" in payload["text"] and "try again" in payload["text"]
    assert sent[1][1]["channel"] == "U1"  # from the Home tab: a DM


def test_a_click_answers_through_the_outbox(services: Services, gateway: RecordingGateway) -> None:
    answer_click(services, ClickRoute("a", _answers(Respond("done", replace=True))), _click())
    answer_click(services, ClickRoute("a", _answers(RefreshModal(VIEW))), _click(view_id="V9"))
    answer_click(services, ClickRoute("a", _answers(OpenModal(VIEW, push=True))), _click())
    answer_click(services, ClickRoute("a", _answers(None)), _click())
    sent = dict(gateway.sent)
    assert sorted(sent) == ["response", "view_push", "view_update"]  # and nothing for None
    assert sent["response"] == {
        "response_url": "https://hooks.example/click",
        "text": "done",
        "blocks": None,
        "replace_original": True,
    }
    assert sent["view_push"] == {"trigger_id": "trig", "view": VIEW}
    assert sent["view_update"] == {"view_id": "V9", "view": VIEW}


@pytest.mark.parametrize(
    ("shows", "expected_kind"), [("open", "view"), ("push", "view_push"), ("refresh", "view_update")]
)
def test_a_click_whose_answer_is_a_modal_shows_problems_in_a_notice(
    services: Services, gateway: RecordingGateway, shows: Any, expected_kind: str
) -> None:
    route = ClickRoute("a", _raises(DomainError("That item is gone.")), shows=shows, title="My items")
    answer_click(services, route, _click(view_id="V9"))
    [(kind, payload)] = gateway.sent
    assert kind == expected_kind
    view = payload if kind == "view" else payload["view"]
    assert view["title"]["text"] == "My items"
    assert "That item is gone." in str(view["blocks"])


def test_a_click_in_a_message_shows_problems_ephemerally_and_from_home_in_a_modal(
    services: Services, gateway: RecordingGateway
) -> None:
    route = ClickRoute("a", _raises(DomainError("Voting is over.")))
    answer_click(services, route, _click())
    answer_click(services, route, _click(response_url=None))
    second, first = gateway.sent  # the modal opens at once; the response waits for its worker
    assert first == (
        "response",
        {
            "response_url": "https://hooks.example/click",
            "text": "Voting is over.",
            "blocks": None,
            "replace_original": False,
        },
    )
    assert second[0] == "view" and "Voting is over." in str(second[1]["blocks"])


def test_a_problem_notice_that_does_not_open_on_the_home_tab_is_told_by_dm(
    services: Services, gateway: RecordingGateway
) -> None:
    gateway.failures[("views.open", "trig")] = "expired_trigger_id"
    answer_click(
        services, ClickRoute("a", _raises(DomainError("Voting is over."))), _click(response_url=None)
    )
    [(kind, payload)] = gateway.sent
    assert kind == "message" and payload["channel"] == "U1"
    assert "expired_trigger_id" in payload["text"] and "try again" in payload["text"]


def test_a_submission_maps_field_errors_to_the_modals_blocks() -> None:
    route = SubmissionRoute(
        "cb",
        _raises(InvalidInput({"title": "Give it a title.", "deadline": "Pick a time."})),
        fields={"title": "b_title", "deadline": "b_deadline"},
        error_field="title",
    )
    ack = Acks()
    answer_submission(_no_services(), route, Submission(team_id="T1", user_id="U1", callback_id="cb"), ack)
    assert ack.calls == [
        {"response_action": "errors", "errors": {"b_title": "Give it a title.", "b_deadline": "Pick a time."}}
    ]


def test_a_submission_shows_a_domain_error_in_plain_text_under_its_error_field() -> None:
    route = SubmissionRoute(
        "cb",
        _raises(DomainError("*Closed* by <@U2>", plain="Closed by Ann")),
        fields={"title": "b_title", "text": "b_text"},
        error_field="text",
    )
    ack = Acks()
    answer_submission(_no_services(), route, Submission(team_id="T1", user_id="U1", callback_id="cb"), ack)
    assert ack.calls == [{"response_action": "errors", "errors": {"b_text": "Closed by Ann"}}]


def test_a_submission_can_close_or_replace_the_modal() -> None:
    ack = Acks()
    fields = {"f": "b"}
    request = Submission(team_id="T1", user_id="U1", callback_id="cb")
    answer_submission(_no_services(), SubmissionRoute("cb", _answers(None), fields, "f"), request, ack)
    answer_submission(
        _no_services(), SubmissionRoute("cb", _answers(ShowModal(VIEW)), fields, "f"), request, ack
    )
    assert ack.calls == [{}, {"response_action": "update", "view": VIEW}]


def test_a_submission_route_needs_its_error_field_among_its_fields() -> None:
    with pytest.raises(ValueError, match="nope"):
        Routes().submission("cb", fields={"f": "b"}, error_field="nope")


def test_requests_parse_slack_payloads() -> None:
    command = Command.parse(
        {
            "team_id": "T1",
            "channel_id": "D1",
            "user_id": "U1",
            "text": "  ACTION Fix it <@U2> ",
            "trigger_id": "t",
        }
    )
    assert (command.subcommand, command.args, command.in_dm, command.response_url) == (
        "action",
        "Fix it <@U2>",
        True,
        None,
    )
    click = Click.parse(
        {
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "trigger_id": "t",
            "container": {"channel_id": "C1", "message_ts": "1.2"},
            "message": {"blocks": [{"block_id": "b1"}, {"block_id": "b2"}]},
        },
        {"action_id": "menu", "selected_option": {"value": "done:4"}},
    )
    assert (click.value, click.parts(), click.channel_id, click.message_block_ids) == (
        "done:4",
        ("done", "4"),
        "C1",
        ("b1", "b2"),
    )
    submission = Submission.parse(
        {"user": {"id": "U1", "team_id": "T1"}},
        {
            "id": "V2",
            "root_view_id": "V1",
            "callback_id": "cb",
            "private_metadata": "not json",
            "state": {"values": {"when": {"value": {"selected_date": "2026-12-01"}}}},
        },
    )
    assert submission.team_id == "T1" and submission.metadata == {} and submission.stacked
    assert str(submission.state.day("when")) == "2026-12-01"
    assert ViewState({"n": {"value": {"selected_option": {"value": "x"}}}}).whole_number("n", 3) == 3


def test_posted_keeps_only_peoples_own_words() -> None:
    body = {"team_id": "T1", "event_id": "Ev1"}
    reply = Posted.parse(body, {"channel": "C1", "user": "U1", "ts": "2.0", "thread_ts": "1.0", "text": "hi"})
    assert reply is not None and reply.is_reply and reply.event_id == "Ev1"
    for ignored in ({"subtype": "message_changed"}, {"bot_id": "B1"}, {"user": None}):
        assert Posted.parse(body, {"channel": "C1", "user": "U1", "ts": "2.0", "text": "x"} | ignored) is None
    shared = Posted.parse(
        body, {"channel": "C1", "user": "U1", "ts": "2.0", "subtype": "file_share", "text": "f"}
    )
    assert shared is not None and not shared.is_reply


def _no_services() -> Services:
    """Submissions answer in their ack only: the router needs no services for them."""
    return None  # type: ignore[return-value]


def test_a_submission_can_close_and_redraw_the_modal_under_it(
    services: Services, gateway: RecordingGateway
) -> None:
    route = SubmissionRoute("cb", _answers(RefreshModal(VIEW)), {"f": "b"}, "f")
    ack = Acks()
    stacked = Submission(team_id="T1", user_id="U1", callback_id="cb", view_id="V2", root_view_id="V1")
    alone = Submission(team_id="T1", user_id="U1", callback_id="cb", view_id="V3", root_view_id="V3")
    answer_submission(services, route, stacked, ack)
    answer_submission(services, route, alone, ack)
    assert ack.calls == [{}, {}]
    assert gateway.sent == [("view_update", {"view_id": "V1", "view": VIEW})]


def test_nul_never_gets_past_the_edge() -> None:
    """PostgreSQL refuses NUL in text (a 500 once, found by fuzzing): requests drop it as they parse."""
    command = Command.parse({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "text": "new Q\x003"})
    assert command.args == "Q3"
    assert ViewState({"b": {"value": {"value": "a\x00b"}}}).text("b") == "ab"
    posted = Posted.parse({"team_id": "T1"}, {"channel": "C1", "user": "U1", "ts": "1.0", "text": "x\x00"})
    assert posted is not None and posted.text == "x"
