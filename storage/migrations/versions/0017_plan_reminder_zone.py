"""plan reminder zone

The time zone of a waiting plan's facilitator, so that its reminders come in their daytime.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 13:55:55.192897
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("facilitator_tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.drop_column("facilitator_tz")
