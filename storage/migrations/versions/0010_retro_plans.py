"""retro plans

Retros that run themselves: a channel's schedule (cadence, settings, facilitation, release rules), the
plans a cadence or a posted release makes before a retro starts, and the hashed tokens of the release
endpoint.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 08:56:24.837397
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_team_id"), ["team_id"], unique=False)

    op.create_table(
        "retro_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("cadence", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at_time", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("collection_days", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("facilitation", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("facilitator_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rotation", sa.JSON(), nullable=False),
        sa.Column("rotation_next", sa.Integer(), nullable=False),
        sa.Column("release_rule", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("release_window_days", sa.Integer(), nullable=False),
        sa.Column("unreviewed", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("plan_lead_hours", sa.Integer(), nullable=False),
        sa.Column("next_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("skip_next", sa.Boolean(), nullable=False),
        sa.Column("empty_streak", sa.Integer(), nullable=False),
        sa.Column("paused_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_schedule_channel"),
    )
    with op.batch_alter_table("retro_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retro_schedule_team_id"), ["team_id"], unique=False)

    op.create_table(
        "retro_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("occurrence", storage.types.UTCDateTime(), nullable=True),
        sa.Column("release_version", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("release", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("facilitator_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("next_facilitator_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("planned_start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("collection_days", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("reviewed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("retro_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["retro_id"],
            ["retro.id"],
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["retro_schedule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", "release_version", name="uq_plan_release"),
        sa.UniqueConstraint("team_id", "schedule_id", "occurrence", name="uq_plan_occurrence"),
    )
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retro_plan_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retro_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retro_plan_team_id"))

    op.drop_table("retro_plan")
    with op.batch_alter_table("retro_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retro_schedule_team_id"))

    op.drop_table("retro_schedule")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_team_id"))

    op.drop_table("api_token")
