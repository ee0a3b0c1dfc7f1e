"""The round-robin, voting and results: `/retro next|skip|pause|resume`, answering a turn, the ballot's
buttons and the root-cause notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.listeners.answers import Answer, OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission
from bot.listeners.routing import Routes
from bot.services import Services
from bot.services.kudos import KudosDraft
from bot.services.voting import Ballot
from messages import ballot, common, deadlines, items, kudos, results, rounds

routes = Routes()


# ---------------------------------------------------------------- facilitator's commands


@routes.command("next")
def next_step(services: Services, request: Command) -> Answer:
    retro = services.facilitation.next_step(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return Reply(deadlines.next_step_text(retro=retro))


@routes.command("skip")
def skip(services: Services, request: Command) -> Answer:
    skipped = services.facilitation.skip(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return Reply(rounds.skipped_text(user_id=skipped))


@routes.command("pause")
def pause(services: Services, request: Command) -> Answer:
    services.facilitation.pause(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return Reply(rounds.paused_text())


@routes.command("resume")
def resume(services: Services, request: Command) -> Answer:
    services.facilitation.resume(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return Reply(rounds.resumed_text())


# ---------------------------------------------------------------- answering a turn


@routes.click(rounds.TURN_COMMENT_ACTION, shows="open", title="Round-robin")
def turn_comment(services: Services, request: Click) -> Answer:
    turn = services.turns.to_comment(
        team_id=request.team_id, turn_id=request.int_value(), user_id=request.user_id
    )
    return OpenModal(rounds.turn_comment_modal(retro=turn.retro, turn=turn.turn, items=turn.items))


@routes.click(rounds.TURN_ADD_ACTION, shows="open", title="Round-robin")
def turn_add(services: Services, request: Click) -> Answer:
    turn = services.turns.to_add(
        team_id=request.team_id, turn_id=request.int_value(), user_id=request.user_id
    )
    return OpenModal(rounds.turn_add_modal(retro=turn.retro, turn=turn.turn))


@routes.click(kudos.KUDOS_ACTION, shows="open", title="Give kudos")
def give_kudos(services: Services, request: Click) -> Answer:
    retro = services.kudos.retro_for_giving(
        team_id=request.team_id, retro_id=request.int_value(), user_id=request.user_id
    )
    return OpenModal(kudos.kudos_modal(retro=retro))


@routes.submission(kudos.KUDOS_CALLBACK, fields=kudos.FIELDS, error_field="to")
def kudos_given(services: Services, request: Submission) -> Answer:
    state = request.state
    services.kudos.give(
        team_id=request.team_id,
        retro_id=request.meta_int("retro_id"),
        user_id=request.user_id,
        draft=KudosDraft(
            to_user=state.user(kudos.KUDOS_USER_BLOCK),
            text=state.text(kudos.KUDOS_TEXT_BLOCK),
            wants_anonymous=common.ANONYMOUS_VALUE in state.checked(common.ANONYMOUS_BLOCK),
        ),
    )
    return None


@routes.click(rounds.TURN_PASS_ACTION)
def turn_pass(services: Services, request: Click) -> Answer:
    # The thanks goes out through the response_url with the turn's end, in the same transaction.
    services.turns.pass_turn(
        team_id=request.team_id,
        turn_id=request.int_value(),
        user_id=request.user_id,
        response_url=request.response_url,
    )
    return None


@routes.submission(rounds.TURN_COMMENT_CALLBACK, fields=rounds.TURN_COMMENT_FIELDS, error_field="text")
def turn_comment_submitted(services: Services, request: Submission) -> Answer:
    """Record the answer, end the turn and queue what it causes before the ack: errors go back into the
    modal, and nothing here waits on Slack."""
    # The item is a select, or a number input when there are too many items to list.
    number = request.state.selected(rounds.TURN_ITEM_BLOCK) or request.state.text(rounds.TURN_ITEM_BLOCK)
    services.turns.comment(
        team_id=request.team_id,
        turn_id=request.meta_int("turn_id"),
        user_id=request.user_id,
        item_number=int(number) if number and number.isdigit() else None,
        text=request.state.text(rounds.TURN_TEXT_BLOCK) or "",
        view_id=request.view_id,
    )
    return None


@routes.submission(rounds.TURN_ADD_CALLBACK, fields=rounds.TURN_ADD_FIELDS, error_field="text")
def turn_add_submitted(services: Services, request: Submission) -> Answer:
    services.turns.add(
        team_id=request.team_id,
        turn_id=request.meta_int("turn_id"),
        user_id=request.user_id,
        category=request.state.selected(items.ITEM_CATEGORY_BLOCK) or "",
        text=request.state.text(items.ITEM_TEXT_BLOCK) or "",
        view_id=request.view_id,
    )
    return None


# ---------------------------------------------------------------- voting


@routes.click(rounds.VOTE_ACTION)
def vote(services: Services, request: Click) -> Answer:
    return _ballot_click(services, request, services.voting.vote)


@routes.click(rounds.UNVOTE_ACTION)
def unvote(services: Services, request: Click) -> Answer:
    return _ballot_click(services, request, services.voting.unvote)


def _ballot_click(services: Services, request: Click, change: Callable[..., Ballot]) -> Answer:
    retro_id, item_id = (int(part) for part in request.value.split(":"))
    messages = ballot.ballot_of(
        change(team_id=request.team_id, retro_id=retro_id, user_id=request.user_id, item_id=item_id)
    )
    # Replace the clicked ballot message with its new state (a ballot may span several messages).
    clicked = set(request.message_block_ids)
    message = next((m for m in messages if clicked & {b.get("block_id") for b in m.blocks}), messages[0])
    return Respond(message.text, replace=True, blocks=message.blocks)


# ---------------------------------------------------------------- results


def root_cause_modal(services: Services, *, team_id: str, item_id: int, user_id: str) -> dict[str, Any]:
    """The facilitator's root-cause note on a result (from the results' menu); DomainError for anyone else."""
    retro, item = services.voting.root_cause_item(team_id=team_id, item_id=item_id, user_id=user_id)
    return results.root_cause_modal(retro=retro, item=item)


@routes.submission(rounds.ROOT_CAUSE_CALLBACK, fields=results.ROOT_CAUSE_FIELDS, error_field="root_cause")
def root_cause_submitted(services: Services, request: Submission) -> Answer:
    services.voting.set_root_cause(
        team_id=request.team_id,
        item_id=request.meta_int("item_id"),
        user_id=request.user_id,
        text=request.state.text(rounds.ROOT_CAUSE_BLOCK) or "",
    )
    return None
