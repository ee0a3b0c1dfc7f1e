"""The retro plan DM's buttons (Start now, Looks good, Edit, Skip this one) and its Edit modal: the plan's
facilitator's alone (PlanService checks)."""

from __future__ import annotations

from bot.errors import DomainError
from bot.listeners.answers import Answer, OpenModal, Respond
from bot.listeners.requests import Click, Submission
from bot.listeners.routing import Routes
from bot.listeners.settings_form import settings_from
from bot.services import Services
from bot.services.plans import PlanEdit, plan_title
from messages import new_retro, plan
from storage.models import Retro

routes = Routes()


def _plan_id(request: Click) -> int:
    if not request.value.isdigit():  # only a forged click carries anything else
        raise DomainError("This plan no longer exists.")
    return int(request.value)


@routes.click(plan.PLAN_START_ACTION)
def start_now(services: Services, request: Click) -> Answer:
    """The plan DM becomes what happened: the retro started, and where."""
    retro = services.plans.start_now(
        team_id=request.team_id, plan_id=_plan_id(request), user_id=request.user_id
    )
    return Respond(plan.started_text(title=retro.title, channel_id=retro.channel_id))


@routes.click(plan.PLAN_SKIP_ACTION)
def skip(services: Services, request: Click) -> Answer:
    skipped = services.plans.skip(team_id=request.team_id, plan_id=_plan_id(request), user_id=request.user_id)
    return Respond(plan.skipped_text(title=plan_title(skipped), channel_id=skipped.channel_id))


@routes.click(plan.PLAN_REVIEWED_ACTION)
def looks_good(services: Services, request: Click) -> Answer:
    """Reviewed: the plan DM says so; a plan whose time came while it waited starts now."""
    done = services.plans.looks_good(
        team_id=request.team_id, plan_id=_plan_id(request), user_id=request.user_id
    )
    if isinstance(done, Retro):
        return Respond(plan.started_text(title=done.title, channel_id=done.channel_id))
    message = plan.plan_message(done)
    return Respond(message.text, blocks=message.blocks)


@routes.click(plan.PLAN_EDIT_ACTION, title="Retro plan")
def edit(services: Services, request: Click) -> Answer:
    view = services.plans.edit_form(
        team_id=request.team_id, plan_id=_plan_id(request), user_id=request.user_id
    )
    return OpenModal(plan.plan_edit_modal(view))


@routes.submission(plan.PLAN_EDIT_CALLBACK, fields=plan.FIELDS, error_field="title")
def edited(services: Services, request: Submission) -> Answer:
    state = request.state
    services.plans.edit(
        PlanEdit(
            team_id=request.team_id,
            plan_id=request.meta_int("plan_id"),
            user_id=request.user_id,
            title=state.text(new_retro.NEW_TITLE_BLOCK) or "",
            planned_start=state.moment(plan.PLAN_START_BLOCK),
            collection_days=state.whole_number(plan.PLAN_DAYS_BLOCK, 0),
            settings=settings_from(state),
        )
    )
    return None
