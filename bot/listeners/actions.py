"""Button presses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.errors import DomainError
from bot.listeners import payloads
from bot.services import Services
from messages import action_items, common, kickoff, rounds
from storage.db import unit_of_work


def register(app: App, services: Services) -> None:
    @app.action(rounds.TURN_COMMENT_ACTION)
    def turn_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _open_turn_view(services, body, services.discussion.comment_view, int(action["value"]))

    @app.action(rounds.TURN_ADD_ACTION)
    def turn_add(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _open_turn_view(services, body, services.discussion.add_view, int(action["value"]))

    @app.action(rounds.TURN_PASS_ACTION)
    def turn_pass(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            services.discussion.pass_turn(
                team_id=payloads.team_id(body),
                turn_id=int(action["value"]),
                user_id=body["user"]["id"],
                response_url=body["response_url"],
            )
        except DomainError as exc:
            _respond(services, body, exc.message, replace=False)

    @app.action(rounds.VOTE_ACTION)
    def vote(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _ballot_click(services, body, action, services.voting.vote)

    @app.action(rounds.UNVOTE_ACTION)
    def unvote(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _ballot_click(services, body, action, services.voting.unvote)

    @app.action(rounds.RESULT_MENU_ACTION)
    def result_menu(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        what, _, item_id = action["selected_option"]["value"].partition(":")
        team_id, user_id = payloads.team_id(body), body["user"]["id"]
        try:
            if what == "root":
                view = services.voting.root_cause_view(team_id=team_id, item_id=int(item_id), user_id=user_id)
            else:
                retro = services.action_items.retro_of_item(team_id=team_id, item_id=int(item_id))
                view = services.action_items.new_view(
                    team_id=team_id, retro_id=retro, user_id=user_id, source_item_id=int(item_id)
                )
        except DomainError as exc:
            view = common.notice_modal(title="Results", text=exc.message)
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(rounds.NEW_ACTION_ACTION)
    def new_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            view = services.action_items.new_view(
                team_id=payloads.team_id(body), retro_id=int(action["value"]), user_id=body["user"]["id"]
            )
        except DomainError as exc:
            view = common.notice_modal(title="Action items", text=exc.message)
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(kickoff.PREVIOUS_ACTION)
    def previous_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        decision, _, action_id = action["selected_option"]["value"].partition(":")
        team_id = payloads.team_id(body)
        try:
            retro_id = services.action_items.retro_of_kickoff(
                team_id=team_id,
                channel_id=body["container"]["channel_id"],
                ts=body["container"]["message_ts"],
            )
            services.action_items.decide_previous(
                team_id=team_id,
                retro_id=retro_id,
                action_item_id=int(action_id),
                user_id=body["user"]["id"],
                decision=decision,
            )
        except DomainError as exc:
            _respond(services, body, exc.message, replace=False)
            return
        services.retros.refresh_kickoff(team_id=team_id, retro_id=retro_id)

    @app.action(action_items.DONE_ACTION)
    def action_done(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            done = services.action_items.complete(
                team_id=payloads.team_id(body),
                action_item_id=int(action["value"]),
                user_id=body["user"]["id"],
            )
        except DomainError as exc:
            _answer(services, body, exc.message, replace=False)
            return
        _answer(services, body, action_items.status_text(action=done), replace=True)

    @app.action(action_items.DUE_ACTION)
    def action_due(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.action_items.due_view(
            team_id=payloads.team_id(body), action_item_id=int(action["value"])
        )
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(action_items.CANT_ACTION)
    def action_cant(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.action_items.cant_view(
            team_id=payloads.team_id(body), action_item_id=int(action["value"])
        )
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)


def _open_turn_view(
    services: Services, body: dict[str, Any], build: Callable[..., dict[str, Any]], turn_id: int
) -> None:
    try:
        view = build(team_id=payloads.team_id(body), turn_id=turn_id, user_id=body["user"]["id"])
    except DomainError as exc:
        view = common.notice_modal(title="Round-robin", text=exc.message)
    services.gateway.open_view(trigger_id=body["trigger_id"], view=view)


def _ballot_click(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    change: Callable[..., list[common.Message]],
) -> None:
    retro_id, item_id = (int(part) for part in action["value"].split(":"))
    try:
        ballot = change(
            team_id=payloads.team_id(body), retro_id=retro_id, user_id=body["user"]["id"], item_id=item_id
        )
    except DomainError as exc:
        _respond(services, body, exc.message, replace=False)
        return
    # Replace the clicked ballot message with its new state (a ballot may span several messages).
    clicked = {b.get("block_id") for b in body["message"]["blocks"]}
    message = next((m for m in ballot if clicked & {b.get("block_id") for b in m.blocks}), ballot[0])
    _respond(services, body, message.text, replace=True, message_blocks=message.blocks)


def _answer(services: Services, body: dict[str, Any], text: str, *, replace: bool) -> None:
    """Answer a button in a message through its response_url; from the Home tab (which the service
    republishes) only problems need saying, in a small modal."""
    if body.get("response_url"):
        _respond(services, body, text, replace=replace)
    elif not replace:
        services.gateway.open_view(
            trigger_id=body["trigger_id"], view=common.notice_modal(title="Rearview", text=text)
        )


def _respond(
    services: Services,
    body: dict[str, Any],
    text: str,
    *,
    replace: bool,
    message_blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Answer through the click's response_url, by the outbox: the ack never waits on Slack."""
    with unit_of_work(services.engine) as session:
        services.outbox.respond(
            session,
            team_id=payloads.team_id(body),
            response_url=body["response_url"],
            text=text,
            blocks=message_blocks,
            replace_original=replace,
        )
        session.commit()
