"""The round-robin: everyone gets a turn, one after another, at hours that suit where they live."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot import jobs
from bot.clock import Clock
from bot.domain import FORMATS, Anonymity, ItemSource, Phase, TurnStatus
from bot.errors import DomainError, InvalidInput, NoRetroHere, NotFacilitator
from bot.gateway import SlackCallFailed, SlackGateway
from bot.scheduler import Jobs, retro_job_prefix
from bot.services.home import HomeService
from bot.services.items import ItemService, check_text
from bot.services.lookup import require_retro
from bot.services.notify import post_in_thread, tell
from bot.services.stats import compute_stats
from bot.services.voting import VotingService
from bot.timing import add_working_hours, next_daytime, zone
from messages import blocks, rounds
from messages.text import escape, mention
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Comment, Item, Retro, Turn

logger = logging.getLogger(__name__)

_OPEN_TURNS = (TurnStatus.ACTIVE, TurnStatus.SCHEDULED)


class TurnGone(DomainError):
    """A button from a turn that is over, or someone else's."""


@dataclass(frozen=True)
class Finished:
    retro: Retro
    turn: Turn
    summary: str | None


class DiscussionService:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        jobs: Jobs,
        items: ItemService,
        voting: VotingService,
        home: HomeService,
        rng: random.Random | None = None,
    ) -> None:
        self.home = home
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.jobs = jobs
        self.items = items
        self.voting = voting
        self.rng = rng or random.SystemRandom()

    # ------------------------------------------------------------ /retro next

    def check_next(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = _open_retro(session, team_id, channel_id)
            _only_facilitator(retro, user_id, "move the retro on")
            if retro.phase == Phase.ACTIONS:
                raise DomainError(
                    "Voting is over and the results are in the thread. Run `/retro close` to publish the report."
                )
            return retro

    def next_step(self, *, team_id: str, retro_id: int) -> None:
        """Collection → round-robin → voting → results, one step per call."""
        with unit_of_work(self.engine) as session:
            phase = require_retro(session, team_id, retro_id).phase
        if phase == Phase.COLLECTING:
            self.begin(team_id=team_id, retro_id=retro_id)
        elif phase == Phase.DISCUSSING:
            self._end_round(team_id, retro_id, TurnStatus.SKIPPED)
            self.voting.begin(team_id=team_id, retro_id=retro_id)
        elif phase == Phase.VOTING:
            self.voting.close(team_id=team_id, retro_id=retro_id)

    # ------------------------------------------------------------ beginning

    def begin(self, *, team_id: str, retro_id: int) -> bool:
        """Close collection, post the items in the thread, and start the round-robin. Runs once."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if retro.phase != Phase.COLLECTING:
                return False
            retro.phase = Phase.DISCUSSING
            session.add(retro)
            self._number_items(session, retro)
            people = repo.participants(session=session, team_id=team_id, retro_id=retro_id)
            chosen = [p.user_id for p in people if retro.round_robin_scope != "respondents" or p.responded_at]
            self.rng.shuffle(chosen)
            for position, user_id in enumerate(chosen, 1):
                session.add(Turn(team_id=team_id, retro_id=retro_id, position=position, user_id=user_id))
            session.commit()
            session.refresh(retro)
            stats = compute_stats(session, retro)
            listed = list(repo.items(session=session, team_id=team_id, retro_id=retro_id))
        self.jobs.cancel(prefix=retro_job_prefix(retro.team_id, retro.id) + "nudge:")
        self.jobs.cancel(prefix=retro_job_prefix(retro.team_id, retro.id) + "close")
        for message in rounds.items_digest_messages(retro=retro, items=listed):
            post_in_thread(self.gateway, retro, message)
        post_in_thread(
            self.gateway, retro, rounds.round_robin_intro_message(retro=retro, order=chosen, now=now)
        )
        tell(
            self.gateway,
            user=retro.facilitator_id,
            channel=retro.channel_id,
            text=blocks.collection_closed_text(retro=retro, stats=stats),
        )
        self.home.publish_retro(team_id=team_id, retro_id=retro_id)  # the surveys are no longer waiting
        self._advance(team_id, retro_id)
        return True

    def _number_items(self, session: Session, retro: Retro) -> None:
        """Give every item a stable number, category by category, for people to refer to."""
        order = {c.key: n for n, c in enumerate(FORMATS[retro.format].categories)}
        listed = sorted(
            repo.items(session=session, team_id=retro.team_id, retro_id=retro.id or 0),
            key=lambda i: (order.get(i.category, 99), i.id or 0),
        )
        for number, item in enumerate(listed, 1):
            item.number = number
            session.add(item)

    # ------------------------------------------------------------ turns

    def _advance(self, team_id: str, retro_id: int) -> None:
        """Start the next waiting turn, or open voting when everyone has had theirs."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if retro.phase != Phase.DISCUSSING or retro.paused_at is not None:
                return
            turns = self._turns(session, retro)
            if any(t.status in _OPEN_TURNS for t in turns):
                return  # one turn at a time
            waiting = [t for t in turns if t.status == TurnStatus.WAITING]
            if not waiting:
                finished = True
            else:
                finished = False
                turn = waiting[0]
                tz = self._tz(session, retro, turn.user_id)
                starts = next_daytime(now, tz)
                if starts > now:
                    turn.status = TurnStatus.SCHEDULED
                    turn.starts_at = starts
                    session.add(turn)
                    session.commit()
                    self._schedule_start(retro, turn)
                    post_in_thread(self.gateway, retro, rounds.turn_scheduled_message(turn=turn))
                    return
                self._activate(session, retro, turn, now)
        if finished:
            post_in_thread(self.gateway, retro, rounds.round_robin_done_message(retro=retro))
            self.voting.begin(team_id=team_id, retro_id=retro_id)

    def _activate(self, session: Session, retro: Retro, turn: Turn, now: datetime) -> None:
        turn.status = TurnStatus.ACTIVE
        turn.starts_at = now
        turn.due_at = add_working_hours(now, retro.turn_hours, self._tz(session, retro, turn.user_id))
        turn.remaining_seconds = None
        session.add(turn)
        session.commit()
        session.refresh(turn)
        self._schedule_timeout(retro, turn)
        post_in_thread(self.gateway, retro, rounds.turn_prompt_thread_message(retro=retro, turn=turn))
        prompt = rounds.turn_prompt_dm(retro=retro, turn=turn)
        try:
            self.gateway.post_message(channel=turn.user_id, text=prompt.text, blocks=prompt.blocks)
        except SlackCallFailed as exc:
            # The thread mention still reaches them; the facilitator can skip if nobody answers.
            tell(
                self.gateway,
                user=retro.facilitator_id,
                channel=retro.channel_id,
                text=rounds.unreachable_text(what="their turn's DM", failed=[(turn.user_id, exc.error)]),
            )

    def turn_start_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: a turn that waited for the person's morning begins now."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            turn = self._turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.SCHEDULED:
                return
            if turn.starts_at is not None and now < turn.starts_at:
                return  # an old job; the current one is in charge
            self._activate(session, retro, turn, now)

    def turn_timeout_due(self, *, team_id: str, retro_id: int, turn_id: int) -> None:
        """Job: the turn's time is up. Moves on, once."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            turn = self._turn(session, retro, turn_id)
            if retro.paused_at is not None or turn is None or turn.status != TurnStatus.ACTIVE:
                return
            if turn.due_at is not None and self.clock() < turn.due_at:
                return
        self._finish(team_id, retro_id, turn_id, TurnStatus.TIMED_OUT, summary=None)

    # ------------------------------------------------------------ answering

    def comment_view(self, *, team_id: str, turn_id: int, user_id: str) -> dict[str, object]:
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            listed = [
                i for i in repo.items(session=session, team_id=team_id, retro_id=retro.id or 0) if i.number
            ]
            return rounds.turn_comment_modal(retro=retro, turn=turn, items=listed)

    def add_view(self, *, team_id: str, turn_id: int, user_id: str) -> dict[str, object]:
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            return rounds.turn_add_modal(retro=retro, turn=turn)

    def comment(
        self, *, team_id: str, turn_id: int, user_id: str, item_number: int | None, text: str
    ) -> Finished:
        """Record a comment and end the turn; call `announce_and_advance` with the result after the ack."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id or 0  # read now: the commit below expires `retro`
            item = session.exec(
                select(Item).where(
                    Item.team_id == team_id, Item.retro_id == retro.id, Item.number == item_number
                )
            ).first()
            if item is None or item.id is None:
                raise InvalidInput(
                    {rounds.TURN_ITEM_BLOCK: "Pick an item from the list (its number, like 12)."}
                )
            if problem := check_text(text):
                raise InvalidInput({rounds.TURN_TEXT_BLOCK: problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)
            session.add(
                Comment(
                    team_id=team_id,
                    retro_id=retro_id,
                    item_id=item.id,
                    text=text.strip(),
                    author_id=who.author_id,
                    author_hash=who.author_hash,
                    created_at=now,
                )
            )
            session.commit()
            summary = rounds.comment_summary(item=item, text=text.strip())
        return self._require_closed(team_id, retro_id, turn_id, TurnStatus.ANSWERED, summary)

    def add(self, *, team_id: str, turn_id: int, user_id: str, category: str, text: str) -> Finished:
        """Record a new item and end the turn; call `announce_and_advance` with the result after the ack."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id or 0  # read now: the commit below expires `retro`
            if category not in {c.key for c in FORMATS[retro.format].categories}:
                raise InvalidInput({blocks.ITEM_CATEGORY_BLOCK: "Pick one of this retro's categories."})
            if problem := check_text(text):
                raise InvalidInput({blocks.ITEM_TEXT_BLOCK: problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)
            highest = session.exec(
                select(func.max(Item.number)).where(Item.team_id == team_id, Item.retro_id == retro.id)
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
            session.commit()
            session.refresh(item)
            summary = rounds.added_summary(retro=retro, item=item)
        return self._require_closed(team_id, retro_id, turn_id, TurnStatus.ANSWERED, summary)

    def pass_turn(self, *, team_id: str, turn_id: int, user_id: str) -> Finished:
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id or 0  # read now: the commit below expires `retro`
        return self._require_closed(team_id, retro_id, turn_id, TurnStatus.PASSED, None)

    def _require_closed(
        self, team_id: str, retro_id: int, turn_id: int, status: TurnStatus, summary: str | None
    ) -> Finished:
        finished = self._close_turn(team_id, retro_id, turn_id, status, summary=summary)
        if finished is None:
            raise TurnGone("That turn has passed.")
        return finished

    def _finish(
        self, team_id: str, retro_id: int, turn_id: int, status: TurnStatus, *, summary: str | None
    ) -> None:
        finished = self._close_turn(team_id, retro_id, turn_id, status, summary=summary)
        if finished is not None:
            self.announce_and_advance(finished)

    def _close_turn(
        self, team_id: str, retro_id: int, turn_id: int, status: TurnStatus, *, summary: str | None
    ) -> Finished | None:
        """The database half of ending a turn: fast enough for an ack."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            turn = self._turn(session, retro, turn_id)
            if turn is None or turn.status not in _OPEN_TURNS:
                return None  # someone else (a job, the facilitator) finished it first
            turn.status = status
            turn.ended_at = self.clock()
            session.add(turn)
            session.commit()
            session.refresh(turn)
            session.refresh(retro)  # the commit expired it; it is read after the session closes
        return Finished(
            retro=retro, turn=turn, summary=summary if retro.anonymity != Anonymity.ANONYMOUS else None
        )

    def announce_and_advance(self, finished: Finished) -> None:
        """The Slack half: say how the turn ended, then start the next one."""
        retro, turn = finished.retro, finished.turn
        self.jobs.cancel(prefix=f"{retro_job_prefix(retro.team_id, retro.id)}turn:{turn.id}:")
        post_in_thread(self.gateway, retro, rounds.turn_done_message(turn=turn, summary=finished.summary))
        self._advance(retro.team_id, retro.id or 0)

    # ------------------------------------------------------------ facilitator controls

    def skip(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "skip a turn")
            current = next((t for t in self._turns(session, retro) if t.status in _OPEN_TURNS), None)
            if current is None or current.id is None:
                raise DomainError("Nobody's turn is running right now.")
            who, turn_id = current.user_id, current.id
        self._finish(team_id, retro.id or 0, turn_id, TurnStatus.SKIPPED, summary=None)
        return f"Skipped {mention(who)}'s turn."

    def pause(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "pause the round-robin")
            if retro.paused_at is not None:
                raise DomainError("The round-robin is already paused. `/retro resume` continues it.")
            retro.paused_at = now
            session.add(retro)
            for turn in self._turns(session, retro):
                if turn.status == TurnStatus.ACTIVE and turn.due_at is not None:
                    # The clock stops for the person whose turn it is: they get the rest back on resume.
                    turn.remaining_seconds = max(0, int((turn.due_at - now).total_seconds()))
                    session.add(turn)
            session.commit()
        self.jobs.cancel(prefix=f"{retro_job_prefix(retro.team_id, retro.id)}turn:")
        post_in_thread(self.gateway, retro, rounds.paused_message(retro=retro))
        return "The round-robin is paused. `/retro resume` continues it where it stopped."

    def check_resume(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "resume the round-robin")
            if retro.paused_at is None:
                raise DomainError("The round-robin is not paused.")

    def resume(self, *, team_id: str, channel_id: str, user_id: str) -> str:
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = self._discussing(session, team_id, channel_id, user_id, "resume the round-robin")
            if retro.paused_at is None:
                raise DomainError("The round-robin is not paused.")
            retro.paused_at = None
            session.add(retro)
            for turn in self._turns(session, retro):
                if turn.status == TurnStatus.ACTIVE and turn.remaining_seconds is not None:
                    turn.due_at = now + timedelta(seconds=turn.remaining_seconds)
                    turn.remaining_seconds = None
                    session.add(turn)
                    session.commit()
                    self._schedule_timeout(retro, turn)
                elif turn.status == TurnStatus.SCHEDULED:
                    self._schedule_start(retro, turn)
            session.commit()
        post_in_thread(self.gateway, retro, rounds.resumed_message(retro=retro))
        self._advance(team_id, retro.id or 0)
        # A scheduled turn whose morning came while paused starts now.
        with unit_of_work(self.engine) as session:
            for turn in self._turns(session, retro):
                if (
                    turn.status == TurnStatus.SCHEDULED
                    and turn.starts_at is not None
                    and turn.starts_at <= now
                ):
                    self.turn_start_due(team_id=team_id, retro_id=retro.id or 0, turn_id=turn.id or 0)
        return "The round-robin continues."

    def _end_round(self, team_id: str, retro_id: int, status: TurnStatus) -> None:
        """/retro next during the round-robin: the turns still to come are skipped."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            for turn in self._turns(session, retro):
                if turn.status in (*_OPEN_TURNS, TurnStatus.WAITING):
                    turn.status = status
                    turn.ended_at = self.clock()
                    session.add(turn)
            retro.paused_at = None
            session.add(retro)
            session.commit()
        self.jobs.cancel(prefix=f"{retro_job_prefix(retro.team_id, retro.id)}turn:")

    # ------------------------------------------------------------ helpers

    def _schedule_timeout(self, retro: Retro, turn: Turn) -> None:
        assert turn.due_at is not None
        self.jobs.at(
            job_id=f"{retro_job_prefix(retro.team_id, retro.id)}turn:{turn.id}:timeout",
            func=jobs.end_turn,
            run_at=turn.due_at,
            kwargs={"team_id": retro.team_id, "retro_id": retro.id, "turn_id": turn.id},
        )

    def _schedule_start(self, retro: Retro, turn: Turn) -> None:
        assert turn.starts_at is not None
        self.jobs.at(
            job_id=f"{retro_job_prefix(retro.team_id, retro.id)}turn:{turn.id}:start",
            func=jobs.start_turn,
            run_at=turn.starts_at,
            kwargs={"team_id": retro.team_id, "retro_id": retro.id, "turn_id": turn.id},
        )

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
        retro = _open_retro(session, team_id, channel_id)
        _only_facilitator(retro, user_id, action)
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
            session=session, team_id=retro.team_id, retro_id=retro.id or 0, user_id=user_id
        )
        return zone(person.tz if person else None)


def _open_retro(session: Session, team_id: str, channel_id: str) -> Retro:
    retro = repo.open_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
    if retro is None:
        raise NoRetroHere("There is no open retro in this channel. Start one with `/retro new [title]`.")
    return retro


def _only_facilitator(retro: Retro, user_id: str, action: str) -> None:
    if retro.facilitator_id != user_id:
        raise NotFacilitator(f"Only the facilitator, {mention(retro.facilitator_id)}, can {action}.")
