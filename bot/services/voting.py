"""Voting: a DM ballot per person, limits that hold under double clicks, ranked results with ties."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from bot import jobs
from bot.clock import Clock
from bot.domain import FORMATS, MAX_ROOT_CAUSE_LENGTH, VOTING_TIME_HOURS, Phase
from bot.errors import DomainError, InvalidInput, NotFacilitator
from bot.gateway import SlackCallFailed, SlackGateway
from bot.scheduler import Jobs, retro_job_prefix
from bot.services.authors import AuthorKeys
from bot.services.home import HomeService
from bot.services.lookup import require_retro
from bot.services.notify import post_in_thread, tell
from messages import blocks, rounds
from messages.text import escape, mention
from storage import repositories as repo
from storage.db import unit_of_work
from storage.models import Item, Retro, Vote

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    rank: int
    tied: bool
    votes: int
    item: Item


class VotingService:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        jobs: Jobs,
        keys: AuthorKeys,
        home: HomeService,
    ) -> None:
        self.home = home
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.jobs = jobs
        self.keys = keys

    # ------------------------------------------------------------ opening

    def begin(self, *, team_id: str, retro_id: int) -> bool:
        """Open voting and DM every participant a ballot. Does nothing if voting already began."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if retro.phase != Phase.DISCUSSING:
                return False
            retro.phase = Phase.VOTING
            retro.voting_deadline = now + timedelta(hours=VOTING_TIME_HOURS)
            session.add(retro)
            session.commit()
            session.refresh(retro)
            people = [
                p.user_id for p in repo.participants(session=session, team_id=team_id, retro_id=retro_id)
            ]
            candidates = self._candidates(session, retro)
        assert retro.voting_deadline is not None
        self.jobs.at(
            job_id=retro_job_prefix(retro.team_id, retro.id) + "voting:close",
            func=jobs.close_voting,
            run_at=retro.voting_deadline,
            kwargs={"team_id": team_id, "retro_id": retro_id},
        )
        post_in_thread(
            self.gateway, retro, rounds.voting_open_message(retro=retro, candidates=len(candidates))
        )
        unreachable: list[tuple[str, str]] = []
        for user_id in people:
            # One person's failure never stops the others.
            try:
                for message in self.ballot(team_id=team_id, retro_id=retro_id, user_id=user_id):
                    self.gateway.post_message(channel=user_id, text=message.text, blocks=message.blocks)
            except SlackCallFailed as exc:
                unreachable.append((user_id, exc.error))
        if unreachable:
            tell(
                self.gateway,
                user=retro.facilitator_id,
                channel=retro.channel_id,
                text=rounds.unreachable_text(what="a ballot", failed=unreachable),
            )
        self.home.publish_retro(team_id=team_id, retro_id=retro_id)
        return True

    # ------------------------------------------------------------ ballots

    def ballot(self, *, team_id: str, retro_id: int, user_id: str) -> list[blocks.Message]:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            candidates = self._candidates(session, retro)
            mine = self._my_votes(session, retro, user_id)
        return rounds.ballot_messages(retro=retro, candidates=candidates, voted=mine, now=self.clock())

    def vote(self, *, team_id: str, retro_id: int, user_id: str, item_id: int) -> list[blocks.Message]:
        """Give a vote; pressing twice counts once. Raises DomainError with what to do."""
        with unit_of_work(self.engine) as session:
            retro = self._open_ballot(session, team_id, retro_id)
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
                        created_at=self.clock(),
                    )
                )
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()  # the same click arrived twice: one vote
        return self.ballot(team_id=team_id, retro_id=retro_id, user_id=user_id)

    def unvote(self, *, team_id: str, retro_id: int, user_id: str, item_id: int) -> list[blocks.Message]:
        with unit_of_work(self.engine) as session:
            retro = self._open_ballot(session, team_id, retro_id)
            session.exec(
                delete(Vote).where(
                    col(Vote.team_id) == team_id,
                    col(Vote.retro_id) == retro_id,
                    col(Vote.item_id) == item_id,
                    col(Vote.voter_hash) == self._voter(retro, user_id),
                )
            )
            session.commit()
        return self.ballot(team_id=team_id, retro_id=retro_id, user_id=user_id)

    # ------------------------------------------------------------ closing

    def close(self, *, team_id: str, retro_id: int) -> bool:
        """Close voting (at its deadline or by /retro next) and post the ranked results once."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if retro.phase != Phase.VOTING:
                return False
            retro.phase = Phase.ACTIONS
            session.add(retro)
            session.commit()
            session.refresh(retro)
            ranked = self.results(session, retro)
        self.jobs.cancel(prefix=retro_job_prefix(retro.team_id, retro.id) + "voting:")
        for message in rounds.results_messages(retro=retro, ranked=ranked):
            post_in_thread(self.gateway, retro, message)
        self.home.publish(team_id=team_id, user_id=retro.facilitator_id)
        return True

    def results(self, session: Session, retro: Retro) -> list[Ranked]:
        """Items on the ballot by votes, most first. Equal counts share a rank and are marked as ties."""
        counts = repo.vote_counts(session=session, team_id=retro.team_id, retro_id=retro.id or 0)
        candidates = sorted(
            self._candidates(session, retro), key=lambda i: (-counts.get(i.id or 0, 0), i.number or 0)
        )
        ranked: list[Ranked] = []
        for position, item in enumerate(candidates, 1):
            votes = counts.get(item.id or 0, 0)
            previous = ranked[-1] if ranked else None
            rank = previous.rank if previous and previous.votes == votes else position
            ranked.append(Ranked(rank=rank, tied=False, votes=votes, item=item))
        ranks = [r.rank for r in ranked]
        return [Ranked(r.rank, ranks.count(r.rank) > 1, r.votes, r.item) for r in ranked]

    # ------------------------------------------------------------ root causes

    def root_cause_view(self, *, team_id: str, item_id: int, user_id: str) -> dict[str, object]:
        with unit_of_work(self.engine) as session:
            item, retro = self._facilitators_item(session, team_id, item_id, user_id)
            return rounds.root_cause_modal(retro=retro, item=item)

    def set_root_cause(self, *, team_id: str, item_id: int, user_id: str, text: str) -> None:
        cleaned = text.strip()
        if len(cleaned) > MAX_ROOT_CAUSE_LENGTH:
            raise InvalidInput(
                {rounds.ROOT_CAUSE_BLOCK: f"Keep the note under {MAX_ROOT_CAUSE_LENGTH:,} characters."}
            )
        with unit_of_work(self.engine) as session:
            item, _retro = self._facilitators_item(session, team_id, item_id, user_id)
            item.root_cause = cleaned or None
            session.add(item)
            session.commit()

    # ------------------------------------------------------------ helpers

    def _facilitators_item(
        self, session: Session, team_id: str, item_id: int, user_id: str
    ) -> tuple[Item, Retro]:
        item = session.exec(select(Item).where(Item.team_id == team_id, Item.id == item_id)).first()
        if item is None:
            raise DomainError("That item no longer exists.")
        retro = require_retro(session, team_id, item.retro_id)
        if retro.facilitator_id != user_id:
            raise NotFacilitator(
                f"Only the facilitator, {mention(retro.facilitator_id)}, can add root-cause notes."
            )
        return item, retro

    def _open_ballot(self, session: Session, team_id: str, retro_id: int) -> Retro:
        retro = require_retro(session, team_id, retro_id)
        deadline = retro.voting_deadline
        if retro.phase != Phase.VOTING or (deadline is not None and self.clock() >= deadline):
            raise DomainError(f"Voting for *{escape(retro.title)}* is closed.")
        return retro

    def _candidates(self, session: Session, retro: Retro) -> list[Item]:
        vote_on = FORMATS[retro.format].vote_on
        return [
            i
            for i in repo.items(session=session, team_id=retro.team_id, retro_id=retro.id or 0)
            if i.category in vote_on
        ]

    def _voter(self, retro: Retro, user_id: str) -> str:
        assert retro.id is not None
        return self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=f"voter:{user_id}")

    def _my_votes(self, session: Session, retro: Retro, user_id: str) -> set[int]:
        voter = self._voter(retro, user_id)
        return set(
            session.exec(
                select(Vote.item_id).where(
                    Vote.team_id == retro.team_id, Vote.retro_id == retro.id, Vote.voter_hash == voter
                )
            ).all()
        )
