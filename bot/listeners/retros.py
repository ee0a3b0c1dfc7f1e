"""Starting, following and ending a retro: `/retro new|status|close|cancel|report|history|help`, and the
new-retro and close modals."""

from __future__ import annotations

from bot.domain import DEFAULT_FORMAT, DEFAULT_TURN_HOURS, DEFAULT_VOTES, Anonymity, Phase
from bot.listeners.answers import Answer, OpenModal, Reply
from bot.listeners.requests import Command, Submission
from bot.listeners.routing import Routes
from bot.services import Services
from bot.services.retro_drafts import ReleaseInfo, RetroDraft
from messages import closing, escalation, new_retro, usage
from messages.history import history_message
from messages.status import status_message

routes = Routes()


@routes.command("new")
def new(services: Services, request: Command) -> Answer:
    if request.in_dm:
        return Reply(new_retro.not_in_a_dm_text())
    if request.in_group_dm:
        return Reply(new_retro.not_in_a_group_dm_text())
    services.retros.ensure_can_start(team_id=request.team_id, channel_id=request.channel_id)
    return OpenModal(
        new_retro.new_retro_modal(
            channel_id=request.channel_id,
            title=request.args,
            now=services.clock(),
            channel_name=request.channel_name,
        ),
        bot_in=request.channel_id,
        refusal=new_retro.invite_the_bot_text(channel_id=request.channel_id),
    )


@routes.command("status")
def status(services: Services, request: Command) -> Answer:
    found = services.reports.status(team_id=request.team_id, channel_id=request.channel_id)
    message = status_message(
        retro=found.retro,
        stats=found.stats,
        now=found.now,
        turn_user=found.turn_user,
        turn_due=found.turn_due,
    )
    return Reply(message.text, message.blocks)


@routes.command("close")
def close(services: Services, request: Command) -> Answer:
    retro = services.closing.start_close(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    if retro.phase == Phase.COMPLETED:  # closed already, but its report did not get out: it goes again
        return Reply(closing.publishing_again_text())
    return OpenModal(closing.close_modal(retro=retro))


@routes.command("report")
def report(services: Services, request: Command) -> Answer:
    retro = services.reports.request_report_in(
        team_id=request.team_id, channel_id=request.channel_id, which=request.args, user_id=request.user_id
    )
    return Reply(closing.report_requested_text(retro=retro))


@routes.command("export")
def export(services: Services, request: Command) -> Answer:
    retro, fmt = services.reports.request_export_in(
        team_id=request.team_id, channel_id=request.channel_id, which=request.args, user_id=request.user_id
    )
    return Reply(closing.export_requested_text(retro=retro, fmt=fmt))


@routes.command("escalate")
def escalate(services: Services, request: Command) -> Answer:
    change = services.escalations.configure(
        team_id=request.team_id,
        channel_id=request.channel_id,
        user_id=request.user_id,
        args=request.marked_args,
    )
    return Reply(escalation.change_text(change))


@routes.command("cancel")
def cancel(services: Services, request: Command) -> Answer:
    retro = services.closing.cancel(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id, reason=request.args
    )
    return Reply(closing.cancelled_reply_text(retro=retro))


@routes.command("history")
def history(services: Services, request: Command) -> Answer:
    found = services.reports.history(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    message = history_message(channel_id=found.channel_id, retros=found.retros, metrics=found.metrics)
    return Reply(message.text, message.blocks)


@routes.command("help")
def help_(services: Services, request: Command) -> Answer:
    reply = usage.usage_message()
    return Reply(reply.text, reply.blocks)


@routes.command("*")
def unknown(services: Services, request: Command) -> Answer:
    reply = usage.usage_message(unknown=request.subcommand or None)
    return Reply(reply.text, reply.blocks)


@routes.submission(new_retro.NEW_RETRO_CALLBACK, fields=new_retro.FIELDS, error_field="title")
def new_retro_submitted(services: Services, request: Submission) -> Answer:
    services.retros.create(_draft(request))
    return None


@routes.submission(closing.CLOSE_CALLBACK, fields=closing.FIELDS, error_field="share_with")
def close_submitted(services: Services, request: Submission) -> Answer:
    services.closing.close_by_id(
        team_id=request.team_id,
        retro_id=request.meta_int("retro_id"),
        user_id=request.user_id,
        share_with=request.state.conversation(closing.STAKEHOLDER_BLOCK),
        view_id=request.view_id,
    )
    return None


def _draft(request: Submission) -> RetroDraft:
    state = request.state

    def release(field: str) -> str | None:
        return (state.text(new_retro.RELEASE_BLOCKS[field]) or "").strip() or None

    questions = [q.strip() for q in (state.text(new_retro.NEW_QUESTIONS_BLOCK) or "").splitlines()]
    return RetroDraft(
        team_id=request.team_id,
        channel_id=str(request.metadata["channel_id"]),
        facilitator_id=request.user_id,
        title=state.text(new_retro.NEW_TITLE_BLOCK) or "",
        participant_ids=tuple(state.users(new_retro.NEW_PARTICIPANTS_BLOCK)),
        deadline=state.moment(new_retro.NEW_DEADLINE_BLOCK),
        format=state.selected(new_retro.NEW_FORMAT_BLOCK) or DEFAULT_FORMAT,
        anonymity=state.selected(new_retro.NEW_ANONYMITY_BLOCK) or Anonymity.OPTIONAL,
        custom_questions=tuple(q for q in questions if q),
        round_robin_scope=state.selected(new_retro.NEW_SCOPE_BLOCK) or "everyone",
        turn_hours=state.whole_number(new_retro.NEW_TURN_HOURS_BLOCK, DEFAULT_TURN_HOURS),
        votes_per_person=state.whole_number(new_retro.NEW_VOTES_BLOCK, DEFAULT_VOTES),
        followup_weeks=state.whole_number(new_retro.NEW_FOLLOWUP_BLOCK, 2),
        release=ReleaseInfo(
            version=release("version"),
            deploy_date=state.day(new_retro.RELEASE_BLOCKS["deploy_date"]),
            scope=release("scope"),
            incidents=release("incidents"),
            rollbacks=release("rollbacks"),
            hotfixes=release("hotfixes"),
            notes=release("notes"),
        ),
    )
