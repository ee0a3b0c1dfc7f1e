"""Tables. Every one carries the workspace (`team_id`) and every query filters on it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Retro(SQLModel, table=True):
    __tablename__ = "retro"
    __table_args__ = (
        # One open retro per channel, enforced by the database so two racing submits cannot both win.
        Index(
            "ux_retro_open_channel",
            "team_id",
            "channel_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    facilitator_id: str = Field(max_length=32)
    title: str = Field(max_length=150)
    format: str = Field(max_length=32)
    phase: str = Field(max_length=16)
    deadline: datetime = Field(sa_column=_utc(False))
    kickoff_ts: str | None = Field(default=None, max_length=32)
    kickoff_permalink: str | None = Field(default=None, max_length=500)
    summary_ts: str | None = Field(default=None, max_length=32)
    report_file_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_utc(False))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(True))


class Participant(SQLModel, table=True):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("retro_id", "user_id", name="uq_participant_retro_user"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    user_id: str = Field(max_length=32)
    display_name: str = Field(default="", max_length=200)
    invited_at: datetime | None = Field(default=None, sa_column=_utc(True))
    invite_error: str | None = Field(default=None, max_length=100)
    responded_at: datetime | None = Field(default=None, sa_column=_utc(True))
    smoothness: int | None = Field(default=None)
    surprise: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Item(SQLModel, table=True):
    __tablename__ = "item"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    category: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # None for anonymous items: nothing here may lead back to their author.
    author_id: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_utc(False))


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str = Field(max_length=32)
    due_date: date | None = Field(default=None)
    status: str = Field(default="open", max_length=16)
    created_at: datetime = Field(sa_column=_utc(False))
