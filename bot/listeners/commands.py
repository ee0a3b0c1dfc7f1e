"""/retro and its subcommands."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.errors import DomainError, InvalidInput
from bot.parsing import unescape_slack
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from messages import action_items, deadlines, new_retro, usage
from messages.text import escape


def register(app: App, services: Services) -> None:
    @app.command("/retro")
    def retro_command(ack: Ack, command: dict[str, Any]) -> None:
        subcommand, _, rest = (command.get("text") or "").strip().partition(" ")
        handler = _SUBCOMMANDS.get(subcommand.lower())
        if handler is None:
            reply = usage.usage_message(unknown=subcommand or None)
            ack(text=reply.text, blocks=reply.blocks)
            return
        try:
            handler(services, ack, command, rest.strip())
        except DomainError as exc:
            ack(text=exc.message)


def _new(services: Services, ack: Ack, command: dict[str, Any], title: str) -> None:
    channel_id = command["channel_id"]
    if channel_id.startswith("D"):
        ack(text="Run `/retro new` in the team channel where the retro should happen, not in a DM.")
        return
    services.retros.ensure_can_start(team_id=command["team_id"], channel_id=channel_id)
    ack()
    view = new_retro.new_retro_modal(channel_id=channel_id, title=unescape_slack(title), now=services.clock())
    services.gateway.open_view(trigger_id=command["trigger_id"], view=view)


def _status(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    message = services.retros.status(team_id=command["team_id"], channel_id=command["channel_id"])
    ack(text=message.text, blocks=message.blocks)


def _close(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    team_id = command["team_id"]
    view = services.retros.close_view(
        team_id=team_id, channel_id=command["channel_id"], user_id=command["user_id"]
    )
    if view is None:
        # Closed already, but its report did not get out: try again.
        services.retros.close(team_id=team_id, channel_id=command["channel_id"], user_id=command["user_id"])
        ack(text="Publishing the report again…")
        return
    ack()
    services.gateway.open_view(trigger_id=command["trigger_id"], view=view)


def _mine(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    retro = services.items.current_retro(team_id=team_id, channel_id=command["channel_id"], user_id=user_id)
    ack()
    assert retro.id is not None
    view = services.items.my_items_view(team_id=team_id, retro_id=retro.id, user_id=user_id)
    services.gateway.open_view(trigger_id=command["trigger_id"], view=view)


def _remind(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    ack(text=services.deadlines.remind_now(team_id=team_id, channel_id=channel_id, user_id=user_id))


def _extend(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    retro = services.deadlines.check_extend(
        team_id=command["team_id"], channel_id=command["channel_id"], user_id=command["user_id"]
    )
    ack()
    services.gateway.open_view(
        trigger_id=command["trigger_id"], view=deadlines.extend_modal(retro=retro, now=services.clock())
    )


def _next(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    team_id = command["team_id"]
    retro = services.discussion.check_next(
        team_id=team_id, channel_id=command["channel_id"], user_id=command["user_id"]
    )
    assert retro.id is not None
    services.discussion.next_step(team_id=team_id, retro_id=retro.id)
    ack(text=deadlines.next_step_text(retro=retro))


def _skip(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    ack(text=services.discussion.skip(**_where(command)))


def _pause(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    ack(text=services.discussion.pause(**_where(command)))


def _resume(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    ack(text=services.discussion.resume(**_where(command)))


def _where(command: dict[str, Any]) -> dict[str, str]:
    return {"team_id": command["team_id"], "channel_id": command["channel_id"], "user_id": command["user_id"]}


_ACTION = re.compile(r"^(?P<what>.*?)\s*<@(?P<owner>[UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(?P<due>.*)$", re.DOTALL)


def _action(services: Services, ack: Ack, command: dict[str, Any], rest: str) -> None:
    match = _ACTION.match(rest)
    if match is None or not match.group("what").strip():
        ack(text=ACTION_USAGE)
        return
    team_id, user_id = command["team_id"], command["user_id"]
    retro = services.action_items.retro_for_channel(team_id=team_id, channel_id=command["channel_id"])
    try:
        created = services.action_items.create(
            ActionItemDraft(
                team_id=team_id,
                retro_id=retro.id or 0,
                created_by=user_id,
                text=unescape_slack(match.group("what")),
                owner_id=match.group("owner"),
                due_text=match.group("due") or None,
            )
        )
    except InvalidInput as exc:
        problems = escape(" ".join(exc.errors.values()))  # they quote what was typed
        ack(text=f"I couldn't create that action item: {problems}\n{ACTION_USAGE}")
        return
    ack(text=action_items.created_text(action=created))


ACTION_USAGE = (
    "Usage: `/retro action <what> @owner [due]`, e.g. `/retro action Automate the rollback @bob next friday`."
)


def _actions(services: Services, ack: Ack, command: dict[str, Any], rest: str) -> None:
    scope = rest.split()[0] if rest.split() else "all"
    if scope not in ("mine", "all") and not scope.startswith("<@"):
        ack(text="Usage: `/retro actions [mine | @person | all]`.")
        return
    listing = services.action_items.listing(
        team_id=command["team_id"], channel_id=command["channel_id"], user_id=command["user_id"], scope=scope
    )
    ack(text=listing.text, blocks=listing.blocks)


def _report(services: Services, ack: Ack, command: dict[str, Any], rest: str) -> None:
    team_id = command["team_id"]
    retro = services.retros.find_for_report(team_id=team_id, channel_id=command["channel_id"], which=rest)
    services.retros.request_report(team_id=team_id, retro_id=retro.id or 0, user_id=command["user_id"])
    ack(text=f"Uploading the report of *{escape(retro.title)}*…")


def _cancel(services: Services, ack: Ack, command: dict[str, Any], rest: str) -> None:
    retro = services.retros.cancel(
        team_id=command["team_id"], channel_id=command["channel_id"], user_id=command["user_id"], reason=rest
    )
    ack(text=f"*{escape(retro.title)}* is cancelled. The reason is on record.")


def _history(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    message, chartable = services.retros.history(team_id=command["team_id"], channel_id=command["channel_id"])
    if chartable:
        services.retros.request_chart(
            team_id=command["team_id"], channel_id=command["channel_id"], user_id=command["user_id"]
        )
    ack(text=message.text, blocks=message.blocks)


def _help(services: Services, ack: Ack, command: dict[str, Any], _rest: str) -> None:
    reply = usage.usage_message()
    ack(text=reply.text, blocks=reply.blocks)


_SUBCOMMANDS = {
    "new": _new,
    "status": _status,
    "close": _close,
    "mine": _mine,
    "remind": _remind,
    "extend": _extend,
    "next": _next,
    "skip": _skip,
    "pause": _pause,
    "resume": _resume,
    "action": _action,
    "actions": _actions,
    "report": _report,
    "cancel": _cancel,
    "history": _history,
    "help": _help,
}
