"""Alembic is the only way the schema is made: `upgrade head` must produce exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.db import _alembic_head, _head, _revision, include_object


def test_upgrade_head_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_every_table_carries_the_workspace(engine: Engine) -> None:
    inspector = inspect(engine)
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    assert tables == {
        "retro",
        "participant",
        "item",
        "action_item",
        "response",
        "nudge",
        "processed_event",
        "turn",
        "comment",
        "vote",
        "action_notice",
        "workspace_secret",
        "delivery",
        "slack_user",
        "retro_schedule",
        "retro_plan",
        "api_token",
        "escalation",
        "roti_rating",
        "kudos",
        "tracker_connection",
        "tracker_ticket",
    }
    for table in tables:
        assert "team_id" in {c["name"] for c in inspector.get_columns(table)}, table


def test_the_head_and_the_revision_read_without_alembic_are_alembics(engine: Engine) -> None:
    """storage.db reads the newest revision from the migration files and the database's from its table, so
    that a start on an up-to-date database never imports Alembic; both must agree with Alembic's answer."""
    assert _head() == _alembic_head() is not None
    with engine.connect() as connection:
        assert _revision(engine.url.render_as_string(hide_password=False)) == (
            MigrationContext.configure(connection).get_current_revision()
        )
