"""ROTI: at a retro's close each participant is asked "Was this retro worth your time?" (1-5), and their
answer is kept as a vote is: a keyed hash per retro (one rating per person, which they may change), a
random id and the retro's close as its time. The report and `/retro history` show the average."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase
from bot.errors import DomainError
from bot.outbox import Outbox
from bot.services.authors import AuthorKeys
from bot.services.lookup import require_retro
from messages import roti as screen
from storage import retros as retro_queries
from storage import roti as queries
from storage.db import unit_of_work
from storage.ids import rewrite_in_random_order
from storage.models import Retro, RotiRating


class RotiService:
    def __init__(self, *, engine: Engine, clock: Clock, outbox: Outbox, keys: AuthorKeys) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.keys = keys

    def ask(self, session: Session, retro: Retro) -> None:
        """The question to every participant, once each (keyed), in the caller's transaction."""
        message = screen.roti_message(retro=retro)
        for person in retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id):
            self.outbox.post(
                session,
                team_id=retro.team_id,
                channel=person.user_id,
                text=message.text,
                blocks=message.blocks,
                key=f"roti:{retro.id}:{person.user_id}",
            )

    def rate(self, *, team_id: str, retro_id: int, user_id: str, score: int) -> Retro:
        """A participant's rating of a closed retro (again: their new rating replaces the old). Ratings of one
        retro take turns (its row lock), and each rating writes all of them again as one batch in random
        order (storage/ids.py): neither ids, times, nor the rows' places follow the order people rated in."""
        if not 1 <= score <= 5:
            raise DomainError("Pick a rating from 1 to 5.")
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if retro.phase != Phase.COMPLETED:
                raise DomainError("This retro is not closed yet: it is rated once it is.")
            if (
                retro_queries.get_participant(session, team_id=team_id, retro_id=retro_id, user_id=user_id)
                is None
            ):
                raise DomainError(screen.not_yours_text())
            voter = self.keys.author_hash(team_id=team_id, retro_id=retro_id, user_id=f"roti:{user_id}")
            rating = queries.rating_of(session, team_id=team_id, retro_id=retro_id, voter_hash=voter)
            if rating is None:
                rating = RotiRating(
                    team_id=team_id,
                    retro_id=retro_id,
                    voter_hash=voter,
                    score=score,
                    created_at=retro.closed_at or retro.created_at,  # coarse: never the moment of the click
                )
            rating.score = score
            session.add(rating)
            session.flush()
            rewrite_in_random_order(
                session, RotiRating, queries.rating_ids(session, team_id=team_id, retro_id=retro_id)
            )
            session.commit()
            return retro
