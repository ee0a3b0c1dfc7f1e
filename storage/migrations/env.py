"""Alembic environment: runs against the URL the caller configured (or DATABASE_URL)."""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables on SQLModel.metadata
from bot.config import normalize_database_url
from storage.db import include_object, make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    if os.environ.get("DATABASE_URL") and config.get_main_option("sqlalchemy.url") == "sqlite:///rearview.db":
        return normalize_database_url(os.environ["DATABASE_URL"])
    return config.get_main_option("sqlalchemy.url") or "sqlite:///rearview.db"


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(_url())
        try:
            with engine.connect() as connection:
                _run(connection)
        finally:
            engine.dispose()  # one-shot: leave no connections behind
    else:
        _run(connectable)


def _run(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        # Batch mode rebuilds tables by copy-and-drop, which enforced foreign keys would refuse.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # end the autobegun transaction so Alembic manages (and commits) its own
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
