"""A channel's tracker: `/retro tracker` opens its modal (GitHub Issues, Jira or a webhook), for the
facilitator of the channel's latest retro; saving it checks the connection after the ack."""

from __future__ import annotations

from bot.listeners.answers import Answer, OpenModal, Reply
from bot.listeners.requests import Command, Submission
from bot.listeners.routing import Routes
from bot.services import Services
from bot.services.trackers import TrackerDraft
from messages import trackers as screen

routes = Routes()


@routes.command("tracker")
def tracker(services: Services, request: Command) -> Answer:
    if request.in_dm or request.in_group_dm:
        return Reply(screen.not_in_a_channel_text())
    form = services.trackers.form(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(screen.tracker_modal(form))


@routes.submission(screen.TRACKER_CALLBACK, fields=screen.FIELDS, error_field="kind")
def submitted(services: Services, request: Submission) -> Answer:
    state = request.state
    services.trackers.save(
        TrackerDraft(
            team_id=request.team_id,
            channel_id=str(request.metadata["channel_id"]),
            user_id=request.user_id,
            kind=state.selected(screen.KIND_BLOCK) or "",
            url=state.text(screen.URL_BLOCK) or "",
            project=state.text(screen.PROJECT_BLOCK) or "",
            email=state.text(screen.EMAIL_BLOCK) or "",
            secret=state.text(screen.SECRET_BLOCK) or "",
        )
    )
    return None
