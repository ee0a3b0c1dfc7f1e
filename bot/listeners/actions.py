"""Button presses."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.errors import DomainError
from bot.listeners import discussion, payloads
from bot.services import Services
from messages import action_items, common, items, kickoff, replies, rounds
from storage.db import unit_of_work


def register(app: App, services: Services) -> None:
    @app.action(common.OPEN_SURVEY_ACTION)
    def open_survey(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.surveys.view_for(
            team_id=payloads.team_id(body), retro_id=int(action["value"]), user_id=body["user"]["id"]
        )
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(common.ADD_ITEM_ACTION)
    def open_add_item(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.items.add_view(team_id=payloads.team_id(body), retro_id=int(action["value"]))
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(common.MY_ITEMS_ACTION)
    def open_my_items(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.items.my_items_view(
            team_id=payloads.team_id(body), retro_id=int(action["value"]), user_id=body["user"]["id"]
        )
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    @app.action(items.ITEM_EDIT_ACTION)
    def edit_item(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            view = services.items.edit_view(
                team_id=payloads.team_id(body), item_id=int(action["value"]), user_id=body["user"]["id"]
            )
        except DomainError as exc:
            view = common.notice_modal(title="My items", text=exc.message)
        services.gateway.push_view(trigger_id=body["trigger_id"], view=view)

    @app.action(items.ITEM_DELETE_ACTION)
    def delete_item(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        team_id, user_id = payloads.team_id(body), body["user"]["id"]
        try:
            retro = services.items.delete(team_id=team_id, item_id=int(action["value"]), user_id=user_id)
            view = services.items.my_items_view(team_id=team_id, retro_id=retro.id, user_id=user_id)
        except DomainError as exc:
            view = common.notice_modal(title="My items", text=exc.message)
        with unit_of_work(services.engine) as session:
            services.outbox.update_view(session, team_id=team_id, view_id=body["view"]["id"], view=view)
            session.commit()

    @app.action(rounds.RESULT_MENU_ACTION)
    def result_menu(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        what, _, item_id = action["selected_option"]["value"].partition(":")
        team_id, user_id = payloads.team_id(body), body["user"]["id"]
        try:
            if what == "root":
                view = discussion.root_cause_modal(
                    services, team_id=team_id, item_id=int(item_id), user_id=user_id
                )
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

    @app.action(re.compile(f"^{replies.PICK_CATEGORY_ACTION}:"))
    def pick_category(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        answer = services.replies.pick_category(
            team_id=payloads.team_id(body), user_id=body["user"]["id"], value=action["value"]
        )
        _respond(services, body, answer, replace=True)

    @app.action(re.compile(f"^{replies.PICK_RETRO_ACTION}:"))
    def pick_retro(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _respond(services, body, "Thanks, noted.", replace=True)
        services.replies.pick_retro(
            team_id=payloads.team_id(body),
            user_id=body["user"]["id"],
            channel_id=body["container"]["channel_id"],
            value=action["value"],
        )


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
