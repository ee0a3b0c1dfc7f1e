"""Tables. Every one carries the workspace (`team_id`) and every query filters on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.ids import ROW_ID, random_id
from storage.types import UTCDateTime


def _utc(nullable: bool) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


# `id: int = Field(default=None, ...)`: the database assigns it on flush, and rows are handed out only after
# flush/commit, so `id` is always set wherever it is read. What people contribute (items, responses,
# comments, votes) gets a random id instead, set when the row is made: a sequential one would tell a
# database reader the order people answered in (storage/ids.py).


def _random_pk() -> Any:
    return Field(default_factory=random_id, sa_column=Column(ROW_ID, primary_key=True, autoincrement=False))


def _item_ref(*, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None, sa_column=Column(ROW_ID, ForeignKey("item.id"), nullable=nullable, index=index)
    )


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

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    facilitator_id: str = Field(max_length=32)
    facilitator_name: str = Field(default="", max_length=200)
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
    anonymity: str = Field(default="optional", max_length=16)
    custom_questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    manual_reminders: int = Field(default=0)
    # Discussion and voting.
    round_robin_scope: str = Field(default="everyone", max_length=16)  # or "respondents"
    turn_hours: int = Field(default=4)  # working hours a person has for their turn
    votes_per_person: int = Field(default=3)
    paused_at: datetime | None = Field(default=None, sa_column=_utc(True))
    voting_deadline: datetime | None = Field(default=None, sa_column=_utc(True))
    # Follow-up on action items, 2–4 weeks after the collection deadline.
    followup_weeks: int = Field(default=2)
    followup_posted_at: datetime | None = Field(default=None, sa_column=_utc(True))
    # The audit trail of how the retro ended.
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    report_url: str | None = Field(default=None, max_length=500)
    # The release the retro looks back on. None means "not given" and is shown as a gap, never guessed.
    release_version: str | None = Field(default=None, max_length=100)
    deploy_date: date | None = Field(default=None)
    release_scope: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    incidents: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rollbacks: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    hotfixes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    release_notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Participant(SQLModel, table=True):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("retro_id", "user_id", name="uq_participant_retro_user"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    user_id: str = Field(max_length=32)
    display_name: str = Field(default="", max_length=200)
    invited_at: datetime | None = Field(default=None, sa_column=_utc(True))
    invite_error: str | None = Field(default=None, max_length=100)
    responded_at: datetime | None = Field(default=None, sa_column=_utc(True))
    tz: str | None = Field(default=None, max_length=64)


class Response(SQLModel, table=True):
    """One person's survey answers beyond items. Anonymous ones carry only the keyed hash."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("retro_id", "author_id", name="uq_response_author"),
        UniqueConstraint("retro_id", "author_hash", name="uq_response_author_hash"),
    )

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    author_id: str | None = Field(default=None, max_length=32)
    author_hash: str | None = Field(default=None, max_length=64)
    smoothness: int | None = Field(default=None)
    surprise: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answers: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Item(SQLModel, table=True):
    __tablename__ = "item"
    # `/retro status` counts a retro's items by category from this index alone, without reading a row.
    __table_args__ = (Index("ix_item_team_retro_category", "team_id", "retro_id", "category"),)

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    category: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # None for anonymous items: nothing here may lead back to their author but the keyed hash,
    # which lets the author (and nobody reading the database without the secret) find it again.
    author_id: str | None = Field(default=None, max_length=32)
    author_hash: str | None = Field(default=None, max_length=64, index=True)
    source: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_utc(False))
    # Stable numbers people can refer to once the items are posted for discussion.
    number: int | None = Field(default=None)
    root_cause: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Turn(SQLModel, table=True):
    """One person's turn in the round-robin. Everything needed to resume after a restart lives here."""

    __tablename__ = "turn"
    __table_args__ = (UniqueConstraint("retro_id", "position", name="uq_turn_position"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    position: int
    user_id: str = Field(max_length=32)
    # waiting -> (scheduled ->) active -> answered | passed | timed_out | skipped
    status: str = Field(default="waiting", max_length=16)
    starts_at: datetime | None = Field(default=None, sa_column=_utc(True))
    due_at: datetime | None = Field(default=None, sa_column=_utc(True))
    remaining_seconds: int | None = Field(default=None)  # kept while the round-robin is paused
    ended_at: datetime | None = Field(default=None, sa_column=_utc(True))


class Comment(SQLModel, table=True):
    """A thought on an existing item, added during the round-robin."""

    __tablename__ = "comment"

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    item_id: int = _item_ref()
    text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: str | None = Field(default=None, max_length=32)
    author_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_utc(False))


class Vote(SQLModel, table=True):
    """One vote on one item. Voters are keyed hashes: the limit holds without recording who voted how."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("retro_id", "item_id", "voter_hash", name="uq_vote_once"),)

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    item_id: int = _item_ref()
    voter_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc(False))


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str = Field(max_length=32, index=True)
    owner_name: str = Field(default="", max_length=200)
    owner_tz: str | None = Field(default=None, max_length=64)
    # A team owns it (a Slack user group, "@platform-team"); `owner_id` is then its point person, who gets the DMs.
    owner_group_id: str | None = Field(default=None, max_length=32)
    owner_group_handle: str | None = Field(default=None, max_length=100)
    due_date: date | None = Field(default=None)
    priority: str = Field(default="medium", max_length=8)
    link: str | None = Field(default=None, max_length=500)
    source_item_id: int | None = _item_ref(nullable=True, index=False)
    created_by: str = Field(default="", max_length=32)
    status: str = Field(default="open", max_length=16)  # open, done, dropped, carried
    carried_from_id: int | None = Field(default=None, foreign_key="action_item.id")
    status_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_utc(False))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(True))
    # The ticket in the channel's tracker, once created (bot/services/trackers.py, table tracker_ticket).
    ticket_url: str | None = Field(default=None, max_length=500)


class ActionNotice(SQLModel, table=True):
    """A message sent about an action item; the unique key is what stops a second one."""

    __tablename__ = "action_notice"
    __table_args__ = (UniqueConstraint("action_id", "kind", name="uq_action_notice_once"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    action_id: int = Field(foreign_key="action_item.id", index=True)
    kind: str = Field(max_length=64)
    sent_at: datetime = Field(sa_column=_utc(False))
    error: str | None = Field(default=None, max_length=100)


class Nudge(SQLModel, table=True):
    """A reminder sent (or tried) to one person: the unique key is what stops a second one."""

    __tablename__ = "nudge"
    __table_args__ = (UniqueConstraint("retro_id", "user_id", "reminder", name="uq_nudge_once"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    user_id: str = Field(max_length=32)
    reminder: str = Field(max_length=32)
    sent_at: datetime = Field(sa_column=_utc(False))
    error: str | None = Field(default=None, max_length=100)


class ProcessedEvent(SQLModel, table=True):
    """Events already handled (Slack retries them). Keys are keyed hashes: a DM's ts names its author."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("team_id", "key_hash", name="uq_processed_event"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc(False))


class WorkspaceSecret(SQLModel, table=True):
    """A workspace's generated hashing secret, used when REARVIEW_SECRET is not set."""

    __tablename__ = "workspace_secret"

    team_id: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)


