"""Action items: `/retro action|actions`, the new-action-item modal, the owner's progress buttons (done, due
date, can't do it) and the kickoff's decisions on an earlier retro's items."""

from __future__ import annotations

import re

from bot.errors import DomainError, InvalidInput
from bot.listeners.answers import Answer, OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission
from bot.listeners.routing import Routes
from bot.parsing import unescape_slack
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from messages import action_items, kickoff, results, rounds

routes = Routes()

# "<what> [@team] @owner [due]": a user group before the person makes them its point person.
_CREATE_ARGS = re.compile(
    r"^(?P<what>.*?)\s*(?:<!subteam\^(?P<group>S[A-Z0-9]{1,30})(?:\|@?(?P<handle>[^>]{1,100}))?>\s*)?"
    r"<@(?P<owner>[UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(?P<due>.*)$",
    re.DOTALL,
)


def _explain_create(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return action_items.not_created_text(problems=list(exc.errors.values()))
    return exc.message


@routes.command("action", explain=_explain_create)
def create(services: Services, request: Command) -> Answer:
    match = _CREATE_ARGS.match(request.marked_args)
    if match is None or not match.group("what").strip():
        return Reply(action_items.ACTION_USAGE)
    retro = services.action_items.retro_for_channel(team_id=request.team_id, channel_id=request.channel_id)
    created = services.action_items.create(
        ActionItemDraft(
            team_id=request.team_id,
            retro_id=retro.id,
            created_by=request.user_id,
            text=unescape_slack(match.group("what")),
            owner_id=match.group("owner"),
            due_text=unescape_slack(match.group("due")) or None,
            owner_group_id=match.group("group"),
            owner_group_handle=match.group("handle"),
        )
    )
    if created is None:  # only a modal submitted twice stores nothing: a command has no view
        return None
    return Reply(action_items.created_text(action_item=created))


@routes.command("actions")
def listing(services: Services, request: Command) -> Answer:
    words = request.marked_args.split()
    scope = words[0] if words else "all"
    if scope not in ("mine", "all") and not scope.startswith("<@"):
        return Reply("Usage: `/retro actions [mine | @person | all]`.")
    found = services.action_items.listing(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id, scope=scope
    )
    reply = action_items.listing_reply(
        owner_id=found.owner_id,
        channel_id=found.channel_id,
        action_items=found.action_items,
        today=found.today,
    )
    return Reply(reply.text, reply.blocks)


# ------------------------------------------------------------ clicks


@routes.click(rounds.RESULT_MENU_ACTION, shows="open", title="Results")
def result_menu(services: Services, request: Click) -> Answer:
    """A result's overflow menu: "root:<item>" notes a root cause, "action:<item>" makes an action item of it."""
    what, item_id = request.parts()
    if what == "root":
        retro, item = services.voting.root_cause_item(
            team_id=request.team_id, item_id=int(item_id), user_id=request.user_id
        )
        return OpenModal(results.root_cause_modal(retro=retro, item=item))
    retro_id = services.action_items.retro_of_item(team_id=request.team_id, item_id=int(item_id))
    new = services.action_items.new_item(
        team_id=request.team_id, retro_id=retro_id, user_id=request.user_id, source_item_id=int(item_id)
    )
    return OpenModal(
        action_items.new_action_item_modal(retro=new.retro, source=new.source, default_due=new.default_due)
    )


@routes.click(rounds.NEW_ACTION_ACTION, shows="open", title="Action items")
def new_action_item(services: Services, request: Click) -> Answer:
    new = services.action_items.new_item(
        team_id=request.team_id, retro_id=request.int_value(), user_id=request.user_id
    )
    return OpenModal(
        action_items.new_action_item_modal(retro=new.retro, source=new.source, default_due=new.default_due)
    )


@routes.click(kickoff.PREVIOUS_ACTION)
def previous_action_item(services: Services, request: Click) -> Answer:
    """The kickoff's menu on an earlier retro's open item: "<carry|done|drop>:<action item>"."""
    decision, action_item_id = request.parts()
    retro_id = services.action_item_carryover.retro_of_kickoff(
        team_id=request.team_id, channel_id=request.channel_id or "", ts=request.message_ts or ""
    )
    services.action_item_carryover.decide_previous(
        team_id=request.team_id,
        retro_id=retro_id,
        action_item_id=int(action_item_id),
        user_id=request.user_id,
        decision=decision,
    )
    return None


@routes.click(action_items.DONE_ACTION)
def done(services: Services, request: Click) -> Answer:
    """In the owner's DM (answered through the response_url) or on the Home tab (which is republished:
    only a problem is shown, in a notice modal)."""
    completed = services.action_item_progress.complete(
        team_id=request.team_id, action_item_id=request.int_value(), user_id=request.user_id
    )
    return Respond(action_items.status_text(action_item=completed))


@routes.click(action_items.DUE_ACTION, shows="open", title="Action items")
def change_due(services: Services, request: Click) -> Answer:
    action_item = services.action_item_progress.for_change(
        team_id=request.team_id,
        action_item_id=request.int_value(),
        user_id=request.user_id,
        action="change_due_date",
    )
    return OpenModal(action_items.due_modal(action_item=action_item))


@routes.click(action_items.CANT_ACTION, shows="open", title="Action items")
def cannot_do(services: Services, request: Click) -> Answer:
    action_item = services.action_item_progress.for_change(
        team_id=request.team_id,
        action_item_id=request.int_value(),
        user_id=request.user_id,
        action="cannot_do",
    )
    return OpenModal(action_items.cant_modal(action_item=action_item))


# ------------------------------------------------------------ submissions


@routes.submission(action_items.ACTION_CALLBACK, fields=action_items.FIELDS, error_field="text")
def submitted(services: Services, request: Submission) -> Answer:
    state, fields = request.state, action_items.FIELDS
    source = request.metadata.get("source_item_id")
    services.action_items.create(
        ActionItemDraft(
            team_id=request.team_id,
            retro_id=request.meta_int("retro_id"),
            created_by=request.user_id,
            text=state.text(fields["text"]) or "",
            owner_id=state.user(fields["owner"]),
            due_text=state.text(fields["due"]),
            priority=state.selected(fields["priority"]) or "medium",
            link=state.text(fields["link"]),
            source_item_id=int(source) if source is not None else None,
            view_id=request.view_id,
        )
    )
    return None


@routes.submission(action_items.DUE_CALLBACK, fields=action_items.DUE_FIELDS, error_field="due")
def due_submitted(services: Services, request: Submission) -> Answer:
    services.action_item_progress.change_due(
        team_id=request.team_id,
        action_item_id=request.meta_int("action_id"),
        user_id=request.user_id,
        due=request.state.day(action_items.DUE_FIELDS["due"]),
    )
    return None


@routes.submission(action_items.CANT_CALLBACK, fields=action_items.CANT_FIELDS, error_field="reason")
def cant_submitted(services: Services, request: Submission) -> Answer:
    services.action_item_progress.cannot_do(
        team_id=request.team_id,
        action_item_id=request.meta_int("action_id"),
        user_id=request.user_id,
        reason=request.state.text(action_items.CANT_FIELDS["reason"]) or "",
    )
    return None
