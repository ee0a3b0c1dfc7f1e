"""A retro's figures are counted by the database, for its workspace and retro alone."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.services.stats import compute_stats
from storage import retros as retro_queries
from storage.models import Participant, Response
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro


def test_figures_count_people_answers_and_items_per_category(engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        retro = make_retro(session)
        other = make_retro(session, channel_id="C2")
        for user_id, answered in (("U1", True), ("U2", False), ("U3", True)):
            session.add(
                Participant(
                    team_id="T1",
                    retro_id=retro.id,
                    user_id=user_id,
                    responded_at=clock() if answered else None,
                )
            )
        session.add(Participant(team_id="T1", retro_id=other.id, user_id="U1", responded_at=clock()))
        for smoothness in (4, 5, None):
            session.add(
                Response(team_id="T1", retro_id=retro.id, author_hash=f"h{smoothness}", smoothness=smoothness)
            )
        for category in ("went_well", "went_well", "went_wrong"):
            make_item(session, retro_id=retro.id, category=category)
        make_item(session, retro_id=other.id, category="to_improve")
        session.commit()

        stats = compute_stats(session, retro)
        assert (stats.invited, stats.responded) == (3, 2)
        assert stats.average_smoothness == 4.5
        assert stats.counts == {"went_well": 2, "went_wrong": 1, "to_improve": 0}

        # An item under a category the format does not have (a format changed later) still counts.
        make_item(session, retro_id=retro.id, category="kudos")
        found = retro_queries.figures(
            session,
            team_id="T1",
            retro_id=retro.id,
            categories=["went_well", "went_wrong", "to_improve"],
        )
        assert found.items_by_category == {"went_well": 2, "went_wrong": 1, "to_improve": 0, "kudos": 1}
        # Another workspace's retro of the same id shows nothing of this one.
        elsewhere = retro_queries.figures(session, team_id="T2", retro_id=retro.id, categories=["went_well"])
        assert (elsewhere.invited, elsewhere.responded, elsewhere.items_by_category) == (
            0,
            0,
            {"went_well": 0},
        )
        assert elsewhere.average_smoothness is None
