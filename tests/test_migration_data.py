"""Migrations keep what is stored: 0002 moves survey answers from participant to response; 0007 drops
obsolete jobs; 0008 keeps ids but drops the times that could name an anonymous row's author."""

from __future__ import annotations

from alembic import command
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import text
from sqlmodel import Session, select

from bot.scheduler import JOB_TABLE
from storage.db import alembic_config, make_engine
from storage.models import Comment, Item, Participant, Vote


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


def test_0008_keeps_ids_and_coarsens_the_times_of_anonymous_rows(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0007")
    engine = make_engine(database_url)
    rows = [
        "INSERT INTO retro (id, team_id, channel_id, facilitator_id, facilitator_name, title, format, phase, "
        "deadline, created_at, "
        "anonymity, custom_questions, manual_reminders, round_robin_scope, turn_hours, votes_per_person, "
        "followup_weeks) VALUES (1, 'T1', 'C1', 'U1', 'F', 'R', 'well_wrong_improve', 'voting', "
        "'2026-01-09 00:00:00', '2026-01-01 08:30:00', 'optional', '[]', 0, 'everyone', 4, 3, 2)",
        "INSERT INTO participant (team_id, retro_id, user_id, display_name, responded_at) VALUES "
        "('T1', 1, 'U1', 'a', '2026-01-02 10:17:43.123456'), ('T1', 1, 'U2', 'b', NULL)",
        "INSERT INTO item (id, team_id, retro_id, category, text, author_id, author_hash, source, created_at) "
        "VALUES (5, 'T1', 1, 'went_wrong', 'secret', NULL, 'h', 'dm', '2026-01-02 10:00:00'), "
        "(6, 'T1', 1, 'went_well', 'mine', 'U2', NULL, 'dm', '2026-01-02 11:12:13')",
        "INSERT INTO comment (id, team_id, retro_id, item_id, text, author_id, author_hash, created_at) "
        "VALUES (3, 'T1', 1, 6, 'agreed', NULL, 'h2', '2026-01-03 14:01:02')",
        "INSERT INTO vote (id, team_id, retro_id, item_id, voter_hash, created_at) "
        "VALUES (4, 'T1', 1, 5, 'v', '2026-01-04 09:09:09')",
    ]
    with engine.begin() as connection:
        for row in rows:
            connection.execute(text(row))
    command.upgrade(config, "head")
    with Session(engine) as session:
        stored = list(session.exec(select(Item)))
        items = {i.id: i.created_at.isoformat() for i in stored}
        items_start = stored[0].created_at
        comments = [(c.id, c.created_at.isoformat()) for c in session.exec(select(Comment))]
        votes = [(v.id, v.created_at.isoformat()) for v in session.exec(select(Vote))]
        answered = {p.user_id: p.responded_at for p in session.exec(select(Participant))}
        # New rows take random 63-bit ids next to the old ones (BIGINT on PostgreSQL).
        session.add(Vote(team_id="T1", retro_id=1, item_id=5, voter_hash="w", created_at=items_start))
        session.commit()
    assert items == {5: "2026-01-01T08:30:00+00:00", 6: "2026-01-02T11:12:13+00:00"}
    assert comments == [(3, "2026-01-01T08:30:00+00:00")]
    assert votes == [(4, "2026-01-01T08:30:00+00:00")]
    assert answered["U2"] is None
    assert answered["U1"] is not None and answered["U1"].isoformat() == "2026-01-02T10:00:00+00:00"
    engine.dispose()
