"""A channel's retro schedule: `/retro schedule` (its modal, or what is in place with Edit / Pause (Resume) /
Delete), and the Resume button of the notice that a schedule paused itself."""

from __future__ import annotations

from bot.listeners.answers import Answer, OpenModal, Reply, Respond
from bot.listeners.requests import Click, Command, Submission
from bot.listeners.routing import Routes
from bot.listeners.settings_form import settings_from
from bot.services import Services
from bot.services.schedules import ScheduleDraft
from messages import schedule as screen

routes = Routes()


@routes.command("schedule")
def schedule(services: Services, request: Command) -> Answer:
    if request.in_dm or request.in_group_dm:
        return Reply(screen.not_in_a_channel_text())
    current = services.schedules.current(team_id=request.team_id, channel_id=request.channel_id)
    if current is not None:
        message = screen.summary_message(current)
        return Reply(message.text, message.blocks)
    form = services.schedules.new_form(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(
        screen.schedule_modal(form),
        bot_in=request.channel_id,
        refusal=screen.invite_the_bot_text(channel_id=request.channel_id),
    )


@routes.click(screen.SCHEDULE_EDIT_ACTION, shows="open", title="Retro schedule")
def edit(services: Services, request: Click) -> Answer:
    form = services.schedules.edit_form(
        team_id=request.team_id, schedule_id=request.int_value(), user_id=request.user_id
    )
    return OpenModal(screen.schedule_modal(form))


@routes.click(screen.SCHEDULE_PAUSE_ACTION, title="Retro schedule")
def pause(services: Services, request: Click) -> Answer:
    paused = services.schedules.pause(
        team_id=request.team_id, schedule_id=request.int_value(), user_id=request.user_id
    )
    message = screen.summary_message(paused)
    return Respond(message.text, blocks=message.blocks)


@routes.click(screen.SCHEDULE_RESUME_ACTION, title="Retro schedule")
def resume(services: Services, request: Click) -> Answer:
    resumed = services.schedules.resume(
        team_id=request.team_id, schedule_id=request.int_value(), user_id=request.user_id
    )
    message = screen.summary_message(resumed)
    return Respond(message.text, blocks=message.blocks)


@routes.click(screen.SCHEDULE_DELETE_ACTION, title="Retro schedule")
def delete(services: Services, request: Click) -> Answer:
    services.schedules.delete(
        team_id=request.team_id, schedule_id=request.int_value(), user_id=request.user_id
    )
    return Respond(screen.deleted_text())


@routes.submission(screen.SCHEDULE_CALLBACK, fields=screen.FIELDS, error_field="cadence")
def submitted(services: Services, request: Submission) -> Answer:
    services.schedules.save(draft_of(request))
    return None


def draft_of(request: Submission) -> ScheduleDraft:
    state = request.state
    chosen = state.selected(screen.CADENCE_BLOCK) or ""
    cadence, _, every = chosen.partition(":")
    return ScheduleDraft(
        team_id=request.team_id,
        channel_id=str(request.metadata["channel_id"]),
        user_id=request.user_id,
        cadence=None if chosen == "none" else cadence,
        every_weeks=int(every) if every.isdigit() else 1,
        weekday=state.whole_number(screen.WEEKDAY_BLOCK, -1),
        at_time=state.clock_time(screen.TIME_BLOCK),
        collection_days=state.whole_number(screen.COLLECTION_BLOCK, 0),
        settings=settings_from(state),
        facilitation=state.selected(screen.FACILITATION_BLOCK) or "",
        facilitator_id=state.user(screen.FACILITATOR_BLOCK),
        rotation=tuple(state.users(screen.ROTATION_BLOCK)),
        release_rule=state.selected(screen.RELEASE_RULE_BLOCK) or "",
        release_window_days=state.whole_number(screen.WINDOW_BLOCK, 0),
        unreviewed=state.selected(screen.UNREVIEWED_BLOCK) or "",
    )
