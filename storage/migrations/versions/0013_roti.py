"""roti

Ratings of a retro by its participants ("Was this retro worth your time?", 1-5), anonymous as votes are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 13:06:35.615252
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roti_rating",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("retro_id", sa.Integer(), nullable=False),
        sa.Column("voter_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["retro_id"],
            ["retro.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("retro_id", "voter_hash", name="uq_roti_voter"),
    )
    with op.batch_alter_table("roti_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roti_rating_retro_id"), ["retro_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roti_rating_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roti_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roti_rating_team_id"))
        batch_op.drop_index(batch_op.f("ix_roti_rating_retro_id"))

    op.drop_table("roti_rating")
