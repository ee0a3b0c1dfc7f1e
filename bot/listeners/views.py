"""Modal submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain import FORMATS, Anonymity, ItemSource
from bot.errors import DomainError, InvalidInput
from bot.listeners import payloads
from bot.services import Services
from bot.services.items import CollectionClosed
from bot.services.surveys import SurveyAnswers
from messages import common, deadlines, items, survey
from storage.db import unit_of_work


def register(app: App, services: Services) -> None:
    @app.view(survey.SURVEY_CALLBACK)
    def survey_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        retro_id = int(payloads.metadata(view)["retro_id"])
        rating = payloads.selected(view, survey.SURVEY_SMOOTHNESS_BLOCK)
        categories = {c.key for fmt in FORMATS.values() for c in fmt.categories}
        answers = SurveyAnswers(
            items={key: payloads.text(view, survey.survey_block_id(key)) for key in categories},
            smoothness=int(rating) if rating and rating.isdigit() else None,
            surprise=payloads.text(view, survey.SURVEY_SURPRISE_BLOCK),
            custom=[payloads.text(view, survey.custom_block_id(n)) for n in range(3)],
            anonymous=common.ANONYMOUS_VALUE in payloads.checked(view, common.ANONYMOUS_BLOCK),
        )
        try:
            thanks = services.surveys.submit(
                team_id=payloads.team_id(body), retro_id=retro_id, user_id=body["user"]["id"], answers=answers
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        services.home.publish(team_id=payloads.team_id(body), user_id=body["user"]["id"])
        ack(response_action="update", view=thanks)

    @app.view(items.ITEM_CALLBACK)
    def item_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = payloads.metadata(view)
        team_id, user_id = payloads.team_id(body), body["user"]["id"]
        category = payloads.selected(view, items.ITEM_CATEGORY_BLOCK) or ""
        text = payloads.text(view, items.ITEM_TEXT_BLOCK) or ""
        try:
            if meta.get("item_id") is None:
                retro = services.items.add(
                    team_id=team_id,
                    retro_id=int(meta["retro_id"]),
                    user_id=user_id,
                    entries=[(category, text)],
                    wants_anonymous=common.ANONYMOUS_VALUE in payloads.checked(view, common.ANONYMOUS_BLOCK),
                    source=ItemSource.MODAL,
                )
            else:
                retro = services.items.edit(
                    team_id=team_id,
                    item_id=int(meta["item_id"]),
                    user_id=user_id,
                    category=category,
                    text=text,
                )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except CollectionClosed as exc:
            ack(response_action="errors", errors={items.ITEM_TEXT_BLOCK: exc.plain})
            return
        except DomainError as exc:
            ack(response_action="errors", errors={items.ITEM_TEXT_BLOCK: exc.message})
            return
        if meta.get("item_id") is None:
            label = FORMATS[retro.format].category(category).label
            anonymous = retro.anonymity == Anonymity.ANONYMOUS or (
                retro.anonymity == Anonymity.OPTIONAL
                and common.ANONYMOUS_VALUE in payloads.checked(view, common.ANONYMOUS_BLOCK)
            )
            ack(
                response_action="update",
                view=items.item_added_modal(retro=retro, category_label=label, anonymous=anonymous),
            )
            return
        ack()  # closes the edit view and returns to the list, which is refreshed below
        root = view.get("root_view_id")
        if root and root != view.get("id"):
            listing = services.items.my_items_view(team_id=team_id, retro_id=retro.id, user_id=user_id)
            with unit_of_work(services.engine) as session:
                services.outbox.update_view(session, team_id=team_id, view_id=root, view=listing)
                session.commit()

    @app.view(deadlines.EXTEND_CALLBACK)
    def extend_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        chosen = payloads.timestamp(view, deadlines.EXTEND_DEADLINE_BLOCK)
        try:
            services.deadlines.extend(
                team_id=payloads.team_id(body),
                retro_id=int(payloads.metadata(view)["retro_id"]),
                user_id=body["user"]["id"],
                deadline=datetime.fromtimestamp(chosen, UTC) if chosen is not None else None,
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except DomainError as exc:
            ack(response_action="errors", errors={deadlines.EXTEND_DEADLINE_BLOCK: exc.message})
            return
        ack()
