"""The retro domain. Services never import slack_bolt; they reach Slack through a SlackGateway."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.clock import Clock
from bot.gateway import SlackGateway
from bot.services.retros import RetroService
from bot.services.surveys import SurveyService


@dataclass(frozen=True)
class Services:
    gateway: SlackGateway
    clock: Clock
    retros: RetroService
    surveys: SurveyService

    @classmethod
    def build(cls, *, engine: Engine, gateway: SlackGateway, clock: Clock) -> Services:
        return cls(
            gateway=gateway,
            clock=clock,
            retros=RetroService(engine=engine, gateway=gateway, clock=clock),
            surveys=SurveyService(engine=engine, clock=clock),
        )
