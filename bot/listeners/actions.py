"""Button presses."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.listeners import payloads
from bot.services import Services
from messages import blocks


def register(app: App, services: Services) -> None:
    @app.action(blocks.OPEN_SURVEY_ACTION)
    def open_survey(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = services.surveys.view_for(
            team_id=payloads.team_id(body), retro_id=int(action["value"]), user_id=body["user"]["id"]
        )
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)
