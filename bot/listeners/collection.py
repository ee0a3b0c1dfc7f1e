"""Collecting answers: surveys, items, thread replies and DMs, deadlines: `/retro mine|remind|extend`."""

from __future__ import annotations

from bot.listeners.answers import Answer, OpenModal, Reply
from bot.listeners.requests import Command, HomeOpened, Posted
from bot.listeners.routing import Routes
from bot.services import Services
from messages import deadlines

routes = Routes()


@routes.command("mine")
def mine(services: Services, request: Command) -> Answer:
    retro = services.items.current_retro(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(
        services.items.my_items_view(team_id=request.team_id, retro_id=retro.id, user_id=request.user_id)
    )


@routes.command("remind")
def remind(services: Services, request: Command) -> Answer:
    return Reply(
        services.deadlines.remind_now(
            team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
        )
    )


@routes.command("extend")
def extend(services: Services, request: Command) -> Answer:
    retro = services.deadlines.check_extend(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(deadlines.extend_modal(retro=retro, now=services.clock()))


@routes.home_opened.append
def home_opened(services: Services, request: HomeOpened) -> None:
    if request.tab == "home":
        services.home.publish(team_id=request.team_id, user_id=request.user_id)


@routes.posted.append
def posted(services: Services, request: Posted) -> None:
    """A DM to the bot, or a reply in a retro's kickoff thread, is an item."""
    if request.in_dm:
        if _first(services, request):
            services.replies.direct_message(
                team_id=request.team_id,
                channel_id=request.channel_id,
                user_id=request.user_id,
                text=request.text,
            )
        return
    if not request.is_reply or request.thread_ts is None:
        return
    retro = services.replies.is_retro_thread(
        team_id=request.team_id, channel_id=request.channel_id, thread_ts=request.thread_ts
    )
    if retro is not None and _first(services, request):
        services.replies.thread_reply(retro=retro, user_id=request.user_id, ts=request.ts, text=request.text)


def _first(services: Services, request: Posted) -> bool:
    """Slack retries events and can deliver one message twice: act on the first delivery only."""
    keys = [f"message:{request.channel_id}:{request.ts}"]
    if request.event_id:
        keys.append(f"event:{request.event_id}")
    return services.items.first_delivery(team_id=request.team_id, raw_keys=keys)
