"""Modal submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain import DEFAULT_FORMAT, FORMATS
from bot.errors import InvalidInput
from bot.listeners import payloads
from bot.services import Services
from bot.services.retros import RetroDraft
from bot.services.surveys import SurveyAnswers
from messages import blocks


def register(app: App, services: Services) -> None:
    @app.view(blocks.NEW_RETRO_CALLBACK)
    def new_retro_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        deadline = payloads.timestamp(view, blocks.NEW_DEADLINE_BLOCK)
        draft = RetroDraft(
            team_id=payloads.team_id(body),
            channel_id=str(payloads.metadata(view)["channel_id"]),
            facilitator_id=body["user"]["id"],
            title=payloads.text(view, blocks.NEW_TITLE_BLOCK) or "",
            participant_ids=tuple(payloads.users(view, blocks.NEW_PARTICIPANTS_BLOCK)),
            deadline=datetime.fromtimestamp(deadline, UTC) if deadline is not None else None,
            format=payloads.selected(view, blocks.NEW_FORMAT_BLOCK) or DEFAULT_FORMAT,
        )
        try:
            services.retros.validate(draft)
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack()
        services.retros.start(draft)

    @app.view(blocks.SURVEY_CALLBACK)
    def survey_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        retro_id = int(payloads.metadata(view)["retro_id"])
        team_id = payloads.team_id(body)
        rating = payloads.selected(view, blocks.SURVEY_SMOOTHNESS_BLOCK)
        categories = [c.key for fmt in FORMATS.values() for c in fmt.categories]
        answers = SurveyAnswers(
            items={key: payloads.text(view, blocks.survey_block_id(key)) for key in categories},
            smoothness=int(rating) if rating and rating.isdigit() else None,
            surprise=payloads.text(view, blocks.SURVEY_SURPRISE_BLOCK),
        )
        try:
            thanks = services.surveys.submit(
                team_id=team_id, retro_id=retro_id, user_id=body["user"]["id"], answers=answers
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack(response_action="update", view=thanks)
