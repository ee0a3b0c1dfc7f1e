"""Every service of a runtime, built together (Services.build) and handed to the listeners, jobs and workers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.clock import Clock
from bot.gateway import SlackGateway
from bot.outbox import Outbox
from bot.scheduler import Jobs
from bot.secret_box import SecretBox
from bot.services.action_item_carryover import ActionItemCarryOver
from bot.services.action_item_notices import ActionItemNotices
from bot.services.action_item_progress import ActionItemProgress
from bot.services.action_items import ActionItemService
from bot.services.authors import AuthorKeys
from bot.services.closing import ClosingService
from bot.services.deadlines import DeadlineService
from bot.services.escalations import EscalationService
from bot.services.facilitation import Facilitation
from bot.services.home import HomeService
from bot.services.items import ItemService
from bot.services.kudos import KudosService
from bot.services.people import People
from bot.services.plans import PlanService
from bot.services.releases import ReleaseService
from bot.services.replies import ReplyService
from bot.services.reports import ReportService
from bot.services.retro_deliveries import RetroDeliveries
from bot.services.retros import RetroService
from bot.services.roti import RotiService
from bot.services.round_robin import RoundRobin
from bot.services.schedules import ScheduleService
from bot.services.surveys import SurveyService
from bot.services.timers import Timers
from bot.services.trackers import TrackerService
from bot.services.turns import TurnService
from bot.services.voting import VotingService


@dataclass(frozen=True)
class Services:
    engine: Engine
    gateway: SlackGateway  # for views.open/push on request threads, and the workers' lookups
    clock: Clock
    outbox: Outbox
    timers: Timers
    people: People
    retros: RetroService
    retro_deliveries: RetroDeliveries
    closing: ClosingService
    reports: ReportService
    surveys: SurveyService
    items: ItemService
    deadlines: DeadlineService
    replies: ReplyService
    round_robin: RoundRobin  # the turns' order and timing
    turns: TurnService  # answering a turn
    facilitation: Facilitation  # /retro next|skip|pause|resume
    voting: VotingService
    action_items: ActionItemService
    action_item_notices: ActionItemNotices
    action_item_progress: ActionItemProgress
    action_item_carryover: ActionItemCarryOver
    home: HomeService
    plans: PlanService  # retros that start themselves: a cadence's or a release's plan
    schedules: ScheduleService  # a channel's cadence: plans its occurrences, pauses, resumes
    escalations: EscalationService  # where overdue action items and recurring problems go, weekly
    kudos: KudosService  # shout-outs from the survey and the round-robin
    roti: RotiService  # "was this retro worth your time?", asked at the close
    releases: ReleaseService  # releases posted by CI/CD tools (POST /api/releases) make retro plans
    trackers: TrackerService  # a channel's tracker: tickets for action items, their state read back

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
        outbox = Outbox(clock=clock)
        timers = Timers(engine=engine, jobs=jobs, clock=clock)
        people = People(engine=engine, gateway=gateway, clock=clock)
        home = HomeService(engine=engine, outbox=outbox, clock=clock)
        items = ItemService(engine=engine, clock=clock, keys=keys)
        voting = VotingService(engine=engine, outbox=outbox, clock=clock, timers=timers, keys=keys, home=home)
        round_robin = RoundRobin(
            engine=engine, outbox=outbox, clock=clock, timers=timers, voting=voting, home=home, rng=rng
        )
        deadlines = DeadlineService(
            engine=engine, outbox=outbox, clock=clock, timers=timers, round_robin=round_robin
        )
        trackers = TrackerService(
            engine=engine, outbox=outbox, clock=clock, timers=timers, home=home, box=SecretBox(secret)
        )
        notices = ActionItemNotices(engine=engine, outbox=outbox, clock=clock, tickets=trackers)
        action_items = ActionItemService(
            engine=engine,
            outbox=outbox,
            clock=clock,
            timers=timers,
            people=people,
            home=home,
            notices=notices,
            tickets=trackers,
        )
        carryover = ActionItemCarryOver(engine=engine, outbox=outbox, clock=clock, timers=timers, home=home)
        retros = RetroService(
            engine=engine,
            gateway=gateway,
            clock=clock,
            outbox=outbox,
            people=people,
            timers=timers,
            home=home,
        )
        roti = RotiService(engine=engine, clock=clock, outbox=outbox, keys=keys)
        kudos = KudosService(engine=engine, clock=clock, outbox=outbox, keys=keys)
        plans = PlanService(
            engine=engine, clock=clock, outbox=outbox, timers=timers, retros=retros, people=people
        )
        return cls(
            engine=engine,
            gateway=gateway,
            clock=clock,
            outbox=outbox,
            timers=timers,
            people=people,
            retros=retros,
            retro_deliveries=RetroDeliveries(
                engine=engine, gateway=gateway, clock=clock, outbox=outbox, retros=retros
            ),
            closing=ClosingService(
                engine=engine, clock=clock, outbox=outbox, timers=timers, home=home, roti=roti, kudos=kudos
            ),
            reports=ReportService(engine=engine, clock=clock, outbox=outbox),
            surveys=SurveyService(engine=engine, clock=clock, items=items, home=home, kudos=kudos),
            items=items,
            deadlines=deadlines,
            replies=ReplyService(items=items, outbox=outbox, engine=engine),
            round_robin=round_robin,
            turns=TurnService(
                engine=engine, outbox=outbox, clock=clock, items=items, round_robin=round_robin
            ),
            facilitation=Facilitation(
                engine=engine,
                outbox=outbox,
                clock=clock,
                timers=timers,
                round_robin=round_robin,
                voting=voting,
            ),
            voting=voting,
            action_items=action_items,
            action_item_notices=notices,
            action_item_progress=ActionItemProgress(
                engine=engine, outbox=outbox, clock=clock, timers=timers, home=home
            ),
            action_item_carryover=carryover,
            home=home,
            plans=plans,
            schedules=ScheduleService(
                engine=engine,
                clock=clock,
                outbox=outbox,
                timers=timers,
                plans=plans,
                people=people,
                gateway=gateway,
            ),
            escalations=EscalationService(
                engine=engine, clock=clock, outbox=outbox, timers=timers, people=people
            ),
            roti=roti,
            kudos=kudos,
            releases=ReleaseService(engine=engine, clock=clock, timers=timers, plans=plans),
            trackers=trackers,
        )
