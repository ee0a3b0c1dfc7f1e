"""The retro domain. Services never import slack_bolt; they reach Slack through a SlackGateway."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.clock import Clock
from bot.gateway import SlackGateway
from bot.scheduler import Jobs
from bot.services.actions import ActionService
from bot.services.authors import AuthorKeys
from bot.services.deadlines import DeadlineService
from bot.services.discussion import DiscussionService
from bot.services.home import HomeService
from bot.services.items import ItemService
from bot.services.replies import ReplyService
from bot.services.retros import RetroService
from bot.services.surveys import SurveyService
from bot.services.voting import VotingService


@dataclass(frozen=True)
class Services:
    gateway: SlackGateway
    clock: Clock
    retros: RetroService
    surveys: SurveyService
    items: ItemService
    deadlines: DeadlineService
    replies: ReplyService
    discussion: DiscussionService
    voting: VotingService
    actions: ActionService
    home: HomeService

    @classmethod
    def build(
        cls,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        jobs: Jobs,
        secret: str | None = None,
        rng: random.Random | None = None,
    ) -> Services:
        keys = AuthorKeys(engine=engine, master_secret=secret)
        home = HomeService(engine=engine, gateway=gateway, clock=clock)
        items = ItemService(engine=engine, clock=clock, keys=keys)
        voting = VotingService(engine=engine, gateway=gateway, clock=clock, jobs=jobs, keys=keys, home=home)
        discussion = DiscussionService(
            engine=engine,
            gateway=gateway,
            clock=clock,
            jobs=jobs,
            items=items,
            voting=voting,
            home=home,
            rng=rng,
        )
        deadlines = DeadlineService(
            engine=engine, gateway=gateway, clock=clock, jobs=jobs, discussion=discussion
        )
        actions = ActionService(engine=engine, gateway=gateway, clock=clock, jobs=jobs, home=home)
        return cls(
            gateway=gateway,
            clock=clock,
            retros=RetroService(
                engine=engine, gateway=gateway, clock=clock, deadlines=deadlines, actions=actions, home=home
            ),
            surveys=SurveyService(engine=engine, clock=clock, items=items),
            items=items,
            deadlines=deadlines,
            replies=ReplyService(items=items, gateway=gateway),
            discussion=discussion,
            voting=voting,
            actions=actions,
            home=home,
        )
