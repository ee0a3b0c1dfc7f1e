"""The round-robin: everyone gets a turn, one after another, at hours that suit where they live."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import FORMATS, Anonymity, ItemSource, Phase, TurnStatus
from bot.errors import DomainError, InvalidInput
from bot.intents import Priority
from bot.outbox import Outbox
from bot.services.home import HomeService
from bot.services.items import ItemService, check_text
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.permissions import only_facilitator
from bot.services.stats import compute_stats
from bot.services.timers import Later, Timers
from bot.services.voting import VotingService
from bot.timing import add_working_hours, next_daytime, zone
from messages import deadlines, items, rounds
from messages.text import escape, mention
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Comment, Item, Retro, Turn

logger = logging.getLogger(__name__)

_OPEN_TURNS = (TurnStatus.ACTIVE, TurnStatus.SCHEDULED)


class TurnGone(DomainError):
    """A button from a turn that is over, or someone else's."""


class DiscussionService:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        items: ItemService,
        voting: VotingService,
        home: HomeService,
        rng: random.Random | None = None,
    ) -> None:
        self.home = home
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.items = items
        self.voting = voting
        self.rng = rng or random.SystemRandom()

    # ------------------------------------------------------------ /retro next

    def check_next(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id)
            only_facilitator(retro, user_id, "can move the retro on")
            if retro.phase == Phase.ACTIONS:
                raise DomainError(
                    "Voting is over and the results are in the thread. Run `/retro close` to publish the report."
                )
            return retro

    def next_step(self, *, team_id: str, retro_id: int) -> None:
        """Collection → round-robin → voting → results, one step per call."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase == Phase.COLLECTING:
                self._begin(session, retro, later)
            elif retro.phase == Phase.DISCUSSING:
                self._end_round(session, retro, TurnStatus.SKIPPED, later)
                self.voting.open(session, retro, later)
            elif retro.phase == Phase.VOTING:
                self.voting.close_in(session, retro, later)
            session.commit()
        later.run(self.timers)

    # ------------------------------------------------------------ beginning

    def begin(self, *, team_id: str, retro_id: int) -> bool:
        """Close collection, post the items in the thread, and start the round-robin. Runs once."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != Phase.COLLECTING:
                return False
            self._begin(session, retro, later)
            session.commit()
        later.run(self.timers)
        return True

    def _begin(self, session: Session, retro: Retro, later: Later) -> None:
        """Everything beginning the round-robin changes and says, in the caller's transaction."""
        now = self.clock()
        team_id, retro_id = retro.team_id, retro.id
        retro.phase = Phase.DISCUSSING
        session.add(retro)
        self._number_items(session, retro)
        people = repo.participants(session=session, team_id=team_id, retro_id=retro_id)
        chosen = [p.user_id for p in people if retro.round_robin_scope != "respondents" or p.responded_at]
        self.rng.shuffle(chosen)
        for position, user_id in enumerate(chosen, 1):
            session.add(Turn(team_id=team_id, retro_id=retro_id, position=position, user_id=user_id))
        session.flush()
        stats = compute_stats(session, retro)
        listed = list(repo.items(session=session, team_id=team_id, retro_id=retro_id))
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
        self._advance(session, retro, later)

    def _number_items(self, session: Session, retro: Retro) -> None:
        """Give every item a stable number, category by category, for people to refer to."""
        order = {c.key: n for n, c in enumerate(FORMATS[retro.format].categories)}
        listed = sorted(
            repo.items(session=session, team_id=retro.team_id, retro_id=retro.id),
            key=lambda i: (order.get(i.category, 99), i.id),
        )
        for number, item in enumerate(listed, 1):
            item.number = number
            session.add(item)

    # ------------------------------------------------------------ turns

    def _advance(self, session: Session, retro: Retro, later: Later) -> None:
        """Start the next waiting turn, or open voting when everyone has had theirs."""
        now = self.clock()
        if retro.phase != Phase.DISCUSSING or retro.paused_at is not None:
            return
        turns = self._turns(session, retro)
        if any(t.status in _OPEN_TURNS for t in turns):
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
        self._activate(session, retro, turn, now, later)

    def _activate(self, session: Session, retro: Retro, turn: Turn, now: datetime, later: Later) -> None:
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
            what=f"their turn's DM to {mention(turn.user_id)}",
        )

    def turn_start_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: a turn that waited for the person's morning begins now."""
        now = self.clock()
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            turn = self._turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.SCHEDULED:
                return
            if turn.starts_at is not None and now < turn.starts_at:
                return  # an old job; the current one is in charge
            self._activate(session, retro, turn, now, later)
            session.commit()
        later.run(self.timers)

    def turn_timeout_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: the turn's time is up. Moves on, once."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            turn = self._turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.ACTIVE:
                return
            if turn.due_at is not None and self.clock() < turn.due_at:
                return
        self._end_turn(team_id, retro_id, turn_id, TurnStatus.TIMED_OUT, summary=None)

    # ------------------------------------------------------------ answering

    def comment_view(self, *, team_id: str, turn_id: int, user_id: str) -> dict[str, object]:
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            listed = [i for i in repo.items(session=session, team_id=team_id, retro_id=retro.id) if i.number]
            return rounds.turn_comment_modal(retro=retro, turn=turn, items=listed)

    def add_view(self, *, team_id: str, turn_id: int, user_id: str) -> dict[str, object]:
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            return rounds.turn_add_modal(retro=retro, turn=turn)

    def comment(
        self, *, team_id: str, turn_id: int, user_id: str, item_number: int | None, text: str
    ) -> None:
        """Record a comment and end the turn, in one transaction (fit for a modal's ack)."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id
            item = session.exec(
                select(Item).where(
                    Item.team_id == team_id, Item.retro_id == retro.id, Item.number == item_number
                )
            ).first()
            if item is None:
                raise InvalidInput(
                    {rounds.TURN_ITEM_BLOCK: "Pick an item from the list (its number, like 12)."}
                )
            if problem := check_text(text):
                raise InvalidInput({rounds.TURN_TEXT_BLOCK: problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)
            item_id, summary = item.id, rounds.comment_summary(item=item, text=text.strip())

        def store(session: Session, retro: Retro) -> str | None:
            session.add(
                Comment(
                    team_id=team_id,
                    retro_id=retro_id,
                    item_id=item_id,
                    text=text.strip(),
                    author_id=who.author_id,
                    author_hash=who.author_hash,
                    created_at=now,
                )
            )
            return summary

        self._require_ended(team_id, retro_id, turn_id, TurnStatus.ANSWERED, store)

    def add(self, *, team_id: str, turn_id: int, user_id: str, category: str, text: str) -> None:
        """Record a new item and end the turn, in one transaction (fit for a modal's ack)."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id
            if category not in {c.key for c in FORMATS[retro.format].categories}:
                raise InvalidInput({items.ITEM_CATEGORY_BLOCK: "Pick one of this retro's categories."})
            if problem := check_text(text):
                raise InvalidInput({items.ITEM_TEXT_BLOCK: problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)

        def store(session: Session, retro: Retro) -> str | None:
            highest = session.exec(
                select(func.max(Item.number)).where(Item.team_id == team_id, Item.retro_id == retro_id)
            ).one()
            item = Item(
                team_id=team_id,
                retro_id=retro_id,
                category=category,
                text=text.strip(),
                author_id=who.author_id,
                author_hash=who.author_hash,
                source=ItemSource.ROUND_ROBIN,
                created_at=now,
                number=(highest or 0) + 1,
            )
            session.add(item)
            return rounds.added_summary(retro=retro, item=item)

        self._require_ended(team_id, retro_id, turn_id, TurnStatus.ANSWERED, store)

    def pass_turn(self, *, team_id: str, turn_id: int, user_id: str, response_url: str | None = None) -> None:
        """End the turn as passed; the person's answer goes out with the next person's prompt."""
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id

        def answer(session: Session, retro: Retro) -> str | None:
            if response_url:
                self.outbox.respond(
                    session,
                    team_id=team_id,
                    response_url=response_url,
                    text="You passed. Thanks! The next person is up.",
                )
            return None

        self._require_ended(team_id, retro_id, turn_id, TurnStatus.PASSED, answer)

    def _require_ended(
        self,
        team_id: str,
        retro_id: int,
        turn_id: int,
        status: TurnStatus,
        store: Callable[[Session, Retro], str | None],
    ) -> None:
        if self._end_turn(team_id, retro_id, turn_id, status, summary=None, before_commit=store) is None:
            raise TurnGone("That turn has passed.")

    def _end_turn(
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
            turn = self._turn(session, retro, turn_id)
            if turn is None or turn.status not in _OPEN_TURNS:
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
            self._advance(session, retro, later)
            session.commit()
            session.refresh(retro)
        later.run(self.timers)
        return retro

    # ------------------------------------------------------------ facilitator controls

    def skip(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "skip a turn")
            current = next((t for t in self._turns(session, retro) if t.status in _OPEN_TURNS), None)
            if current is None:
                raise DomainError("Nobody's turn is running right now.")
            who, turn_id = current.user_id, current.id
        self._end_turn(team_id, retro.id, turn_id, TurnStatus.SKIPPED, summary=None)
        return f"Skipped {mention(who)}'s turn."

    def pause(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "pause the round-robin")
            if retro.paused_at is not None:
                raise DomainError("The round-robin is already paused. `/retro resume` continues it.")
            retro.paused_at = now
            session.add(retro)
            cancel: list[str] = []
            for turn in self._turns(session, retro):
                if turn.status in _OPEN_TURNS:
                    cancel += self.timers.turn_ids(retro, turn.id)
                if turn.status == TurnStatus.ACTIVE and turn.due_at is not None:
                    # The clock stops for the person whose turn it is: they get the rest back on resume.
                    turn.remaining_seconds = max(0, int((turn.due_at - now).total_seconds()))
                    session.add(turn)
            note = rounds.paused_message(retro=retro)
            self.outbox.in_thread(session, retro, text=note.text, blocks=note.blocks)
            session.commit()
        self.timers.cancel(cancel)
        return "The round-robin is paused. `/retro resume` continues it where it stopped."

    def check_resume(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "resume the round-robin")
            if retro.paused_at is None:
                raise DomainError("The round-robin is not paused.")

    def resume(self, *, team_id: str, channel_id: str, user_id: str) -> str:
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
            for turn in self._turns(session, retro):
                if turn.status == TurnStatus.ACTIVE and turn.remaining_seconds is not None:
                    turn.due_at = now + timedelta(seconds=turn.remaining_seconds)
                    turn.remaining_seconds = None
                    session.add(turn)
                    later.jobs += self.timers.turn(retro, turn)
                elif turn.status == TurnStatus.SCHEDULED:
                    if turn.starts_at is not None and turn.starts_at <= now:
                        # Its morning came while paused: it starts now.
                        self._activate(session, retro, turn, now, later)
                    else:
                        later.jobs += self.timers.turn(retro, turn)
            self._advance(session, retro, later)
            session.commit()
        later.run(self.timers)
        return "The round-robin continues."

    def _end_round(self, session: Session, retro: Retro, status: TurnStatus, later: Later) -> None:
        """/retro next during the round-robin: the turns still to come are skipped."""
        for turn in self._turns(session, retro):
            if turn.status in _OPEN_TURNS:
                later.cancel += self.timers.turn_ids(retro, turn.id)
            if turn.status in (*_OPEN_TURNS, TurnStatus.WAITING):
                turn.status = status
                turn.ended_at = self.clock()
                session.add(turn)
        retro.paused_at = None
        session.add(retro)

    # ------------------------------------------------------------ helpers

    def _own_active_turn(
        self, session: Session, team_id: str, turn_id: int, user_id: str
    ) -> tuple[Retro, Turn]:
        turn = session.exec(select(Turn).where(Turn.team_id == team_id, Turn.id == turn_id)).first()
        if turn is None:
            raise TurnGone("That turn no longer exists.")
        retro = require_retro(session, team_id, turn.retro_id)
        if turn.user_id != user_id:
            raise TurnGone(
                f"This is {mention(turn.user_id)}'s turn, not yours: you can answer on your own turn."
            )
        if turn.status != TurnStatus.ACTIVE or retro.phase != Phase.DISCUSSING:
            raise TurnGone(
                "That turn has passed. Thanks anyway: anything important can still go to the facilitator."
            )
        if retro.paused_at is not None:
            raise TurnGone("The round-robin is paused; you can answer when the facilitator resumes it.")
        return retro, turn

    def _discussing(
        self, session: Session, team_id: str, channel_id: str, user_id: str, action: str
    ) -> Retro:
        retro = require_channel_retro(session, team_id, channel_id)
        only_facilitator(retro, user_id, f"can {action}")
        if retro.phase != Phase.DISCUSSING:
            raise DomainError(f"*{escape(retro.title)}* has no round-robin running (phase: {retro.phase}).")
        return retro

    @staticmethod
    def _turns(session: Session, retro: Retro) -> list[Turn]:
        return list(
            session.exec(
                select(Turn)
                .where(Turn.team_id == retro.team_id, Turn.retro_id == retro.id)
                .order_by(col(Turn.position))
            ).all()
        )

    @staticmethod
    def _turn(session: Session, retro: Retro, turn_id: int) -> Turn | None:
        return session.exec(
            select(Turn).where(Turn.team_id == retro.team_id, Turn.retro_id == retro.id, Turn.id == turn_id)
        ).first()

    @staticmethod
    def _tz(session: Session, retro: Retro, user_id: str):  # type: ignore[no-untyped-def]
        person = repo.get_participant(
            session=session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id
        )
        return zone(person.tz if person else None)
