"""The facilitator's controls of the discussion: `/retro next` (collection → round-robin → voting →
results), and skipping, pausing and resuming the round-robin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase, TurnStatus
from bot.errors import DomainError
from bot.outbox import Outbox
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.permissions import only_facilitator
from bot.services.round_robin import OPEN_TURNS, RoundRobin
from bot.services.timers import Later, Timers
from bot.services.voting import VotingService
from messages import rounds
from storage.db import unit_of_work
from storage.models import Retro


class Facilitation:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        round_robin: RoundRobin,
        voting: VotingService,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.round_robin = round_robin
        self.voting = voting

    # ------------------------------------------------------------ /retro next

    def next_step(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        """The facilitator's `/retro next`: collection → round-robin → voting → results, one step per call.
        Returns the retro as it was before the step."""
        retro = self._check_next(team_id=team_id, channel_id=channel_id, user_id=user_id)
        self.step(team_id=team_id, retro_id=retro.id, seen=Phase(retro.phase))
        return retro

    def _check_next(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id)
            only_facilitator(retro, user_id, "can move the retro on")
            if retro.phase == Phase.ACTIONS:
                raise DomainError(
                    "Voting is over and the results are in the thread. Run `/retro close` to publish the report."
                )
            return retro

    def step(self, *, team_id: str, retro_id: int, seen: Phase) -> bool:
        """One step on from `seen`, the phase the command found; False if the retro had moved on from it
        meanwhile (the same command sent twice at once: one step, not two)."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != seen:
                return False
            if retro.phase == Phase.COLLECTING:
                self.round_robin.begin_in(session, retro, later)
            elif retro.phase == Phase.DISCUSSING:
                self.round_robin.end_round(session, retro, TurnStatus.SKIPPED, later)
                self.voting.open(session, retro, later)
            elif retro.phase == Phase.VOTING:
                self.voting.close_in(session, retro, later)
            session.commit()
        later.run(self.timers)
        return True

    # ------------------------------------------------------------ the round-robin

    def skip(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        """End the running turn as skipped; the person whose turn it was."""
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "skip a turn")
            turns = self.round_robin.turns(session, retro)
            current = next((t for t in turns if t.status in OPEN_TURNS), None)
            if current is None:
                raise DomainError("Nobody's turn is running right now.")
            who, turn_id = current.user_id, current.id
        self.round_robin.end_turn(team_id, retro.id, turn_id, TurnStatus.SKIPPED, summary=None)
        return who

    def pause(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "pause the round-robin")
            if retro.paused_at is not None:
                raise DomainError("The round-robin is already paused. `/retro resume` continues it.")
            retro.paused_at = now
            session.add(retro)
            cancel: list[str] = []
            for turn in self.round_robin.turns(session, retro):
                if turn.status in OPEN_TURNS:
                    cancel += self.timers.turn_ids(retro, turn.id)
                if turn.status == TurnStatus.ACTIVE and turn.due_at is not None:
                    # The clock stops for the person whose turn it is: they get the rest back on resume.
                    turn.remaining_seconds = max(0, int((turn.due_at - now).total_seconds()))
                    session.add(turn)
            note = rounds.paused_message(retro=retro)
            self.outbox.in_thread(session, retro, text=note.text, blocks=note.blocks)
            session.commit()
        self.timers.cancel(cancel)

    def resume(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        now = self.clock()
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "resume the round-robin")
            if retro.paused_at is None:
                raise DomainError("The round-robin is not paused.")
            retro.paused_at = None
            session.add(retro)
            note = rounds.resumed_message(retro=retro)
            self.outbox.in_thread(session, retro, text=note.text, blocks=note.blocks)
            for turn in self.round_robin.turns(session, retro):
                if turn.status == TurnStatus.ACTIVE and turn.remaining_seconds is not None:
                    turn.due_at = now + timedelta(seconds=turn.remaining_seconds)
                    turn.remaining_seconds = None
                    session.add(turn)
                    later.jobs += self.timers.turn(retro, turn)
                elif turn.status == TurnStatus.SCHEDULED:
                    if turn.starts_at is not None and turn.starts_at <= now:
                        # Its morning came while paused: it starts now.
                        self.round_robin.activate(session, retro, turn, now, later)
                    else:
                        later.jobs += self.timers.turn(retro, turn)
            self.round_robin.advance(session, retro, later)
            session.commit()
        later.run(self.timers)

    @staticmethod
    def _discussing(session: Session, team_id: str, channel_id: str, user_id: str, action: str) -> Retro:
        # Locked: the same command twice at once must not pause (or resume) twice, each saying so.
        retro = require_retro(
            session, team_id, require_channel_retro(session, team_id, channel_id).id, lock=True
        )
        only_facilitator(retro, user_id, f"can {action}")
        if retro.phase != Phase.DISCUSSING:
            raise DomainError(rounds.no_round_robin_text(retro=retro))
        return retro
