"""The round-robin: everyone gets a turn, one after another, at hours that suit where they live. This is
the turns' order and timing; answering a turn is bot/services/turns.py, the facilitator's controls
bot/services/facilitation.py."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Anonymity, Phase, TurnStatus
from bot.intents import Priority
from bot.outbox import Outbox
from bot.services.home import HomeService
from bot.services.items import number_items
from bot.services.lookup import require_retro
from bot.services.schedules import count_collection
from bot.services.stats import compute_stats
from bot.services.timers import Later, Timers
from bot.services.voting import VotingService
from bot.timing import add_working_hours, next_daytime, zone
from messages import deadlines, rounds
from storage import discussion as queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.ids import rewrite_in_random_order
from storage.models import Item, Response, Retro, Turn

logger = logging.getLogger(__name__)

OPEN_TURNS = (TurnStatus.ACTIVE, TurnStatus.SCHEDULED)


class RoundRobin:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        voting: VotingService,
        home: HomeService,
        rng: random.Random | None = None,
    ) -> None:
        self.home = home
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.voting = voting
        self.rng = rng or random.SystemRandom()

    # ------------------------------------------------------------ beginning

    def begin(self, *, team_id: str, retro_id: int) -> bool:
        """Close collection, post the items in the thread, and start the round-robin. Runs once."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != Phase.COLLECTING:
                return False
            self.begin_in(session, retro, later)
            session.commit()
        later.run(self.timers)
        return True

    def begin_in(self, session: Session, retro: Retro, later: Later) -> None:
        """Everything beginning the round-robin changes and says, in the caller's transaction."""
        now = self.clock()
        team_id, retro_id = retro.team_id, retro.id
        retro.phase = Phase.DISCUSSING
        session.add(retro)
        self._number_items(session, retro)
        people = retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
        chosen = [p.user_id for p in people if retro.round_robin_scope != "respondents" or p.responded_at]
        self.rng.shuffle(chosen)
        for position, user_id in enumerate(chosen, 1):
            session.add(Turn(team_id=team_id, retro_id=retro_id, position=position, user_id=user_id))
        session.flush()
        stats = compute_stats(session, retro)
        listed = list(item_queries.items(session, team_id=team_id, retro_id=retro_id))
        later.cancel += self.timers.collection_ids(retro, people)
        for part, message in enumerate(rounds.items_digest_messages(retro=retro, items=listed)):
            self.outbox.in_thread(
                session, retro, text=message.text, blocks=message.blocks, key=f"digest:{retro_id}:{part}"
            )
        intro = rounds.round_robin_intro_message(retro=retro, order=chosen, now=now)
        self.outbox.in_thread(session, retro, text=intro.text, blocks=intro.blocks, key=f"intro:{retro_id}")
        self.outbox.tell(
            session,
            team_id=team_id,
            user=retro.facilitator_id,
            channel=retro.channel_id,
            text=deadlines.collection_closed_text(retro=retro, stats=stats),
            key=f"collection_closed:{retro_id}",
        )
        self.home.publish_retro(session, retro)  # the surveys are no longer waiting
        answered = any(p.responded_at is not None for p in people)
        count_collection(session, retro, answered=answered, outbox=self.outbox, now=now, later=later)
        self.advance(session, retro, later)

    def _number_items(self, session: Session, retro: Retro) -> None:
        """Give every item a stable number, category by category, for people to refer to (anonymous ones in
        random order: `number_items`). The items and survey responses are written again as one
        shuffled batch (storage/ids.py)."""
        listed = item_queries.items(session, team_id=retro.team_id, retro_id=retro.id)
        number_items(session, retro, listed, first=1)
        rewrite_in_random_order(session, Item, [i.id for i in listed])
        responses = item_queries.responses(session, team_id=retro.team_id, retro_id=retro.id)
        rewrite_in_random_order(session, Response, [r.id for r in responses])

    # ------------------------------------------------------------ turns

    def advance(self, session: Session, retro: Retro, later: Later) -> None:
        """Start the next waiting turn, or open voting when everyone has had theirs."""
        now = self.clock()
        if retro.phase != Phase.DISCUSSING or retro.paused_at is not None:
            return
        turns = self.turns(session, retro)
        if any(t.status in OPEN_TURNS for t in turns):
            return  # one turn at a time
        waiting = [t for t in turns if t.status == TurnStatus.WAITING]
        if not waiting:
            done = rounds.round_robin_done_message(retro=retro)
            self.outbox.in_thread(
                session, retro, text=done.text, blocks=done.blocks, key=f"round_done:{retro.id}"
            )
            self.voting.open(session, retro, later)
            return
        turn = waiting[0]
        tz = self._tz(session, retro, turn.user_id)
        starts = next_daytime(now, tz)
        if starts > now:
            turn.status = TurnStatus.SCHEDULED
            turn.starts_at = starts
            session.add(turn)
            later.jobs += self.timers.turn(retro, turn)
            note = rounds.turn_scheduled_message(turn=turn)
            self.outbox.in_thread(
                session, retro, text=note.text, blocks=note.blocks, key=f"turn:{turn.id}:scheduled"
            )
            return
        self.activate(session, retro, turn, now, later)

    def activate(self, session: Session, retro: Retro, turn: Turn, now: datetime, later: Later) -> None:
        turn.status = TurnStatus.ACTIVE
        turn.starts_at = now
        turn.due_at = add_working_hours(now, retro.turn_hours, self._tz(session, retro, turn.user_id))
        turn.remaining_seconds = None
        session.add(turn)
        later.jobs += self.timers.turn(retro, turn)
        # A resumed turn is prompted again: the key counts its activations.
        n = now.isoformat()
        thread = rounds.turn_prompt_thread_message(retro=retro, turn=turn)
        self.outbox.in_thread(
            session, retro, text=thread.text, blocks=thread.blocks, key=f"turn:{turn.id}:{n}"
        )
        prompt = rounds.turn_prompt_dm(retro=retro, turn=turn)
        # The thread mention still reaches them if the DM fails; the facilitator hears of it and can skip.
        self.outbox.post(
            session,
            team_id=retro.team_id,
            channel=turn.user_id,
            text=prompt.text,
            blocks=prompt.blocks,
            key=f"turn:{turn.id}:dm:{n}",
            priority=Priority.URGENT,
            retro_id=retro.id,
            report_to=retro.facilitator_id,
            what=rounds.turn_dm_what(user_id=turn.user_id),
        )

    def turn_start_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: a turn that waited for the person's morning begins now."""
        now = self.clock()
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            turn = self.turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.SCHEDULED:
                return
            if turn.starts_at is not None and now < turn.starts_at:
                return  # an old job; the current one is in charge
            self.activate(session, retro, turn, now, later)
            session.commit()
        later.run(self.timers)

    def turn_timeout_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: the turn's time is up. Moves on, once."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            turn = self.turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.ACTIVE:
                return
            if turn.due_at is not None and self.clock() < turn.due_at:
                return
        self.end_turn(team_id, retro_id, turn_id, TurnStatus.TIMED_OUT, summary=None)

    def end_turn(
        self,
        team_id: str,
        retro_id: int,
        turn_id: int,
        status: TurnStatus,
        *,
        summary: str | None,
        before_commit: Callable[[Session, Retro], str | None] | None = None,
    ) -> Retro | None:
        """End one turn, say how it ended, and start the next, in one transaction: a crash either keeps
        the turn running or leaves the next one started. None if the turn was over already."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            turn = self.turn(session, retro, turn_id)
            if turn is None or turn.status not in OPEN_TURNS:
                return None  # someone else (a job, the facilitator) finished it first
            if before_commit is not None:
                summary = before_commit(session, retro) or summary
            turn.status = status
            turn.ended_at = self.clock()
            session.add(turn)
            later.cancel += self.timers.turn_ids(retro, turn.id)
            shown = summary if retro.anonymity != Anonymity.ANONYMOUS else None
            done = rounds.turn_done_message(turn=turn, summary=shown)
            self.outbox.in_thread(
                session, retro, text=done.text, blocks=done.blocks, key=f"turn:{turn.id}:done"
            )
            self.advance(session, retro, later)
            session.commit()
            session.refresh(retro)
        later.run(self.timers)
        return retro

    def end_round(self, session: Session, retro: Retro, status: TurnStatus, later: Later) -> None:
        """/retro next during the round-robin: the turns still to come are skipped."""
        for turn in self.turns(session, retro):
            if turn.status in OPEN_TURNS:
                later.cancel += self.timers.turn_ids(retro, turn.id)
            if turn.status in (*OPEN_TURNS, TurnStatus.WAITING):
                turn.status = status
                turn.ended_at = self.clock()
                session.add(turn)
        retro.paused_at = None
        session.add(retro)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def turns(session: Session, retro: Retro) -> list[Turn]:
        return queries.turns(session, team_id=retro.team_id, retro_id=retro.id)

    @staticmethod
    def turn(session: Session, retro: Retro, turn_id: int) -> Turn | None:
        return queries.turn_in_retro(session, team_id=retro.team_id, retro_id=retro.id, turn_id=turn_id)

    @staticmethod
    def _tz(session: Session, retro: Retro, user_id: str) -> ZoneInfo:
        person = retro_queries.get_participant(
            session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id
        )
        return zone(person.tz if person else None)
