"""plan reminders

How many times a plan waiting for its facilitator's review has reminded them (at most 3).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 12:38:40.300910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminders", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.drop_column("reminders")
