"""Items from every route (modal, kickoff thread, DM), their authors' own view, edits and deletes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from bot.clock import Clock
from bot.domain import FORMATS, MAX_ITEM_LENGTH, Anonymity, ItemSource, Phase
from bot.errors import DomainError, InvalidInput, NoRetroHere
from bot.services.authors import AuthorKeys
from bot.services.lookup import require_retro
from messages import common, items
from messages.text import escape, mention, slack_date
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Item, Participant, ProcessedEvent, Response, Retro

KEEP_EVENT_KEYS = timedelta(days=7)
ITEM_TEXT_BLOCK = items.ITEM_TEXT_BLOCK
ITEM_CATEGORY_BLOCK = items.ITEM_CATEGORY_BLOCK


class CollectionClosed(DomainError):
    """An answer came after the deadline; the message names the facilitator."""

    def __init__(self, retro: Retro) -> None:
        super().__init__(late_message(retro))
        self.plain = late_message(retro, mrkdwn=False)  # for modal errors, which are plain text


@dataclass(frozen=True)
class Attribution:
    author_id: str | None
    author_hash: str | None

    @property
    def anonymous(self) -> bool:
        return self.author_id is None


def check_text(text: str) -> str | None:
    """What is wrong with one item's text, or None."""
    if not text.strip():
        return "Write something: an item cannot be empty."
    if len(text.strip()) > MAX_ITEM_LENGTH:
        return f"This item is {len(text.strip()):,} characters long: keep it under {MAX_ITEM_LENGTH:,}."
    return None


def accepting(retro: Retro, now: datetime) -> bool:
    return retro.phase == Phase.COLLECTING and now < retro.deadline


def late_message(retro: Retro, *, mrkdwn: bool = True) -> str:
    who = mention(retro.facilitator_id) if mrkdwn else (retro.facilitator_name or "the facilitator")
    title = escape(retro.title) if mrkdwn else retro.title
    # When collection ended: at close, at the deadline, or (after /retro next) at a moment not worth naming.
    closed = retro.closed_at or (retro.deadline if retro.phase == Phase.COLLECTING else None)
    when = (
        ""
        if closed is None
        else " at " + (slack_date(closed) if mrkdwn else closed.strftime("%Y-%m-%d %H:%M UTC"))
    )
    later = " You can still add it on your round-robin turn." if retro.phase == Phase.DISCUSSING else ""
    return (
        f"Sorry, collection for “{title}” closed{when}, so I can't add this.{later} "
        f"If it matters, please tell {who}: they can still bring it up."
    )


