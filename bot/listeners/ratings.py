"""The ROTI question's buttons: "Was this retro worth your time?" (1-5), answered in place."""

from __future__ import annotations

import re

from bot.errors import DomainError
from bot.listeners.answers import Answer, Respond
from bot.listeners.requests import Click
from bot.listeners.routing import Routes
from bot.services import Services
from messages import roti

routes = Routes()


@routes.click(re.compile(rf"^{roti.ROTI_ACTION}_[1-5]$"))
def rate(services: Services, request: Click) -> Answer:
    retro_id, _, score = request.value.partition(":")
    if not retro_id.isdigit() or not score.isdigit():  # only a forged click carries anything else
        raise DomainError("That rating is not one of the buttons.")
    retro = services.roti.rate(
        team_id=request.team_id, retro_id=int(retro_id), user_id=request.user_id, score=int(score)
    )
    message = roti.rated_message(retro=retro, score=int(score))
    return Respond(message.text, blocks=message.blocks)
