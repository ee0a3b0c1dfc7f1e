"""trackers

Action items in the team's tracker: a channel's connection (GitHub Issues, Jira or an outgoing webhook, its
secret encrypted), each action item's ticket, and the ticket's link on the action item.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 13:21:54.283314
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("project", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("set_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("check_error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_tracker_channel"),
    )
    with op.batch_alter_table("tracker_connection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracker_connection_team_id"), ["team_id"], unique=False)

    op.create_table(
        "tracker_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("tracker", sqlmodel.sql.sqltypes.AutoString(length=700), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ticket_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["action_item.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("action_id", name="uq_tracker_ticket_action"),
    )
    with op.batch_alter_table("tracker_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracker_ticket_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ticket_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("ticket_url")
    with op.batch_alter_table("tracker_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracker_ticket_team_id"))
    op.drop_table("tracker_ticket")
    with op.batch_alter_table("tracker_connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracker_connection_team_id"))
    op.drop_table("tracker_connection")
