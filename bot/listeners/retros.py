"""Starting, following and ending a retro: `/retro new|status|close|cancel|report|history|help`."""

from __future__ import annotations

from bot.listeners.answers import Answer, OpenModal, Reply
from bot.listeners.requests import Command
from bot.listeners.routing import Routes
from bot.parsing import unescape_slack
from bot.services import Services
from messages import new_retro, usage
from messages.text import escape

routes = Routes()


@routes.command("new")
def new(services: Services, request: Command) -> Answer:
    if request.in_dm:
        return Reply("Run `/retro new` in the team channel where the retro should happen, not in a DM.")
    services.retros.ensure_can_start(team_id=request.team_id, channel_id=request.channel_id)
    return OpenModal(
        new_retro.new_retro_modal(
            channel_id=request.channel_id, title=unescape_slack(request.args), now=services.clock()
        )
    )


@routes.command("status")
def status(services: Services, request: Command) -> Answer:
    message = services.retros.status(team_id=request.team_id, channel_id=request.channel_id)
    return Reply(message.text, message.blocks)


@routes.command("close")
def close(services: Services, request: Command) -> Answer:
    where = {"team_id": request.team_id, "channel_id": request.channel_id, "user_id": request.user_id}
    view = services.retros.close_view(**where)
    if view is None:
        # Closed already, but its report did not get out: try again.
        services.retros.close(**where)
        return Reply("Publishing the report again…")
    return OpenModal(view)


@routes.command("report")
def report(services: Services, request: Command) -> Answer:
    retro = services.retros.find_for_report(
        team_id=request.team_id, channel_id=request.channel_id, which=request.args
    )
    services.retros.request_report(team_id=request.team_id, retro_id=retro.id, user_id=request.user_id)
    return Reply(f"Uploading the report of *{escape(retro.title)}*…")


@routes.command("cancel")
def cancel(services: Services, request: Command) -> Answer:
    retro = services.retros.cancel(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id, reason=request.args
    )
    return Reply(f"*{escape(retro.title)}* is cancelled. The reason is on record.")


@routes.command("history")
def history(services: Services, request: Command) -> Answer:
    message, chartable = services.retros.history(team_id=request.team_id, channel_id=request.channel_id)
    if chartable:
        services.retros.request_chart(
            team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
        )
    return Reply(message.text, message.blocks)


@routes.command("help")
def help_(services: Services, request: Command) -> Answer:
    reply = usage.usage_message()
    return Reply(reply.text, reply.blocks)


@routes.command("*")
def unknown(services: Services, request: Command) -> Answer:
    reply = usage.usage_message(unknown=request.subcommand or None)
    return Reply(reply.text, reply.blocks)
