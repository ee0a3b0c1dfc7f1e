"""Button presses."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.errors import DomainError
from bot.listeners import payloads
from bot.services import Services
from messages import common, items, replies
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
