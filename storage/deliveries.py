"""Queries on the outbox's table (`delivery`): writing intents, claiming due ones, recording how they went,
and the failures not yet told. The outbox (bot/outbox.py) and the dispatcher (bot/dispatcher.py) build no
SQL of their own.

Claiming and `next_due` look across workspaces (a worker serves them all); everything else names its row,
and through it its workspace (`team_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, exists, func, or_, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import Delivery

OPEN = ("pending", "sending")

# ------------------------------------------------------------ writing intents


def write(session: Session, *, how: str, rows: list[dict[str, Any]]) -> None:
    """One statement for these rows. `add`: a key already there is left alone; `again`: a key already
    there is asked for once more (see bot.outbox.Outbox.again)."""
    session.execute(_write_statement(session, how), rows)


def _write_statement(session: Session, how: str) -> Any:
    table = Delivery.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if how == "add":
        return insert.on_conflict_do_nothing()
    state = table.c.state
    return insert.on_conflict_do_update(
        index_elements=["team_id", "key"],
        set_={
            "generation": table.c.generation + 1,
            "payload": insert.excluded.payload,
            "state": case((state == "sending", "sending"), else_="pending"),
            "attempts": case((state == "pending", table.c.attempts), else_=0),
            "next_attempt_at": case(
                (state == "pending", table.c.next_attempt_at), else_=insert.excluded.next_attempt_at
            ),
            "last_error": None,
        },
    )


# ------------------------------------------------------------ claiming


def due_ids(session: Session, *, now: datetime) -> Sequence[int]:
    """Up to four deliveries due at `now` that nothing holds back (see _claim_query), best first."""
    postgres = session.get_bind().dialect.name == "postgresql"
    ids: Sequence[int] = session.exec(_POSTGRES_CLAIM if postgres else _CLAIM, params={"now": now}).all()
    return ids


def take(
    session: Session,
    *,
    delivery_id: int,
    now: datetime,
    token: str,
    lease_until: datetime,
    task_kind: str,
    task_lease_until: datetime,
) -> bool:
    """Mark a due delivery as being sent under `token` until its lease runs out (a task's lease, for
    deliveries of `task_kind`, is longer). False: another process took it first."""
    claimed = session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, claimable_row(now))
        .values(
            state="sending",
            claim=token,
            lease_until=case((col(Delivery.kind) == task_kind, task_lease_until), else_=lease_until),
            attempts=Delivery.attempts + 1,
            # A claim after a lapsed lease: the earlier attempt may have reached Slack.
            unsure=or_(col(Delivery.unsure), col(Delivery.state) == "sending"),
        )
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def by_key(session: Session, *, team_id: str, key: str) -> Delivery | None:
    return session.exec(select(Delivery).where(Delivery.team_id == team_id, Delivery.key == key)).first()


def any_unsent(session: Session, *, team_id: str, keys: Sequence[str]) -> bool:
    """Whether one of these intents is still waiting or being sent."""
    found = session.exec(
        select(Delivery.id).where(
            Delivery.team_id == team_id,
            col(Delivery.key).in_(keys),
            col(Delivery.state).in_(("pending", "sending")),
        )
    ).first()
    return found is not None


def any_unsent_starting(session: Session, *, team_id: str, prefix: str) -> bool:
    """Whether an intent whose key starts with `prefix` is still waiting or being sent."""
    found = session.exec(
        select(Delivery.id).where(
            Delivery.team_id == team_id,
            col(Delivery.key).startswith(prefix, autoescape=True),
            col(Delivery.state).in_(("pending", "sending")),
        )
    ).first()
    return found is not None


def earliest_retry(session: Session, *, now: datetime) -> datetime | None:
    """When the first delivery waiting on time (a retry, a rate limit) becomes due."""
    return session.exec(
        select(Delivery.next_attempt_at)
        .where(col(Delivery.state) == "pending", col(Delivery.next_attempt_at) > now)
        .order_by(col(Delivery.next_attempt_at))
        .limit(1)
    ).first()


def earliest_lease_end(session: Session, *, now: datetime) -> datetime | None:
    """When the first lease of a delivery being sent runs out."""
    return session.exec(
        select(Delivery.lease_until)
        .where(col(Delivery.state) == "sending", col(Delivery.lease_until) > now)
        .order_by(col(Delivery.lease_until))
        .limit(1)
    ).first()


# ------------------------------------------------------------ recording the outcome
# Each of these changes the row only while it is still the claim that was sent (same claim, same
# generation) and says whether it did.


def _claimed(delivery_id: int, claim: str | None, generation: int) -> tuple[Any, ...]:
    return (
        col(Delivery.id) == delivery_id,
        col(Delivery.claim) == claim,
        col(Delivery.generation) == generation,
    )


def release(
    session: Session,
    *,
    delivery_id: int,
    claim: str | None,
    generation: int,
    next_attempt_at: datetime,
    unsure: bool,
    uncount: bool,
    error: str | None,
) -> bool:
    """Pending again, from `next_attempt_at`; `uncount`: this attempt does not count (deferred)."""
    values: dict[str, Any] = {
        "state": "pending",
        "claim": None,
        "lease_until": None,
        "next_attempt_at": next_attempt_at,
        "unsure": unsure,
    }
    if uncount:
        values["attempts"] = Delivery.attempts - 1
    if error:
        values["last_error"] = error
    updated = session.execute(
        update(Delivery).where(*_claimed(delivery_id, claim, generation)).values(**values)
    )
    return bool(updated.rowcount == 1)  # type: ignore[attr-defined]


def settle(
    session: Session,
    *,
    delivery_id: int,
    claim: str | None,
    generation: int,
    state: str,
    now: datetime,
    error: str | None,
    result: dict[str, Any] | None,
) -> bool:
    """Sent, failed, in doubt or cancelled, for good."""
    values: dict[str, Any] = {"state": state, "claim": None, "lease_until": None}
    values.update(finished_at=now, last_error=error, result=result, unsure=False)
    updated = session.execute(
        update(Delivery).where(*_claimed(delivery_id, claim, generation)).values(**values)
    )
    return bool(updated.rowcount == 1)  # type: ignore[attr-defined]


def delete_settled(session: Session, *, delivery_id: int, claim: str | None, generation: int) -> bool:
    """Settled and not kept: the row goes."""
    deleted = session.execute(delete(Delivery).where(*_claimed(delivery_id, claim, generation)))
    return bool(deleted.rowcount == 1)  # type: ignore[attr-defined]


def send_again(session: Session, *, delivery_id: int, claim: str | None, now: datetime) -> None:
    """Pending at once: it was asked for again (a new generation) while this claim was sending it."""
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.claim) == claim)
        .values(state="pending", claim=None, lease_until=None, next_attempt_at=now)
    )


# ------------------------------------------------------------ failures


def unreported_failures(session: Session, *, team_id: str, user: str, retro_id: int | None) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery)
            .where(
                Delivery.team_id == team_id,
                Delivery.report_to == user,
                Delivery.retro_id == retro_id,
                col(Delivery.state).in_(("failed", "doubt")),
                col(Delivery.reported_at).is_(None),
            )
            .order_by(col(Delivery.id))
        ).all()
    )


# ------------------------------------------------------------ the claim query


def _claim_query(*, postgres: bool) -> Any:
    """Up to four due deliveries that nothing holds back: the first open one in its lane, whose parent (if
    any) is no longer open. Built once; `now` is bound at each claim.

    Two shapes of the same question, each where its planner does well:
    - SQLite: for each candidate, is there an earlier open one in its lane, is its parent open (correlated
      NOT EXISTS, answered from the lane and key indexes: a few rows read per candidate; the other shape
      took 4x as long to fan out to 1,000 people).
    - PostgreSQL: the open lanes' heads and the open keys, each read once (uncorrelated). With no
      statistics yet on a table that a fan-out just filled, PostgreSQL planned the correlated shape as
      every open row against every other: 60-90 ms a claim with 300 open, 1 ms this way.
    """
    d = aliased(Delivery)
    o = aliased(Delivery)
    next_attempt_at: Any = col(Delivery.next_attempt_at)
    now = bindparam("now", type_=next_attempt_at.type)
    claimable = or_(
        col(d.state) == "pending",
        and_(col(d.state) == "sending", col(d.lease_until) < now),  # its process died mid-send
    )
    if postgres:
        heads = (
            select(col(o.team_id), col(o.lane), func.min(col(o.id)))
            .where(col(o.state).in_(OPEN), col(o.lane).is_not(None))
            .group_by(col(o.team_id), col(o.lane))
        )
        open_keys = select(col(o.team_id), col(o.key)).where(col(o.state).in_(OPEN))
        first_in_lane = or_(col(d.lane).is_(None), tuple_(col(d.team_id), col(d.lane), col(d.id)).in_(heads))
        parent_settled = or_(
            col(d.parent_key).is_(None), tuple_(col(d.team_id), col(d.parent_key)).not_in(open_keys)
        )
    else:
        first_in_lane = ~exists().where(
            col(o.team_id) == col(d.team_id),
            col(o.lane) == col(d.lane),
            col(o.id) < col(d.id),
            col(o.state).in_(OPEN),
        )
        parent_settled = ~exists().where(
            col(o.team_id) == col(d.team_id), col(o.key) == col(d.parent_key), col(o.state).in_(OPEN)
        )
    query = (
        select(d.id)
        .where(claimable, col(d.next_attempt_at) <= now, first_in_lane, parent_settled)
        .order_by(col(d.priority), col(d.id))
        .limit(4)
    )
    # Several processes can share the table: each skips the rows another is claiming.
    return query.with_for_update(skip_locked=True, of=d) if postgres else query


def claimable_row(now: datetime) -> Any:
    return or_(
        col(Delivery.state) == "pending",
        and_(col(Delivery.state) == "sending", col(Delivery.lease_until) < now),
    )


_CLAIM = _claim_query(postgres=False)
_POSTGRES_CLAIM = _claim_query(postgres=True)
