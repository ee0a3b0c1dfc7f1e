"""Items from every route (modal, kickoff thread, DM), their authors' own, edits and deletes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import FORMATS, MAX_ITEM_LENGTH, Anonymity, ItemSource, Phase
from bot.errors import DomainError, InvalidInput, NoRetroHere
from bot.services.authors import AuthorKeys
from bot.services.lookup import require_retro
from bot.services.permissions import require_contributor
from bot.services.submissions import first_submission
from messages.items import late_message
from storage import items as stored
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.ids import random_ids
from storage.models import Item, Participant, ProcessedEvent, Retro

KEEP_EVENT_KEYS = timedelta(days=7)


class CollectionClosed(DomainError):
    """An answer came after the deadline; the message names the facilitator."""

    def __init__(self, retro: Retro) -> None:
        super().__init__(late_message(retro), plain=late_message(retro, mrkdwn=False))


@dataclass(frozen=True)
class Attribution:
    author_id: str | None
    author_hash: str | None

    @property
    def anonymous(self) -> bool:
        return self.author_id is None


@dataclass(frozen=True)
class Added:
    """What `ItemService.add` stored: the retro (as it is now) and whether the items carry no name."""

    retro: Retro
    anonymous: bool


def check_text(text: str) -> str | None:
    """What is wrong with one item's text, or None."""
    if not text.strip():
        return "Write something: an item cannot be empty."
    if len(text.strip()) > MAX_ITEM_LENGTH:
        return f"This item is {len(text.strip()):,} characters long: keep it under {MAX_ITEM_LENGTH:,}."
    return None


def accepting(retro: Retro, now: datetime) -> bool:
    return retro.phase == Phase.COLLECTING and now < retro.deadline


def anonymous_time(retro: Retro) -> datetime:
    """The time every anonymous row of `retro` carries: the retro's start, the same for all of them. Its own
    time, even to the hour, could be matched against when each person answered or took their turn."""
    return retro.created_at


def answered_hour(now: datetime) -> datetime:
    """When a person answered, as `Participant.responded_at` keeps it: the hour only."""
    return now.replace(minute=0, second=0, microsecond=0)


def display_order(retro: Retro) -> Callable[[Item], tuple[int, bool, int, datetime, int]]:
    """How items are listed to people: category by category (the format's order), then by number; before
    they are numbered, as `number_items` will number them (by time, anonymous ones first, then id)."""
    order = {c.key: n for n, c in enumerate(FORMATS[retro.format].categories)}
    return lambda i: (order.get(i.category, 99), i.number is None, i.number or 0, i.created_at, i.id)


def number_items(session: Session, retro: Retro, items: Sequence[Item], *, first: int) -> None:
    """Number these items from `first`, category by category, by time, then id. Anonymous items all carry
    the retro's start (`anonymous_time`), so they come first in their ids' random order: their numbers say
    nothing about who answered first; named ones follow in the order they came in."""
    ranked = sorted(items, key=display_order(retro))
    for number, item in enumerate(ranked, first):
        item.number = number
        session.add(item)


def is_anonymous(retro: Retro, *, wants_anonymous: bool) -> bool:
    """Whether what this person adds is stored without their name."""
    return retro.anonymity == Anonymity.ANONYMOUS or (
        retro.anonymity == Anonymity.OPTIONAL and wants_anonymous
    )


