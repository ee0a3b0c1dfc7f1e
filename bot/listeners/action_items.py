"""Action items: `/retro action|actions`."""

from __future__ import annotations

import re

from bot.errors import DomainError, InvalidInput
from bot.listeners.answers import Answer, Reply
from bot.listeners.requests import Command
from bot.listeners.routing import Routes
from bot.parsing import unescape_slack
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from messages import action_items
from messages.text import escape

routes = Routes()

ACTION_USAGE = (
    "Usage: `/retro action <what> @owner [due]`, e.g. `/retro action Automate the rollback @bob next friday`."
)
_ACTION = re.compile(r"^(?P<what>.*?)\s*<@(?P<owner>[UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(?P<due>.*)$", re.DOTALL)


def _explain_action(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        problems = escape(" ".join(exc.errors.values()))  # they quote what was typed
        return f"I couldn't create that action item: {problems}\n{ACTION_USAGE}"
    return exc.message


@routes.command("action", explain=_explain_action)
def action(services: Services, request: Command) -> Answer:
    match = _ACTION.match(request.args)
    if match is None or not match.group("what").strip():
        return Reply(ACTION_USAGE)
    retro = services.action_items.retro_for_channel(team_id=request.team_id, channel_id=request.channel_id)
    created = services.action_items.create(
        ActionItemDraft(
            team_id=request.team_id,
            retro_id=retro.id,
            created_by=request.user_id,
            text=unescape_slack(match.group("what")),
            owner_id=match.group("owner"),
            due_text=match.group("due") or None,
        )
    )
    return Reply(action_items.created_text(action=created))


@routes.command("actions")
def actions(services: Services, request: Command) -> Answer:
    words = request.args.split()
    scope = words[0] if words else "all"
    if scope not in ("mine", "all") and not scope.startswith("<@"):
        return Reply("Usage: `/retro actions [mine | @person | all]`.")
    listing = services.action_items.listing(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id, scope=scope
    )
    return Reply(listing.text, listing.blocks)
