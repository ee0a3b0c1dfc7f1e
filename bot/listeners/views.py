"""Modal submissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain import DEFAULT_FORMAT, DEFAULT_TURN_HOURS, DEFAULT_VOTES, Anonymity
from bot.errors import DomainError, InvalidInput
from bot.listeners import payloads
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.retros import ReleaseInfo, RetroDraft
from messages import action_items, closing, items, new_retro, rounds


def register(app: App, services: Services) -> None:
    @app.view(new_retro.NEW_RETRO_CALLBACK)
    def new_retro_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            services.retros.create(_draft(body, view))
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack()

    @app.view(rounds.TURN_COMMENT_CALLBACK)
    def turn_comment_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        number = payloads.selected(view, rounds.TURN_ITEM_BLOCK) or payloads.number(
            view, rounds.TURN_ITEM_BLOCK
        )
        _answer_turn(
            services,
            ack,
            lambda: services.discussion.comment(
                team_id=payloads.team_id(body),
                turn_id=int(payloads.metadata(view)["turn_id"]),
                user_id=body["user"]["id"],
                item_number=int(number) if number and number.isdigit() else None,
                text=payloads.text(view, rounds.TURN_TEXT_BLOCK) or "",
            ),
            error_block=rounds.TURN_TEXT_BLOCK,
        )

    @app.view(rounds.TURN_ADD_CALLBACK)
    def turn_add_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _answer_turn(
            services,
            ack,
            lambda: services.discussion.add(
                team_id=payloads.team_id(body),
                turn_id=int(payloads.metadata(view)["turn_id"]),
                user_id=body["user"]["id"],
                category=payloads.selected(view, items.ITEM_CATEGORY_BLOCK) or "",
                text=payloads.text(view, items.ITEM_TEXT_BLOCK) or "",
            ),
            error_block=items.ITEM_TEXT_BLOCK,
        )

    @app.view(rounds.ROOT_CAUSE_CALLBACK)
    def root_cause_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            services.voting.set_root_cause(
                team_id=payloads.team_id(body),
                item_id=int(payloads.metadata(view)["item_id"]),
                user_id=body["user"]["id"],
                text=payloads.text(view, rounds.ROOT_CAUSE_BLOCK) or "",
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except DomainError as exc:
            ack(response_action="errors", errors={rounds.ROOT_CAUSE_BLOCK: exc.message})
            return
        ack()

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


def _answer_turn(services: Services, ack: Ack, answer: Callable[[], None], *, error_block: str) -> None:
    """Record the answer, end the turn and queue what it causes before the ack: errors go back into the
    modal, and nothing here waits on Slack."""
    try:
        answer()
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    except DomainError as exc:
        ack(response_action="errors", errors={error_block: exc.message})
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