class Delivery(SQLModel, table=True):
    """The outbox: one intended Slack side effect (or one step of work), committed with the state change
    that causes it and carried out by the dispatcher's workers. `key` makes adding it idempotent."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_delivery_key"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_lane", "team_id", "lane", "id"),
        Index("ix_delivery_retro", "team_id", "retro_id", "state"),
    )

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    # Deliveries in one lane (a channel, a DM, a retro's steps) go out one at a time, in id order.
    lane: str | None = Field(default=None, max_length=100)
    # Waits until the delivery with this key is done (a thread reply waits for the kickoff it answers).
    parent_key: str | None = Field(default=None, max_length=200)
    priority: int = Field(default=5)  # lower goes first among due deliveries
    purpose: str | None = Field(default=None, max_length=32)  # what to record once it is sent or failed
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # pending -> sending -> done | failed | cancelled | doubt
    state: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=_utc(False))
    lease_until: datetime | None = Field(default=None, sa_column=_utc(True))
    claim: str | None = Field(default=None, max_length=32)
    # Bumped when a coalesced delivery (a Home tab, a progress note) is asked for again while being sent.
    generation: int = Field(default=0)
    # Set when an earlier attempt may have reached Slack: check before sending again.
    unsure: bool = Field(default=False)
    last_error: str | None = Field(default=None, max_length=100)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    retro_id: int | None = Field(default=None)
    report_to: str | None = Field(default=None, max_length=32)  # who hears of a permanent failure
    reported_at: datetime | None = Field(default=None, sa_column=_utc(True))
    created_at: datetime = Field(sa_column=_utc(False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc(True))


class SlackUserCache(SQLModel, table=True):
    """What Slack said about a person, so fan-outs do not wait on a users.info per participant."""

    __tablename__ = "slack_user"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    is_bot: bool = Field(default=False)
    deleted: bool = Field(default=False)
    tz: str | None = Field(default=None, max_length=64)
    dm_channel: str | None = Field(default=None, max_length=32)
    fetched_at: datetime = Field(sa_column=_utc(False))


class RetroSchedule(SQLModel, table=True):
    """A channel's standing arrangement: its cadence (if any), the settings its retros start with, who
    facilitates, which releases start a retro, and what happens to a plan nobody reviewed. One per channel."""

    __tablename__ = "retro_schedule"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_schedule_channel"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    created_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_column=_utc(False))
    # The cadence: None (releases only), "weekly" (every `every_weeks` weeks on `weekday`, counted from
    # `anchor`) or "monthly" (the first `weekday` of each month); at `at_time` ("HH:MM") in `tz`.
    cadence: str | None = Field(default=None, max_length=16)
    every_weeks: int = Field(default=2)
    weekday: int = Field(default=0)  # Monday = 0
    at_time: str = Field(default="10:00", max_length=5)
    tz: str = Field(default="UTC", max_length=64)
    anchor: date | None = Field(default=None)  # a day of the cadence: every_weeks counts from it
    collection_days: int = Field(default=3)
    # The retro settings (RetroDraft's fields but team, channel, facilitator, deadline, release), as JSON.
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    facilitation: str = Field(default="fixed", max_length=16)  # or "rotation"
    facilitator_id: str = Field(max_length=32)  # the fixed facilitator, and who is told about the schedule
    rotation: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rotation_next: int = Field(default=0)  # index into `rotation` of the next facilitator
    release_rule: str = Field(default="every", max_length=16)  # "every", "significant", "major_minor"
    release_window_days: int = Field(default=7)
    unreviewed: str = Field(default="start", max_length=8)  # "start" anyway, or "wait" and remind
    plan_lead_hours: int = Field(default=24)  # how long before its start a cadence plan is sent
    next_at: datetime | None = Field(default=None, sa_column=_utc(True))  # the next cadence retro's start
    skip_next: bool = Field(default=False)
    empty_streak: int = Field(default=0)  # retros in a row that nobody answered
    paused_at: datetime | None = Field(default=None, sa_column=_utc(True))
    pause_reason: str | None = Field(default=None, max_length=200)


class RetroPlan(SQLModel, table=True):
    """A retro about to happen, before it starts: sent to its facilitator to review (Start now / Edit /
    Skip), started at `planned_start`. Made by a cadence or a posted release; `/retro new` makes none."""

    __tablename__ = "retro_plan"
    __table_args__ = (
        # A release posted twice makes one plan (NULL versions, cadence plans, are distinct).
        UniqueConstraint("team_id", "channel_id", "release_version", name="uq_plan_release"),
        # A cadence occurrence makes one plan.
        UniqueConstraint("team_id", "schedule_id", "occurrence", name="uq_plan_occurrence"),
    )

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    schedule_id: int | None = Field(default=None, foreign_key="retro_schedule.id")
    source: str = Field(max_length=16)  # "cadence" or "release"
    occurrence: datetime | None = Field(default=None, sa_column=_utc(True))  # the cadence slot it fills
    release_version: str | None = Field(default=None, max_length=100)
    # The release outcome as posted (version, deployed_at, scope, incidents, rollbacks, hotfixes, links,
    # metrics); empty for a cadence plan.
    release: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The retro's settings, copied from the schedule (or the channel's last retro) and editable.
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    facilitator_id: str = Field(max_length=32)
    next_facilitator_id: str | None = Field(default=None, max_length=32)
    planned_start: datetime = Field(sa_column=_utc(False))
    collection_days: int = Field(default=3)
    status: str = Field(default="proposed", max_length=16)  # PlanStatus
    reviewed_by: str | None = Field(default=None, max_length=32)
    reviewed_at: datetime | None = Field(default=None, sa_column=_utc(True))
    reminded_at: datetime | None = Field(default=None, sa_column=_utc(True))
    reminders: int = Field(default=0)  # reminders sent while it waits for its facilitator (at most 3)
    facilitator_tz: str | None = Field(default=None, max_length=64)  # where its reminders keep daytime
    retro_id: int | None = Field(default=None, foreign_key="retro.id")
    created_at: datetime = Field(sa_column=_utc(False))
    updated_at: datetime = Field(sa_column=_utc(False))


class ApiToken(SQLModel, table=True):
    """A bearer token for `POST /api/releases`, scoped to one workspace and channel. Only its SHA-256 is
    stored; `hint` (its last 4 characters) tells tokens apart in `rearview token list`."""

    __tablename__ = "api_token"

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=8)
    created_at: datetime = Field(sa_column=_utc(False))
    last_used_at: datetime | None = Field(default=None, sa_column=_utc(True))
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(True))


class Escalation(SQLModel, table=True):
    """Where a channel's overdue action items and recurring problems go beyond the team: a weekly digest in
    `target_channel_id` (e.g. a release advisory board), Mondays at 09:00 in `tz` (its setter's zone)."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_escalation_channel"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)  # the team's channel, whose retros are looked at
    target_channel_id: str = Field(max_length=32)
    overdue_days: int = Field(default=7)  # an open action item this many days past due is escalated
    set_by: str = Field(max_length=32)
    tz: str = Field(default="UTC", max_length=64)
    next_at: datetime = Field(sa_column=_utc(False))  # the next digest
    updated_at: datetime = Field(sa_column=_utc(False))


class RotiRating(SQLModel, table=True):
    """ "Was this retro worth your time?" (1-5, Return On Time Invested), asked at the close. Anonymous as a
    vote is: a keyed hash per retro lets a person change their rating, never tells who gave it; a random id
    and the retro's close as its time, so that neither orders the ratings."""

    __tablename__ = "roti_rating"
    __table_args__ = (UniqueConstraint("retro_id", "voter_hash", name="uq_roti_voter"),)

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    voter_hash: str = Field(max_length=64)
    score: int
    created_at: datetime = Field(sa_column=_utc(False))


class Kudos(SQLModel, table=True):
    """A shout-out to a person, from the survey or the round-robin. Who is thanked is always named; who gives
    it is named unless the retro's anonymity made them anonymous: then only a keyed hash (`from_hash`, to
    replace their survey's shout-out), a random id and the retro's start as its time."""

    __tablename__ = "kudos"

    id: int = _random_pk()
    team_id: str = Field(max_length=32, index=True)
    retro_id: int = Field(foreign_key="retro.id", index=True)
    to_user_id: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    from_user_id: str | None = Field(default=None, max_length=32)
    from_hash: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=16)  # "survey" or "round_robin"
    created_at: datetime = Field(sa_column=_utc(False))


