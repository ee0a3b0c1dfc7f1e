"""The retro plan DM's buttons: Start now and Skip this one (the facilitator's; see PlanService)."""

from __future__ import annotations

from bot.errors import DomainError
from bot.listeners.answers import Answer, Respond
from bot.listeners.requests import Click
from bot.listeners.routing import Routes
from bot.services import Services
from bot.services.plans import plan_title
from messages import plan

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
