"""unlinkable contributions

Items, survey responses, comments and votes get random 64-bit ids from now on (storage/ids.py), so their
ids become BIGINT on PostgreSQL (SQLite's INTEGER is 64-bit already), with the columns that point at
items. Rows already stored keep their ids (buttons in Slack name them), but lose the times that could tie
them to a person: anonymous items and comments, and every vote, take their retro's start time, and the
time people answered keeps only its hour.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = [
    ("item", "id", False),
    ("response", "id", False),
    ("comment", "id", False),
    ("vote", "id", False),
    ("comment", "item_id", False),
    ("vote", "item_id", False),
    ("action_item", "source_item_id", True),
]

# Fixed table names only: nothing here comes from outside.
_RETRO_START = "(SELECT retro.created_at FROM retro WHERE retro.id = {table}.retro_id)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table, column, nullable in _COLUMNS:
            op.alter_column(
                table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=nullable
            )
    for table, anonymous in (
        ("item", "author_id IS NULL"),
        ("comment", "author_id IS NULL"),
        ("vote", "1 = 1"),
    ):
        op.execute(f"UPDATE {table} SET created_at = {_RETRO_START.format(table=table)} WHERE {anonymous}")  # noqa: S608
    hour = (
        "date_trunc('hour', responded_at)"
        if postgres
        else "strftime('%Y-%m-%d %H:00:00.000000', responded_at)"
    )
    op.execute(f"UPDATE participant SET responded_at = {hour} WHERE responded_at IS NOT NULL")  # noqa: S608


def downgrade() -> None:
    # The times are not given back; ids above 2**31 do not fit the old columns and make this fail.
    if op.get_bind().dialect.name == "postgresql":
        for table, column, nullable in reversed(_COLUMNS):
            op.alter_column(
                table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=nullable
            )