class TrackerConnection(SQLModel, table=True):
    """Where a channel's action items become tickets: GitHub Issues, Jira or an outgoing webhook. One per
    channel. `secret` is the token, API token or webhook secret, encrypted (Fernet, a key derived from
    REARVIEW_SECRET): never stored, logged or shown in clear."""

    __tablename__ = "tracker_connection"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_tracker_channel"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # "github", "jira", "webhook"
    # Where: GitHub's API base (empty: api.github.com), Jira's server URL, the webhook's URL.
    url: str = Field(default="", max_length=500)
    project: str = Field(default="", max_length=200)  # GitHub "owner/name", Jira project key
    email: str = Field(default="", max_length=200)  # Jira's account e-mail
    secret: str = Field(sa_column=Column(Text, nullable=False))  # encrypted
    set_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_column=_utc(False))
    checked_at: datetime | None = Field(default=None, sa_column=_utc(True))
    check_error: str | None = Field(default=None, max_length=300)


class TrackerTicket(SQLModel, table=True):
    """An action item's ticket: recorded (pending) in the transaction that creates the item, then created
    by a task, which looks for the item's marker first, so a retry or a restart never makes two."""

    __tablename__ = "tracker_ticket"
    __table_args__ = (UniqueConstraint("action_id", name="uq_tracker_ticket_action"),)

    id: int = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    action_id: int = Field(foreign_key="action_item.id")
    connection_id: int  # the connection it was made with (replaced or removed since, perhaps)
    kind: str = Field(max_length=16)
    tracker: str = Field(default="", max_length=700)  # kind|url|project of the tracker it is (to be) in
    state: str = Field(default="pending", max_length=16)  # pending, created, failed
    attempts: int = Field(default=0)
    ticket_key: str | None = Field(default=None, max_length=100)  # "42", "OPS-7", the webhook's id
    url: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=_utc(False))
    synced_at: datetime | None = Field(default=None, sa_column=_utc(True))
