"""The round-robin and voting: `/retro next|skip|pause|resume`."""

from __future__ import annotations

from bot.listeners.answers import Answer, Reply
from bot.listeners.requests import Command
from bot.listeners.routing import Routes
from bot.services import Services
from messages import deadlines

routes = Routes()


@routes.command("next")
def next_step(services: Services, request: Command) -> Answer:
    retro = services.discussion.check_next(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    services.discussion.next_step(team_id=request.team_id, retro_id=retro.id)
    return Reply(deadlines.next_step_text(retro=retro))


@routes.command("skip")
def skip(services: Services, request: Command) -> Answer:
    return Reply(
        services.discussion.skip(
            team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
        )
    )


@routes.command("pause")
def pause(services: Services, request: Command) -> Answer:
    return Reply(
        services.discussion.pause(
            team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
        )
    )


@routes.command("resume")
def resume(services: Services, request: Command) -> Answer:
    return Reply(
        services.discussion.resume(
            team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
        )
    )
