"""Voting: a DM ballot per person, limits that hold under double clicks, ranked results with ties."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import FORMATS, MAX_ROOT_CAUSE_LENGTH, VOTING_TIME_HOURS, Phase
from bot.errors import DomainError, InvalidInput
from bot.intents import Kind, Priority
from bot.outbox import Outbox
from bot.services.authors import AuthorKeys
from bot.services.home import HomeService
from bot.services.items import anonymous_time, number_items
from bot.services.lookup import require_retro
from bot.services.permissions import only_facilitator, require_voter
from bot.services.timers import Later, Timers
from messages import ballot, results
from storage import discussion as queries
from storage import items as item_queries
from storage import kudos as kudos_queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.ids import rewrite_in_random_order
from storage.models import Comment, Item, Kudos, Retro, Vote

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    rank: int
    tied: bool
    votes: int
    item: Item


@dataclass(frozen=True)
class Ballot:
    """One person's ballot as it stands: what is on it, what they voted for, and when it is drawn."""

    retro: Retro
    candidates: list[Item]
    voted: set[int]
    now: datetime


class VotingService:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        keys: AuthorKeys,
        home: HomeService,
    ) -> None:
        self.home = home
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.keys = keys

    # ------------------------------------------------------------ opening

    def begin(self, *, team_id: str, retro_id: int) -> bool:
        """Open voting and DM every participant a ballot. Does nothing if voting already began."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != Phase.DISCUSSING:
                return False
            self.open(session, retro, later)
            session.commit()
        later.run(self.timers)
        return True

    def open(self, session: Session, retro: Retro, later: Later) -> None:
        """Voting opens in the caller's transaction: the phase, the announcement and every ballot. Ballots
        are drawn when they are sent, so a vote cast meanwhile shows on the person's next one."""
        now = self.clock()
        team_id, retro_id = retro.team_id, retro.id
        retro.phase = Phase.VOTING
        retro.voting_deadline = now + timedelta(hours=VOTING_TIME_HOURS)
        session.add(retro)
        later.jobs += self.timers.voting(retro)
        self._number_new(session, retro)
        candidates = self._candidates(session, retro)
        opened = ballot.voting_open_message(retro=retro, candidates=len(candidates))
        self.outbox.in_thread(
            session, retro, text=opened.text, blocks=opened.blocks, key=f"voting:{retro_id}"
        )
        parts = len(ballot.ballot_messages(retro=retro, candidates=candidates, voted=set(), now=now))
        people = [p.user_id for p in retro_queries.participants(session, team_id=team_id, retro_id=retro_id)]
        for user_id in people:
            for part in range(parts):
                self.outbox.add(
                    session,
                    team_id=team_id,
                    kind=Kind.POST,
                    payload={
                        "channel": user_id,
                        "render": "ballot",
                        "retro_id": retro_id,
                        "user_id": user_id,
                        "part": part,
                        "what": ballot.ballot_what(user_id=user_id),
                    },
                    key=f"ballot:{retro_id}:{user_id}:{part}",
                    lane=f"conv:{user_id}",
                    priority=Priority.URGENT,
                    retro_id=retro_id,
                    report_to=retro.facilitator_id,
                )
        self.home.publish_retro(session, retro)

    # ------------------------------------------------------------ ballots

    def ballot(self, *, team_id: str, retro_id: int, user_id: str) -> Ballot:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            candidates = self._candidates(session, retro)
            mine = self._my_votes(session, retro, user_id)
        return Ballot(retro=retro, candidates=candidates, voted=mine, now=self.clock())

    def vote(self, *, team_id: str, retro_id: int, user_id: str, item_id: int) -> Ballot:
        """Give a vote; pressing twice counts once. Raises DomainError with what to do. The count and the
        insert are one transaction holding the retro's row lock (on SQLite, the process's one writer turn), so
        clicks at once cannot each see a vote left and all insert."""
        with unit_of_work(self.engine) as session:
            retro = self._open_ballot(session, team_id, retro_id, lock=True)
            require_voter(session, retro, user_id)
            if item_id not in {i.id for i in self._candidates(session, retro)}:
                raise DomainError("That item is not on the ballot.")
            voter = self._voter(retro, user_id)
            mine = self._my_votes(session, retro, user_id)
            if item_id not in mine:
                if len(mine) >= retro.votes_per_person:
                    raise DomainError(
                        f"You have used all {retro.votes_per_person} votes. Remove one first to vote for this item."
                    )
                session.add(
                    Vote(
                        team_id=team_id,
                        retro_id=retro_id,
                        item_id=item_id,
                        voter_hash=voter,
                        created_at=anonymous_time(retro),
                    )
                )
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()  # the same click arrived twice: one vote
        return self.ballot(team_id=team_id, retro_id=retro_id, user_id=user_id)

    def unvote(self, *, team_id: str, retro_id: int, user_id: str, item_id: int) -> Ballot:
        with unit_of_work(self.engine) as session:
            retro = self._open_ballot(session, team_id, retro_id)
            queries.remove_vote(
                session,
                team_id=team_id,
                retro_id=retro_id,
                item_id=item_id,
                voter_hash=self._voter(retro, user_id),
            )
            session.commit()
        return self.ballot(team_id=team_id, retro_id=retro_id, user_id=user_id)

    # ------------------------------------------------------------ closing

    def close(self, *, team_id: str, retro_id: int) -> bool:
        """Close voting (at its deadline or by /retro next) and post the ranked results once."""
        later = Later()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != Phase.VOTING:
                return False
            self.close_in(session, retro, later)
            session.commit()
        later.run(self.timers)
        return True

    def close_in(self, session: Session, retro: Retro, later: Later) -> None:
        retro.phase = Phase.ACTIONS
        session.add(retro)
        # Each vote was written in a transaction of its own: rewritten as one batch, in random order.
        votes = queries.vote_ids(session, team_id=retro.team_id, retro_id=retro.id)
        rewrite_in_random_order(session, Vote, votes)
        later.cancel += self.timers.voting_ids(retro)
        ranked = self.results(session, retro)
        for part, message in enumerate(results.results_messages(retro=retro, ranked=ranked)):
            self.outbox.in_thread(
                session, retro, text=message.text, blocks=message.blocks, key=f"results:{retro.id}:{part}"
            )
        self.home.queue(session, team_id=retro.team_id, user_id=retro.facilitator_id)

    def results(self, session: Session, retro: Retro) -> list[Ranked]:
        """Items on the ballot by votes, most first. Equal counts share a rank and are marked as ties."""
        counts = queries.vote_counts(session, team_id=retro.team_id, retro_id=retro.id)
        candidates = sorted(
            self._candidates(session, retro), key=lambda i: (-counts.get(i.id, 0), i.number or 0)
        )
        ranked: list[Ranked] = []
        for position, item in enumerate(candidates, 1):
            votes = counts.get(item.id, 0)
            previous = ranked[-1] if ranked else None
            rank = previous.rank if previous and previous.votes == votes else position
            ranked.append(Ranked(rank=rank, tied=False, votes=votes, item=item))
        ranks = [r.rank for r in ranked]
        return [Ranked(r.rank, ranks.count(r.rank) > 1, r.votes, r.item) for r in ranked]

    # ------------------------------------------------------------ root causes

    def root_cause_item(self, *, team_id: str, item_id: int, user_id: str) -> tuple[Retro, Item]:
        """The item whose root cause the facilitator notes, and its retro; only they may."""
        with unit_of_work(self.engine) as session:
            item, retro = self._facilitators_item(session, team_id, item_id, user_id)
            return retro, item

    def set_root_cause(self, *, team_id: str, item_id: int, user_id: str, text: str) -> None:
        cleaned = text.strip()
        if len(cleaned) > MAX_ROOT_CAUSE_LENGTH:
            raise InvalidInput({"root_cause": f"Keep the note under {MAX_ROOT_CAUSE_LENGTH:,} characters."})
        with unit_of_work(self.engine) as session:
            item, _retro = self._facilitators_item(session, team_id, item_id, user_id)
            item.root_cause = cleaned or None
            session.add(item)
            session.commit()

    # ------------------------------------------------------------ helpers

    def _number_new(self, session: Session, retro: Retro) -> None:
        """Items added anonymously in the round-robin get their numbers now, in random order, and they and
        the round's comments are written again as one batch: neither numbers nor the rows' order follow the
        turns' (storage/ids.py)."""
        listed = item_queries.items(session, team_id=retro.team_id, retro_id=retro.id)
        new = [i for i in listed if i.number is None]
        highest = max((i.number for i in listed if i.number is not None), default=0)
        number_items(session, retro, new, first=highest + 1)
        rewrite_in_random_order(session, Item, [i.id for i in new])  # nobody could comment on these
        comments = queries.comment_ids(session, team_id=retro.team_id, retro_id=retro.id)
        rewrite_in_random_order(session, Comment, comments)
        # Kudos given in the turns, too: their rows' order would follow the turns' (and so their givers).
        given = [k.id for k in kudos_queries.of_retro(session, team_id=retro.team_id, retro_id=retro.id)]
        rewrite_in_random_order(session, Kudos, given)

    def _facilitators_item(
        self, session: Session, team_id: str, item_id: int, user_id: str
    ) -> tuple[Item, Retro]:
        item = item_queries.get_item(session, team_id=team_id, item_id=item_id)
        if item is None:
            raise DomainError("That item no longer exists.")
        retro = require_retro(session, team_id, item.retro_id)
        only_facilitator(retro, user_id, "can add root-cause notes")
        return item, retro

    def _open_ballot(self, session: Session, team_id: str, retro_id: int, *, lock: bool = False) -> Retro:
        retro = require_retro(session, team_id, retro_id, lock=lock)
        deadline = retro.voting_deadline
        if retro.phase != Phase.VOTING or (deadline is not None and self.clock() >= deadline):
            raise DomainError(ballot.voting_closed_text(retro=retro))
        return retro

    def _candidates(self, session: Session, retro: Retro) -> list[Item]:
        vote_on = FORMATS[retro.format].vote_on
        return [
            i
            for i in item_queries.items(session, team_id=retro.team_id, retro_id=retro.id)
            if i.category in vote_on
        ]

    def _voter(self, retro: Retro, user_id: str) -> str:
        return self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=f"voter:{user_id}")

    def _my_votes(self, session: Session, retro: Retro, user_id: str) -> set[int]:
        voter = self._voter(retro, user_id)
        return queries.votes_of(session, team_id=retro.team_id, retro_id=retro.id, voter_hash=voter)
