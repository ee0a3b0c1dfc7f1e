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

from sqlalchemy import and_, bindparam, case, exists, func, or_, tuple_, update
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


CLAIM_LIMIT = 8  # deliveries claimed at once: one claim and one outcome transaction for them all


def due(session: Session, *, now: datetime) -> list[tuple[int, str]]:
    """Up to CLAIM_LIMIT deliveries due at `now` that nothing holds back (see _claim_query), best first:
    (id, kind)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = session.execute(_POSTGRES_CLAIM if postgres else _CLAIM, params={"now": now}).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def take_many(
    session: Session,
    *,
    delivery_ids: Sequence[int],
    now: datetime,
    token: str,
    lease_until: datetime,
    task_kind: str,
    task_lease_until: datetime,
) -> list[Delivery]:
    """`take` for several due deliveries in one statement, returning the rows this claim took (another
    process may have taken some first)."""
    taken = session.scalars(
        update(Delivery)
        .where(col(Delivery.id).in_(list(delivery_ids)), claimable_row(now))
        .values(
            state="sending",
            claim=token,
            lease_until=case((col(Delivery.kind) == task_kind, task_lease_until), else_=lease_until),
            attempts=Delivery.attempts + 1,
            unsure=or_(col(Delivery.unsure), col(Delivery.state) == "sending"),
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    return list(taken)


def by_keys(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Delivery]:
    """The deliveries with these (team, key) pairs, in one statement."""
    if not keys:
        return {}
    found = session.exec(select(Delivery).where(tuple_(col(Delivery.team_id), col(Delivery.key)).in_(keys)))
    return {(d.team_id, d.key): d for d in found}


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


def record_many(session: Session, *, outcomes: list[dict[str, Any]], now: datetime) -> set[int]:
    """Several claims' outcomes in a statement per kind of change (one each for those released, settled
    and settled-and-forgotten); each row changes only while it is still the claim that was sent. Returns
    the ids that changed; the others were asked for again meanwhile (see send_again).

    An outcome: id, claim, generation, state ("pending" releases it), error, and for a release
    next_attempt_at, unsure and uncount (1: the attempt does not count), for a settled one result and
    forget (the row goes)."""
    table = Delivery.__table__  # type: ignore[attr-defined]
    same_claim = and_(
        table.c.id == bindparam("b_id"),
        table.c.claim == bindparam("b_claim"),
        table.c.generation == bindparam("b_generation"),
    )
    released = [o for o in outcomes if o["state"] == "pending"]
    forgotten = [o for o in outcomes if o["state"] != "pending" and o["forget"]]
    settled = [o for o in outcomes if o["state"] != "pending" and not o["forget"]]
    changed = 0
    if released:
        changed += _many(
            session,
            table.update()
            .where(same_claim)
            .values(
                state="pending",
                claim=None,
                lease_until=None,
                next_attempt_at=bindparam("b_next_attempt_at"),
                unsure=bindparam("b_unsure"),
                attempts=table.c.attempts - bindparam("b_uncount"),
                last_error=func.coalesce(
                    bindparam("b_error", type_=table.c.last_error.type), table.c.last_error
                ),
            ),
            released,
        )
    if settled:
        changed += _many(
            session,
            table.update()
            .where(same_claim)
            .values(
                state=bindparam("b_state"),
                claim=None,
                lease_until=None,
                finished_at=now,
                last_error=bindparam("b_error"),
                result=bindparam("b_result"),
                unsure=False,
            ),
            settled,
        )
    if forgotten:
        changed += _many(session, table.delete().where(same_claim), forgotten)
    ids = {int(o["id"]) for o in outcomes}
    if changed == len(outcomes) and session.get_bind().dialect.supports_sane_multi_rowcount:
        return ids
    # Some were asked for again while they were sent (a new generation): they still hold their claim.
    claims = {str(o["claim"]) for o in outcomes}
    kept = session.exec(
        select(Delivery.id).where(col(Delivery.id).in_(ids), col(Delivery.claim).in_(claims))
    ).all()
    return ids - {int(i) for i in kept}


def _many(session: Session, statement: Any, outcomes: list[dict[str, Any]]) -> int:
    params = [{f"b_{k}": v for k, v in o.items() if k != "forget"} for o in outcomes]
    return int(session.execute(statement, params).rowcount)  # type: ignore[attr-defined]


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
    """Up to CLAIM_LIMIT due deliveries that nothing holds back: the first open one in its lane, whose parent (if
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
        select(d.id, d.kind)
        .where(claimable, col(d.next_attempt_at) <= now, first_in_lane, parent_settled)
        .order_by(col(d.priority), col(d.id))
        .limit(CLAIM_LIMIT)
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