class ItemService:
    def __init__(self, *, engine: Engine, clock: Clock, keys: AuthorKeys) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = keys

    # ------------------------------------------------------------ who wrote it

    def attribution(self, retro: Retro, user_id: str, *, wants_anonymous: bool) -> Attribution:
        if is_anonymous(retro, wants_anonymous=wants_anonymous):
            return Attribution(
                None, self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=user_id)
            )
        return Attribution(user_id, None)

    def author_hash(self, retro: Retro, user_id: str) -> str:
        """The keyed hash this person's anonymous answers in `retro` are stored under."""
        return self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=user_id)

    # ------------------------------------------------------------ adding

    def add(
        self,
        *,
        team_id: str,
        retro_id: int,
        user_id: str,
        entries: Sequence[tuple[str, str]],
        wants_anonymous: bool,
        source: ItemSource,
        view_id: str | None = None,
    ) -> Added:
        """Store (category, text) entries all or nothing. Raises CollectionClosed, InvalidInput, or
        NotFacilitator for someone who is neither the facilitator nor a participant ("add_item"). The same
        modal (`view_id`) submitted again stores nothing more and gets the same answer."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if not accepting(retro, now):
                raise CollectionClosed(retro)
            require_contributor(session, "add_item", retro, user_id)
            keys = {c.key for c in FORMATS[retro.format].categories}
            for category, text in entries:
                if category not in keys:
                    raise InvalidInput({"category": "Pick one of this retro's categories."})
                if problem := check_text(text):
                    raise InvalidInput({"text": problem})
            who = self.attribution(retro, user_id, wants_anonymous=wants_anonymous)
            if not first_submission(session, team_id=team_id, view_id=view_id, now=now):
                return Added(retro, who.anonymous)
            for row_id, (category, text) in zip(random_ids(len(entries)), entries, strict=True):
                session.add(
                    Item(
                        id=row_id,
                        team_id=team_id,
                        retro_id=retro_id,
                        category=category,
                        text=text.strip(),
                        author_id=who.author_id,
                        author_hash=who.author_hash,
                        source=source,
                        created_at=anonymous_time(retro) if who.anonymous else now,
                    )
                )
            self._mark_responded(session, retro, user_id, now)
            session.commit()
            session.refresh(retro)
            return Added(retro, who.anonymous)

    def join_from_thread(self, *, retro: Retro, user_id: str) -> None:
        """Someone posted in the kickoff thread while collection is open: they are a participant from now on.
        Slack delivers those replies only from people in the channel, so nobody can forge one."""
        with unit_of_work(self.engine) as session:
            current = require_retro(session, retro.team_id, retro.id)
            if not accepting(current, self.clock()):
                return
            if retro_queries.get_participant(
                session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id
            ):
                return
            session.add(Participant(team_id=retro.team_id, retro_id=retro.id, user_id=user_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # two replies at once: the other one made them a participant

    def _mark_responded(self, session: Session, retro: Retro, user_id: str, now: datetime) -> None:
        participant = retro_queries.get_participant(
            session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id
        )
        if participant is not None and participant.responded_at is None:
            participant.responded_at = answered_hour(now)
            session.add(participant)

    # ------------------------------------------------------------ what the modals show

    def accepting(self, retro: Retro) -> bool:
        """Whether `retro` takes answers now."""
        return accepting(retro, self.clock())

    def retro(self, *, team_id: str, retro_id: int) -> Retro:
        with unit_of_work(self.engine) as session:
            return require_retro(session, team_id, retro_id)

    def for_adding(self, *, team_id: str, retro_id: int, user_id: str) -> Retro:
        """The retro an Add item button opens its modal for. While collection is open, someone who may not
        add items ("add_item") is refused at the click, before the modal opens."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if accepting(retro, self.clock()):
                require_contributor(session, "add_item", retro, user_id)
            return retro

    # ------------------------------------------------------------ one's own items

    def mine(self, *, team_id: str, retro_id: int, user_id: str) -> tuple[Retro, list[Item]]:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            owned = stored.own_items(
                session,
                team_id=team_id,
                retro_id=retro_id,
                user_id=user_id,
                author_hash=self.author_hash(retro, user_id),
            )
            return retro, sorted(owned, key=display_order(retro))

    def get_own(self, *, team_id: str, item_id: int, user_id: str) -> tuple[Retro, Item]:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id)
            return retro, item

    def edit(self, *, team_id: str, item_id: int, user_id: str, category: str, text: str) -> Retro:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id, lock=True)
            if not accepting(retro, self.clock()):
                raise CollectionClosed(retro)
            if category not in {c.key for c in FORMATS[retro.format].categories}:
                raise InvalidInput({"category": "Pick one of this retro's categories."})
            if problem := check_text(text):
                raise InvalidInput({"text": problem})
            item.category = category
            item.text = text.strip()
            session.add(item)
            session.commit()
            session.refresh(retro)
            return retro

    def delete(self, *, team_id: str, item_id: int, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id, lock=True)
            if not accepting(retro, self.clock()):
                raise CollectionClosed(retro)
            session.delete(item)
            session.commit()
            session.refresh(retro)
            return retro

    def _own(
        self, session: Session, team_id: str, item_id: int, user_id: str, *, lock: bool = False
    ) -> tuple[Item, Retro]:
        """`lock`: for an edit or a delete, so that two at once do not both change (or both delete) the row."""
        item = stored.get_item(session, team_id=team_id, item_id=item_id, lock=lock)
        retro = require_retro(session, team_id, item.retro_id) if item else None
        if item is None or retro is None or not self._owns(retro, item, user_id):
            raise NoRetroHere("That item no longer exists, or it is not yours.")
        return item, retro

    def _owns(self, retro: Retro, item: Item, user_id: str) -> bool:
        if item.author_id is not None:
            return item.author_id == user_id
        return item.author_hash == self.author_hash(retro, user_id)

    # ------------------------------------------------------------ finding the retro

    def retro_for_thread(self, *, team_id: str, channel_id: str, thread_ts: str) -> Retro | None:
        with unit_of_work(self.engine) as session:
            return retro_queries.retro_by_kickoff(
                session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts
            )

    def open_retros_for(self, *, team_id: str, user_id: str) -> list[Retro]:
        """Retros still collecting that this person was invited to, newest first."""
        with unit_of_work(self.engine) as session:
            return list(retro_queries.collecting_retros_of(session, team_id=team_id, user_id=user_id))

    def latest_retro_for(self, *, team_id: str, user_id: str) -> Retro | None:
        """The newest retro, in any phase, that this person was invited to."""
        with unit_of_work(self.engine) as session:
            return retro_queries.latest_retro_of(session, team_id=team_id, user_id=user_id)

    def current_retro(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        """The channel's open retro, or in a DM the person's only open retro."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.current_retro_in_channel(session, team_id=team_id, channel_id=channel_id)
        if retro is not None:
            return retro
        mine = self.open_retros_for(team_id=team_id, user_id=user_id)
        if len(mine) == 1:
            return mine[0]
        raise NoRetroHere(
            "There is no open retro here. Run this in the retro's channel."
            if mine
            else "There is no open retro here for you."
        )

    # ------------------------------------------------------------ Slack retries events

    def first_delivery(self, *, team_id: str, raw_keys: Sequence[str]) -> bool:
        """Record these delivery keys; False if any was seen before (a retry or a duplicate)."""
        hashed = [self.keys.event_key(team_id=team_id, raw=raw) for raw in raw_keys]
        with unit_of_work(self.engine) as session:
            if stored.any_event_seen(session, team_id=team_id, key_hashes=hashed):
                return False
            now = self.clock()
            # Slack retries within minutes; a week of keys is plenty and keeps the table small.
            stored.forget_events_before(session, team_id=team_id, before=now - KEEP_EVENT_KEYS)
            for key in hashed:
                session.add(ProcessedEvent(team_id=team_id, key_hash=key, created_at=now))
            try:
                session.commit()
            except IntegrityError:
                return False  # a concurrent delivery of the same event won
            return True
