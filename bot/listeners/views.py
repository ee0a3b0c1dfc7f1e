"""Modal submissions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain import DEFAULT_FORMAT, DEFAULT_TURN_HOURS, DEFAULT_VOTES, FORMATS, Anonymity, ItemSource
from bot.errors import DomainError, InvalidInput
from bot.listeners import payloads
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.items import CollectionClosed
from bot.services.retros import ReleaseInfo, RetroDraft
from bot.services.surveys import SurveyAnswers
from messages import action_items, closing, common, deadlines, items, new_retro, survey
from storage.db import unit_of_work


def register(app: App, services: Services) -> None:
    @app.view(new_retro.NEW_RETRO_CALLBACK)
    def new_retro_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            services.retros.create(_draft(body, view))
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack()

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

    @app.view(action_items.ACTION_CALLBACK)
    def action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = payloads.metadata(view)
        draft = ActionItemDraft(
            team_id=payloads.team_id(body),
            retro_id=int(meta["retro_id"]),
            created_by=body["user"]["id"],
            text=payloads.text(view, action_items.WHAT_BLOCK) or "",
            owner_id=payloads.user(view, action_items.OWNER_BLOCK),
            due_text=payloads.text(view, action_items.DUE_BLOCK),
            priority=payloads.selected(view, action_items.PRIORITY_BLOCK) or "medium",
            link=payloads.text(view, action_items.LINK_BLOCK),
            source_item_id=meta.get("source_item_id"),
        )
        try:
            services.action_items.create(draft)
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack()

    @app.view(action_items.DUE_CALLBACK)
    def due_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        chosen = payloads.date_value(view, action_items.DUE_BLOCK)
        try:
            services.action_items.change_due(
                team_id=payloads.team_id(body),
                action_item_id=int(payloads.metadata(view)["action_id"]),
                user_id=body["user"]["id"],
                due=date.fromisoformat(chosen) if chosen else None,
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except DomainError as exc:
            ack(response_action="errors", errors={action_items.DUE_BLOCK: exc.message})
            return
        ack()

    @app.view(action_items.CANT_CALLBACK)
    def cant_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            services.action_items.cannot_do(
                team_id=payloads.team_id(body),
                action_item_id=int(payloads.metadata(view)["action_id"]),
                user_id=body["user"]["id"],
                reason=payloads.text(view, action_items.REASON_BLOCK) or "",
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except DomainError as exc:
            ack(response_action="errors", errors={action_items.REASON_BLOCK: exc.message})
            return
        ack()

    @app.view(closing.CLOSE_CALLBACK)
    def close_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id = payloads.team_id(body)
        try:
            services.retros.close_by_id(
                team_id=team_id,
                retro_id=int(payloads.metadata(view)["retro_id"]),
                user_id=body["user"]["id"],
                share_with=payloads.conversation(view, closing.STAKEHOLDER_BLOCK),
            )
        except DomainError as exc:
            ack(response_action="errors", errors={closing.STAKEHOLDER_BLOCK: exc.message})
            return
        ack()

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


def _draft(body: dict[str, Any], view: dict[str, Any]) -> RetroDraft:
    deadline = payloads.timestamp(view, new_retro.NEW_DEADLINE_BLOCK)
    deploy = payloads.date_value(view, new_retro.RELEASE_BLOCKS["deploy_date"])

    def release(field: str) -> str | None:
        return (payloads.text(view, new_retro.RELEASE_BLOCKS[field]) or "").strip() or None

    questions = [q.strip() for q in (payloads.text(view, new_retro.NEW_QUESTIONS_BLOCK) or "").splitlines()]
    return RetroDraft(
        team_id=payloads.team_id(body),
        channel_id=str(payloads.metadata(view)["channel_id"]),
        facilitator_id=body["user"]["id"],
        title=payloads.text(view, new_retro.NEW_TITLE_BLOCK) or "",
        participant_ids=tuple(payloads.users(view, new_retro.NEW_PARTICIPANTS_BLOCK)),
        deadline=datetime.fromtimestamp(deadline, UTC) if deadline is not None else None,
        format=payloads.selected(view, new_retro.NEW_FORMAT_BLOCK) or DEFAULT_FORMAT,
        anonymity=payloads.selected(view, new_retro.NEW_ANONYMITY_BLOCK) or Anonymity.OPTIONAL,
        custom_questions=tuple(q for q in questions if q),
        round_robin_scope=payloads.selected(view, new_retro.NEW_SCOPE_BLOCK) or "everyone",
        turn_hours=_int(payloads.selected(view, new_retro.NEW_TURN_HOURS_BLOCK), DEFAULT_TURN_HOURS),
        votes_per_person=_int(payloads.selected(view, new_retro.NEW_VOTES_BLOCK), DEFAULT_VOTES),
        followup_weeks=_int(payloads.selected(view, new_retro.NEW_FOLLOWUP_BLOCK), 2),
        release=ReleaseInfo(
            version=release("version"),
            deploy_date=date.fromisoformat(deploy) if deploy else None,
            scope=release("scope"),
            incidents=release("incidents"),
            rollbacks=release("rollbacks"),
            hotfixes=release("hotfixes"),
            notes=release("notes"),
        ),
    )


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default
