"""kudos

Shout-outs to people, given in the survey or the round-robin.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 13:16:20.266668
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kudos",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("retro_id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("from_user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("from_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["retro_id"],
            ["retro.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kudos_retro_id"), ["retro_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kudos_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kudos_team_id"))
        batch_op.drop_index(batch_op.f("ix_kudos_retro_id"))

    op.drop_table("kudos")