class ItemService:
    def __init__(self, *, engine: Engine, clock: Clock, keys: AuthorKeys) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = keys

    # ------------------------------------------------------------ who wrote it

    def attribution(self, retro: Retro, user_id: str, *, wants_anonymous: bool) -> Attribution:
        anonymous = retro.anonymity == Anonymity.ANONYMOUS or (
            retro.anonymity == Anonymity.OPTIONAL and wants_anonymous
        )
        if anonymous:
            return Attribution(
                None, self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=user_id)
            )
        return Attribution(user_id, None)

    def authored_by(
        self, model: type[Item] | type[Response], retro: Retro, user_id: str
    ) -> ColumnElement[bool]:
        """A filter for rows this person wrote, named or anonymous (found again through the keyed hash)."""
        digest = self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=user_id)
        return or_(col(model.author_id) == user_id, col(model.author_hash) == digest)

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
    ) -> Retro:
        """Store (category, text) entries all or nothing. Raises CollectionClosed or InvalidInput."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if not accepting(retro, now):
                raise CollectionClosed(retro)
            keys = {c.key for c in FORMATS[retro.format].categories}
            for category, text in entries:
                if category not in keys:
                    raise InvalidInput({ITEM_CATEGORY_BLOCK: "Pick one of this retro's categories."})
                if problem := check_text(text):
                    raise InvalidInput({ITEM_TEXT_BLOCK: problem})
            who = self.attribution(retro, user_id, wants_anonymous=wants_anonymous)
            for category, text in entries:
                session.add(
                    Item(
                        team_id=team_id,
                        retro_id=retro_id,
                        category=category,
                        text=text.strip(),
                        author_id=who.author_id,
                        author_hash=who.author_hash,
                        source=source,
                        # An exact time could be matched against Slack's message times: keep only the hour.
                        created_at=now.replace(minute=0, second=0, microsecond=0) if who.anonymous else now,
                    )
                )
            self._mark_responded(session, retro, user_id, now)
            session.commit()
            session.refresh(retro)
            return retro

    def _mark_responded(self, session: Session, retro: Retro, user_id: str, now: datetime) -> None:
        participant = repo.get_participant(
            session=session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id
        )
        if participant is not None and participant.responded_at is None:
            participant.responded_at = now
            session.add(participant)

    # ------------------------------------------------------------ views

    def add_view(self, *, team_id: str, retro_id: int) -> dict[str, Any]:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
        if not accepting(retro, self.clock()):
            return common.notice_modal(title="Retro closed", text=late_message(retro))
        return items.item_modal(retro=retro)

    def my_items_view(self, *, team_id: str, retro_id: int, user_id: str) -> dict[str, Any]:
        retro, owned = self.mine(team_id=team_id, retro_id=retro_id, user_id=user_id)
        return items.my_items_modal(retro=retro, items=owned, editable=accepting(retro, self.clock()))

    def edit_view(self, *, team_id: str, item_id: int, user_id: str) -> dict[str, Any]:
        retro, item = self.get_own(team_id=team_id, item_id=item_id, user_id=user_id)
        if not accepting(retro, self.clock()):
            return common.notice_modal(title="Retro closed", text=late_message(retro))
        return items.item_modal(retro=retro, item=item)

    # ------------------------------------------------------------ one's own items

    def mine(self, *, team_id: str, retro_id: int, user_id: str) -> tuple[Retro, list[Item]]:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            owned = session.exec(
                select(Item)
                .where(
                    Item.team_id == team_id, Item.retro_id == retro_id, self.authored_by(Item, retro, user_id)
                )
                .order_by(col(Item.id))
            ).all()
            return retro, list(owned)

    def get_own(self, *, team_id: str, item_id: int, user_id: str) -> tuple[Retro, Item]:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id)
            return retro, item

    def edit(self, *, team_id: str, item_id: int, user_id: str, category: str, text: str) -> Retro:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id)
            if not accepting(retro, self.clock()):
                raise CollectionClosed(retro)
            if category not in {c.key for c in FORMATS[retro.format].categories}:
                raise InvalidInput({ITEM_CATEGORY_BLOCK: "Pick one of this retro's categories."})
            if problem := check_text(text):
                raise InvalidInput({ITEM_TEXT_BLOCK: problem})
            item.category = category
            item.text = text.strip()
            session.add(item)
            session.commit()
            session.refresh(retro)
            return retro

    def delete(self, *, team_id: str, item_id: int, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            item, retro = self._own(session, team_id, item_id, user_id)
            if not accepting(retro, self.clock()):
                raise CollectionClosed(retro)
            session.delete(item)
            session.commit()
            session.refresh(retro)
            return retro

    def _own(self, session: Session, team_id: str, item_id: int, user_id: str) -> tuple[Item, Retro]:
        item = session.exec(select(Item).where(Item.team_id == team_id, Item.id == item_id)).first()
        retro = require_retro(session, team_id, item.retro_id) if item else None
        if item is None or retro is None or not self._owns(retro, item, user_id):
            raise NoRetroHere("That item no longer exists, or it is not yours.")
        return item, retro

    def _owns(self, retro: Retro, item: Item, user_id: str) -> bool:
        if item.author_id is not None:
            return item.author_id == user_id
        return item.author_hash == self.keys.author_hash(
            team_id=retro.team_id, retro_id=retro.id, user_id=user_id
        )

    # ------------------------------------------------------------ finding the retro

    def retro_for_thread(self, *, team_id: str, channel_id: str, thread_ts: str) -> Retro | None:
        with unit_of_work(self.engine) as session:
            return session.exec(
                select(Retro).where(
                    Retro.team_id == team_id, Retro.channel_id == channel_id, Retro.kickoff_ts == thread_ts
                )
            ).first()

    def open_retros_for(self, *, team_id: str, user_id: str) -> list[Retro]:
        """Retros still collecting that this person was invited to, newest first."""
        with unit_of_work(self.engine) as session:
            found = session.exec(
                select(Retro)
                .join(Participant, col(Participant.retro_id) == col(Retro.id))
                .where(
                    Retro.team_id == team_id,
                    Retro.phase == Phase.COLLECTING,
                    Participant.team_id == team_id,
                    Participant.user_id == user_id,
                )
                .order_by(col(Retro.created_at).desc())
            ).all()
            return list(found)

    def latest_retro_for(self, *, team_id: str, user_id: str) -> Retro | None:
        """The newest retro, in any phase, that this person was invited to."""
        with unit_of_work(self.engine) as session:
            return session.exec(
                select(Retro)
                .join(Participant, col(Participant.retro_id) == col(Retro.id))
                .where(
                    Retro.team_id == team_id, Participant.team_id == team_id, Participant.user_id == user_id
                )
                .order_by(col(Retro.created_at).desc(), col(Retro.id).desc())
            ).first()

    def current_retro(self, *, team_id: str, channel_id: str, user_id: str) -> Retro:
        """The channel's open retro, or in a DM the person's only open retro."""
        with unit_of_work(self.engine) as session:
            retro = repo.current_retro_in_channel(session=session, team_id=team_id, channel_id=channel_id)
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
            seen = session.exec(
                select(ProcessedEvent).where(
                    ProcessedEvent.team_id == team_id, col(ProcessedEvent.key_hash).in_(hashed)
                )
            ).first()
            if seen is not None:
                return False
            now = self.clock()
            # Slack retries within minutes; a week of keys is plenty and keeps the table small.
            session.exec(
                delete(ProcessedEvent).where(
                    col(ProcessedEvent.team_id) == team_id,
                    col(ProcessedEvent.created_at) < now - KEEP_EVENT_KEYS,
                )
            )
            for key in hashed:
                session.add(ProcessedEvent(team_id=team_id, key_hash=key, created_at=now))
            try:
                session.commit()
            except IntegrityError:
                return False  # a concurrent delivery of the same event won
            return True
