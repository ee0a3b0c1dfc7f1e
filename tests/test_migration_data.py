"""Migrations keep what is stored: 0002 moves survey answers from participant to response; 0007 drops
obsolete jobs."""

from __future__ import annotations

from alembic import command
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import text

from bot.scheduler import JOB_TABLE
from storage.db import alembic_config, make_engine


def test_0002_moves_ratings_and_surprises_to_responses(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO retro (id, team_id, channel_id, facilitator_id, title, format, phase, deadline, created_at) "
                "VALUES (1, 'T1', 'C1', 'U1', 'R', 'well_wrong_improve', 'closed', '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO participant (team_id, retro_id, user_id, display_name, smoothness, surprise) VALUES "
                "('T1', 1, 'U1', 'a', 7, 'wow'), ('T1', 1, 'U2', 'b', NULL, NULL)"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT author_id, smoothness, surprise FROM response")).all()
        anonymity = connection.execute(text("SELECT anonymity FROM retro")).scalar_one()
    assert [tuple(r) for r in rows] == [("U1", 7, "wow")]
    assert anonymity == "named"
    command.downgrade(config, "0001")
    with engine.connect() as connection:
        back = connection.execute(
            text("SELECT user_id, smoothness, surprise FROM participant ORDER BY user_id")
        ).all()
    assert [tuple(r) for r in back] == [("U1", 7, "wow"), ("U2", None, None)]
    engine.dispose()


def test_0007_drops_jobs_stored_by_earlier_versions(database_url: str) -> None:
    # Their references (`bot.jobs:nudge`, …) no longer resolve; the reconciler re-creates what is needed.
    config = alembic_config(database_url)
    command.upgrade(config, "0006")
    engine = make_engine(database_url)
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    store.start(None, "default")  # creates the table, as the scheduler does
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO {JOB_TABLE} (id, next_run_time, job_state) VALUES ('followup:T1:1', 1.0, :state)"
            ),
            {"state": b"old pickle"},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {JOB_TABLE}")).scalar_one() == 0
    engine.dispose()
