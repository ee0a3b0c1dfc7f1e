"""Answering a turn of the round-robin: a comment on an item, a new item, or a pass. Each answer ends the
turn and starts the next in one transaction (fit for a modal's ack)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import FORMATS, ItemSource, Phase, TurnStatus
from bot.errors import DomainError, InvalidInput
from bot.outbox import Outbox
from bot.services.items import ItemService, anonymous_time, check_text
from bot.services.lookup import require_retro
from bot.services.round_robin import RoundRobin
from bot.services.submissions import first_submission, submitted_before
from messages import rounds
from storage import discussion as queries
from storage import items as item_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Comment, Item, Retro, Turn


class TurnGone(DomainError):
    """A button from a turn that is over, or someone else's."""


@dataclass(frozen=True)
class TurnToAnswer:
    """A person's running turn, with the numbered items they may comment on (none when adding one)."""

    retro: Retro
    turn: Turn
    items: list[Item]


class TurnService:
    def __init__(
        self, *, engine: Engine, outbox: Outbox, clock: Clock, items: ItemService, round_robin: RoundRobin
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.items = items
        self.round_robin = round_robin

    def to_comment(self, *, team_id: str, turn_id: int, user_id: str) -> TurnToAnswer:
        """The person's own running turn, to comment on one of the numbered items."""
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            listed = [i for i in item_queries.items(session, team_id=team_id, retro_id=retro.id) if i.number]
            return TurnToAnswer(retro=retro, turn=turn, items=listed)

    def to_add(self, *, team_id: str, turn_id: int, user_id: str) -> TurnToAnswer:
        """The person's own running turn, to add an item in."""
        with unit_of_work(self.engine) as session:
            retro, turn = self._own_active_turn(session, team_id, turn_id, user_id)
            return TurnToAnswer(retro=retro, turn=turn, items=[])

    def comment(
        self,
        *,
        team_id: str,
        turn_id: int,
        user_id: str,
        item_number: int | None,
        text: str,
        view_id: str | None = None,
    ) -> None:
        """Record a comment and end the turn, in one transaction (fit for a modal's ack). The same modal
        (`view_id`) submitted again changes nothing and is no error."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            if submitted_before(session, team_id=team_id, view_id=view_id):
                return
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id
            item = queries.numbered_item(session, team_id=team_id, retro_id=retro.id, number=item_number)
            if item is None:
                raise InvalidInput({"item": "Pick an item from the list (its number, like 12)."})
            if problem := check_text(text):
                raise InvalidInput({"text": problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)
            # An anonymous comment's hash is not its author's item hash: joined to the items, a comment
            # placed in its turn would name them all. Its time is the retro's start, not the turn's end.
            author_hash = (
                self.items.keys.author_hash(team_id=team_id, retro_id=retro_id, user_id=f"comment:{user_id}")
                if who.anonymous
                else None
            )
            created = anonymous_time(retro) if who.anonymous else now
            item_id, summary = item.id, rounds.comment_summary(item=item, text=text.strip())

        def store(session: Session, retro: Retro) -> str | None:
            first_submission(session, team_id=team_id, view_id=view_id, now=now)
            session.add(
                Comment(
                    team_id=team_id,
                    retro_id=retro_id,
                    item_id=item_id,
                    text=text.strip(),
                    author_id=who.author_id,
                    author_hash=author_hash,
                    created_at=created,
                )
            )
            return summary

        self._require_ended(team_id, retro_id, turn_id, TurnStatus.ANSWERED, store, view_id)

    def add(
        self,
        *,
        team_id: str,
        turn_id: int,
        user_id: str,
        category: str,
        text: str,
        view_id: str | None = None,
    ) -> None:
        """Record a new item and end the turn, in one transaction (fit for a modal's ack). The same modal
        (`view_id`) submitted again changes nothing and is no error."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            if submitted_before(session, team_id=team_id, view_id=view_id):
                return
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id
            if category not in {c.key for c in FORMATS[retro.format].categories}:
                raise InvalidInput({"category": "Pick one of this retro's categories."})
            if problem := check_text(text):
                raise InvalidInput({"text": problem})
            who = self.items.attribution(retro, user_id, wants_anonymous=False)
            created = anonymous_time(retro) if who.anonymous else now

        def store(session: Session, retro: Retro) -> str | None:
            first_submission(session, team_id=team_id, view_id=view_id, now=now)
            # A number given now would follow the turn order: an anonymous item gets its number when
            # voting opens, with the others added in the round, in random order (RoundRobin.number_new).
            highest = queries.highest_item_number(session, team_id=team_id, retro_id=retro_id)
            item = Item(
                team_id=team_id,
                retro_id=retro_id,
                category=category,
                text=text.strip(),
                author_id=who.author_id,
                author_hash=who.author_hash,
                source=ItemSource.ROUND_ROBIN,
                created_at=created,
                number=None if who.anonymous else (highest or 0) + 1,
            )
            session.add(item)
            return None if who.anonymous else rounds.added_summary(retro=retro, item=item)

        self._require_ended(team_id, retro_id, turn_id, TurnStatus.ANSWERED, store, view_id)

    def pass_turn(self, *, team_id: str, turn_id: int, user_id: str, response_url: str | None = None) -> None:
        """End the turn as passed; the person's answer goes out with the next person's prompt."""
        with unit_of_work(self.engine) as session:
            retro, _turn = self._own_active_turn(session, team_id, turn_id, user_id)
            retro_id = retro.id

        def answer(session: Session, retro: Retro) -> str | None:
            if response_url:
                self.outbox.respond(
                    session, team_id=team_id, response_url=response_url, text=rounds.passed_text()
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
        view_id: str | None = None,
    ) -> None:
        ended = self.round_robin.end_turn(
            team_id, retro_id, turn_id, status, summary=None, before_commit=store
        )
        if ended is None:
            with unit_of_work(self.engine) as session:
                if submitted_before(session, team_id=team_id, view_id=view_id):
                    return  # the same modal, submitted at once twice: the other one ended the turn
            raise TurnGone("That turn has passed.")

    @staticmethod
    def _own_active_turn(session: Session, team_id: str, turn_id: int, user_id: str) -> tuple[Retro, Turn]:
        turn = queries.turn(session, team_id=team_id, turn_id=turn_id)
        if turn is None:
            raise TurnGone("That turn no longer exists.")
        retro = require_retro(session, team_id, turn.retro_id)
        if turn.user_id != user_id:
            owner = retro_queries.get_participant(
                session, team_id=team_id, retro_id=retro.id, user_id=turn.user_id
            )
            raise TurnGone(
                rounds.not_your_turn_text(owner_id=turn.user_id),
                plain=rounds.not_your_turn_plain(owner_name=owner.display_name if owner else ""),
            )
        if turn.status != TurnStatus.ACTIVE or retro.phase != Phase.DISCUSSING:
            raise TurnGone(
                "That turn has passed. Thanks anyway: anything important can still go to the facilitator."
            )
        if retro.paused_at is not None:
            raise TurnGone("The round-robin is paused; you can answer when the facilitator resumes it.")
        return retro, turn
