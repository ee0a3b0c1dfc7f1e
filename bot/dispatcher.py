"""The dispatcher: worker threads that claim due deliveries from the outbox and carry them out.

- Claiming: the oldest due delivery of each lane whose parent is settled, by priority. On PostgreSQL
  with `FOR UPDATE SKIP LOCKED`, on SQLite by a conditional UPDATE; either way a claimed delivery
  carries a lease, and one whose process died is claimed again when the lease runs out.
- Pacing: Slack's budgets per workspace, method and channel (bot/pacing.py); a 429 reschedules the
  delivery by its Retry-After. No thread ever sleeps on Slack.
- Doubt: after a 5xx or a lost connection, or when a lease ran out mid-send, Slack may have posted.
  A post is then checked (conversations.history for the marker it carries) before it is sent again;
  an upload cannot be checked and is reported as possibly missing instead of sent twice.
- Failures: permanent errors (`user_not_found`, `not_in_channel`...) and exhausted retries are
  recorded on the delivery and told to its `report_to` person once, in one message per batch.
- Forgetting: a delivery whose payload says `forget` is deleted once settled (sent, failed or
  cancelled), so the outbox keeps no record of answers that could tell who wrote an anonymous item.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, bindparam, case, delete, exists, func, or_, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.gateway import SlackCallFailed, SlackGateway
from bot.outbox import Kind
from bot.pacing import Pacer
from storage.db import unit_of_work
from storage.models import Delivery, SlackUserCache

if TYPE_CHECKING:
    from bot.tasks import Effects

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
TASK_LEASE = timedelta(minutes=5)
POLL_SECONDS = 1.0  # how often an idle worker looks for work that other processes (or time) made due
_OPEN = ("pending", "sending")
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)  # a cache row that knows only the DM: look the person up
_METHOD = {
    Kind.POST: "chat.postMessage",
    Kind.EPHEMERAL: "chat.postEphemeral",
    Kind.TELL: "chat.postEphemeral",
    Kind.UPDATE: "chat.update",
    Kind.HOME: "views.publish",
    Kind.REACT: "reactions.add",
    Kind.UPLOAD: "files.upload",
    Kind.UPDATE_VIEW: "views.update",
}


class Defer(Exception):
    """Not now: try again in `seconds` (pacing, a parent not yet sent). Not an attempt."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deferred by {seconds:.2f}s")
        self.seconds = seconds


class Cancel(Exception):
    """Nothing to do any more (its parent failed, the thing it shows is gone)."""


class Doubt(Exception):
    """It may or may not have reached Slack and cannot be checked: record it, tell someone."""


@dataclass
class _Claimed:
    delivery: Delivery
    parent: dict[str, Any] | None = None  # what sending the delivery it waits for gave (channel, ts)
    parent_unsent: bool = False  # it waited for one that failed or was cancelled


class Dispatcher:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        effects: Effects,
        workers: int = 8,
        pace: bool = True,
    ) -> None:
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.effects = effects
        self.workers = workers
        self.pacer = Pacer(lambda: self.clock().timestamp())
        self.pace = pace  # off only where time stands still (unit tests)
        self._postgres = engine.dialect.name == "postgresql"
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # workers wait here for work
        self._idle = threading.Condition(lock)  # wait_idle waits here for the workers
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._halted = threading.Event()
        self._busy = 0
        self._wakes = 0  # bumped by every wake(); a scan that began after it proves "nothing due"
        self._scanned_empty = -1

    # ------------------------------------------------------------ running

    def start(self) -> None:
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"delivery-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """New work: one idle worker looks; each worker that finds work brings one more, so the pool grows
        as fast as there is work, and a wake with nothing due costs one query, not one per worker."""
        with self._cond:
            self._wakes += 1
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop claiming; let deliveries in flight finish, for at most `timeout`. True if all finished."""
        self._stopping.set()
        with self._cond:
            self._wakes += 1
            self._cond.notify_all()
        with self._cond:
            self._idle.notify_all()  # nobody waits for a stopped dispatcher to go idle
        for thread in self._threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def halt(self) -> None:
        """Stop as a killed process stops: nothing after this touches the database (for crash tests)."""
        self._halted.set()
        self.stop(timeout=0)

    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                started = self._wakes
                self._busy += 1
            try:
                claimed = self._claim()
            except Exception:
                logger.exception("could not claim deliveries")
                claimed = None
            if claimed is not None:
                with self._cond:
                    self._cond.notify()  # there may be more
                try:
                    self._process(claimed)
                except Exception:
                    logger.exception("delivery %s failed unexpectedly", claimed.delivery.id)
            with self._cond:
                self._busy -= 1
                self._idle.notify_all()
                if claimed is not None:
                    # What it finished may free others (the next in its lane, replies waiting on it): this
                    # worker looks again and brings one more, who brings one more when it finishes.
                    self._wakes += 1
                    self._cond.notify()
                if claimed is None:
                    self._scanned_empty = max(self._scanned_empty, started)
                    if self._wakes == started and not self._stopping.is_set():
                        self._cond.wait(POLL_SECONDS)

    # ------------------------------------------------------------ for tests and tools

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until a worker found nothing due after the latest wake and no worker is busy."""
        self.wake()
        with self._cond:
            target = self._wakes
            ok = self._idle.wait_for(
                lambda: (self._scanned_empty >= target and self._busy == 0) or self._stopping.is_set(),
                timeout,
            )
        if not ok:
            raise TimeoutError("deliveries still due after waiting")

    def drain(self, limit: int = 10_000) -> int:
        """Carry out everything due, in the calling thread (unit tests, `rearview` tools)."""
        done = 0
        while done < limit and (claimed := self._claim()) is not None:
            self._process(claimed)
            done += 1
        return done

    def next_due(self) -> datetime | None:
        """When the earliest delivery that is waiting on time becomes due: a retry, a rate limit, or the lease
        of one a killed process was sending. Deliveries held back by their lane or parent do not count."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retry = session.exec(
                select(Delivery.next_attempt_at)
                .where(col(Delivery.state) == "pending", col(Delivery.next_attempt_at) > now)
                .order_by(col(Delivery.next_attempt_at))
                .limit(1)
            ).first()
            lease = session.exec(
                select(Delivery.lease_until)
                .where(col(Delivery.state) == "sending", col(Delivery.lease_until) > now)
                .order_by(col(Delivery.lease_until))
                .limit(1)
            ).first()
        return min((t for t in (retry, lease) if t is not None), default=None)

    # ------------------------------------------------------------ claiming

    def _claim(self) -> _Claimed | None:
        """One transaction: the delivery, marked as this worker's, and what its parent's sending gave."""
        now = self.clock()
        token = uuid.uuid4().hex
        query = _POSTGRES_CLAIM if self._postgres else _CLAIM
        with unit_of_work(self.engine) as session:
            for delivery_id in session.exec(query, params={"now": now}).all():
                claimed = session.execute(
                    update(Delivery)
                    .where(col(Delivery.id) == delivery_id, claimable_row(now))
                    .values(
                        state="sending",
                        claim=token,
                        lease_until=case(
                            (col(Delivery.kind) == Kind.TASK.value, now + TASK_LEASE), else_=now + LEASE
                        ),
                        attempts=Delivery.attempts + 1,
                        # A claim after a lapsed lease: the earlier attempt may have reached Slack.
                        unsure=or_(col(Delivery.unsure), col(Delivery.state) == "sending"),
                    )
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process took it
                found = session.get(Delivery, delivery_id)
                assert found is not None
                parent = None
                if found.parent_key is not None:
                    parent = session.exec(
                        select(Delivery).where(
                            Delivery.team_id == found.team_id, Delivery.key == found.parent_key
                        )
                    ).first()
                session.commit()
                if found.parent_key is None:
                    return _Claimed(found)
                if parent is None or parent.state != "done" or not parent.result:
                    return _Claimed(found, parent_unsent=True)
                return _Claimed(found, dict(parent.result))
            session.rollback()
        return None

    # ------------------------------------------------------------ carrying out

    def _process(self, claimed: _Claimed) -> None:
        delivery = claimed.delivery
        try:
            result = self._perform(claimed)
        except Defer as exc:
            self._finish(delivery, "pending", delay=exc.seconds, count=False)
        except Cancel as exc:
            self._finish(delivery, "cancelled", error=str(exc)[:100] or None)
        except Doubt as exc:
            self._finish(delivery, "doubt", error=str(exc)[:100])
        except SlackCallFailed as exc:
            if exc.retry_after is not None:
                channel = delivery.payload.get("channel") if delivery.kind == Kind.POST else None
                self.pacer.block(delivery.team_id, exc.method, exc.retry_after, channel)
                self._finish(delivery, "pending", delay=exc.retry_after, error="ratelimited", count=False)
            elif exc.transient and delivery.attempts < MAX_ATTEMPTS:
                self._finish(
                    delivery,
                    "pending",
                    delay=backoff(delivery.attempts),
                    error=exc.error,
                    unsure=exc.ambiguous and delivery.kind in (Kind.POST, Kind.TELL, Kind.UPLOAD),
                )
            else:
                self._finish(delivery, "failed", error=exc.error)
        except Exception as exc:
            logger.exception("delivery %s (%s) raised", delivery.id, delivery.kind)
            if delivery.attempts < MAX_ATTEMPTS:
                self._finish(delivery, "pending", delay=backoff(delivery.attempts), error="internal")
            else:
                self._finish(delivery, "failed", error=f"bug: {type(exc).__name__}"[:100])
        else:
            self._finish(delivery, "done", result=result)

    def _perform(self, claimed: _Claimed) -> dict[str, Any] | None:
        delivery = claimed.delivery
        kind = Kind(delivery.kind)
        if kind == Kind.TASK:
            self.effects.run_task(delivery)
            return None
        payload = dict(delivery.payload)
        if render := payload.get("render"):
            with unit_of_work(self.engine) as session:
                rendered = self.effects.render(str(render), session, delivery)
            if rendered is None:
                raise Cancel("nothing to show")
            payload.update(rendered)
        if claimed.parent_unsent:
            raise Cancel(f"waited for {delivery.parent_key}, which was not sent")
        parent = claimed.parent
        if parent is not None and payload.get("thread_of_parent"):
            payload["thread_ts"] = parent["ts"]
        if parent is not None and kind == Kind.UPDATE:
            payload["channel"], payload["ts"] = parent["channel"], parent["ts"]
        method = _METHOD.get(kind)
        if method is not None and self.pace:
            channel = payload.get("channel") if kind == Kind.POST else None
            if wait := self.pacer.reserve(delivery.team_id, method, channel):
                raise Defer(wait)
        if kind == Kind.POST:
            return self._post(delivery, payload)
        if kind == Kind.TELL:
            return self._tell(delivery, payload)
        if kind == Kind.EPHEMERAL:
            self.gateway.post_ephemeral(
                channel=payload["channel"],
                user=payload["user"],
                text=payload["text"],
                blocks=payload.get("blocks"),
                thread_ts=payload.get("thread_ts"),
            )
        elif kind == Kind.UPDATE:
            self.gateway.update_message(
                channel=payload["channel"], ts=payload["ts"], text=payload["text"], blocks=payload["blocks"]
            )
        elif kind == Kind.HOME:
            self.gateway.publish_home(user_id=payload["user_id"], view=payload["view"])
        elif kind == Kind.RESPOND:
            self.gateway.respond(
                response_url=payload["response_url"],
                text=payload["text"],
                blocks=payload.get("blocks"),
                replace_original=bool(payload.get("replace_original", True)),
            )
        elif kind == Kind.REACT:
            self.gateway.add_reaction(channel=payload["channel"], ts=payload["ts"], name=payload["name"])
        elif kind == Kind.UPDATE_VIEW:
            self.gateway.update_view(view_id=payload["view_id"], view=payload["view"])
        elif kind == Kind.UPLOAD:
            if delivery.unsure:
                raise Doubt("the upload may not have reached Slack")
            content = payload["content"]
            file_id = self.gateway.upload_file(
                channel=payload["channel"],
                filename=payload["filename"],
                content=bytes.fromhex(content) if payload.get("binary") else content,
                title=payload["title"],
                initial_comment=payload["initial_comment"],
            )
            return {"file_id": file_id}
        return None

    def _post(self, delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any]:
        marker = f"{delivery.team_id}:{delivery.id}"
        thread_ts = payload.get("thread_ts")
        if delivery.unsure:
            channel = self._conversation(delivery.team_id, payload["channel"])
            oldest = f"{delivery.created_at.timestamp() - 60:.6f}"
            found = self.gateway.find_marked(
                channel=channel, thread_ts=thread_ts, marker=marker, oldest=oldest
            )
            if found is not None:
                return {"channel": channel, "ts": found}
        posted = self.gateway.post_message(
            channel=payload["channel"],
            text=payload["text"],
            blocks=payload.get("blocks"),
            thread_ts=thread_ts,
            marker=marker,
        )
        # A DM's channel is recorded with the outcome (_finish), in the same transaction.
        return {"channel": posted.channel, "ts": posted.ts}

    def _tell(self, delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any] | None:
        if payload.get("channel") and not delivery.unsure:
            try:
                self.gateway.post_ephemeral(
                    channel=payload["channel"], user=payload["user"], text=payload["text"]
                )
                return None
            except SlackCallFailed as exc:
                if exc.transient:
                    raise
        return self._post(delivery, {"channel": payload["user"], "text": payload["text"]})

    def _conversation(self, team_id: str, channel: str) -> str:
        """The DM channel behind a user id, for reading its history."""
        if not channel.startswith(("U", "W")):
            return channel
        with unit_of_work(self.engine) as session:
            cached = session.get(SlackUserCache, (team_id, channel))
            if cached is not None and cached.dm_channel:
                return cached.dm_channel
        opened = self.gateway.open_dm(user=channel)
        with unit_of_work(self.engine) as session:
            self._remember_dm(session, team_id, channel, opened)
            session.commit()
        return opened

    def _remember_dm(self, session: Session, team_id: str, user_id: str, dm_channel: str) -> None:
        """One statement: a person not in the cache yet is added with only the DM known (fetched long ago,
        so their name and time zone are still looked up)."""
        table = SlackUserCache.__table__  # type: ignore[attr-defined]
        insert = (postgresql.insert if self._postgres else sqlite.insert)(table)
        session.execute(
            insert.values(
                team_id=team_id,
                user_id=user_id,
                name="",
                is_bot=False,
                deleted=False,
                dm_channel=dm_channel,
                fetched_at=_LONG_AGO,
            ).on_conflict_do_update(
                index_elements=["team_id", "user_id"],
                set_={"dm_channel": dm_channel},
                where=or_(table.c.dm_channel.is_(None), table.c.dm_channel != dm_channel),
            )
        )

    # ------------------------------------------------------------ recording the outcome

    def _finish(
        self,
        delivery: Delivery,
        state: str,
        *,
        delay: float = 0.0,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        count: bool = True,
        unsure: bool = False,
    ) -> None:
        if self._halted.is_set():
            return  # "killed": the outcome is lost, as it would be
        now = self.clock()
        with unit_of_work(self.engine) as session:
            values: dict[str, Any] = {"state": state, "claim": None, "lease_until": None}
            if state == "pending":
                values["next_attempt_at"] = now + timedelta(seconds=delay)
                values["unsure"] = delivery.unsure or unsure
                if not count:
                    values["attempts"] = Delivery.attempts - 1
                if error:
                    values["last_error"] = error
            else:
                values.update(finished_at=now, last_error=error, result=result, unsure=False)
            mine = (
                col(Delivery.id) == delivery.id,
                col(Delivery.claim) == delivery.claim,
                col(Delivery.generation) == delivery.generation,
            )
            if state != "pending" and delivery.payload.get("forget"):
                # Not kept once settled: what it said, to whom and when (an answer to an anonymous author).
                updated = session.execute(delete(Delivery).where(*mine))
            else:
                updated = session.execute(update(Delivery).where(*mine).values(**values))
            if updated.rowcount != 1:  # type: ignore[attr-defined]
                # Asked for again while it was being sent (a Home tab, a progress note): once more.
                session.execute(
                    update(Delivery)
                    .where(col(Delivery.id) == delivery.id, col(Delivery.claim) == delivery.claim)
                    .values(state="pending", claim=None, lease_until=None, next_attempt_at=now)
                )
                session.commit()
                self.wake()
                return
            if state == "done":
                sent_to = str(delivery.payload.get("channel") or delivery.payload.get("user") or "")
                if result and result.get("channel") and sent_to.startswith(("U", "W")):
                    self._remember_dm(session, delivery.team_id, sent_to, str(result["channel"]))
                self.effects.sent(session, delivery, result or {})
            elif state in ("failed", "doubt"):
                logger.warning(
                    "delivery %s (%s, %s) %s: %s", delivery.id, delivery.kind, delivery.key, state, error
                )
                self.effects.failed(session, delivery, error or state)
            elif state == "cancelled":
                self.effects.cancelled(session, delivery)
            session.commit()
        if state != "pending" or delay <= 0:
            self.wake()


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
            .where(col(o.state).in_(_OPEN), col(o.lane).is_not(None))
            .group_by(col(o.team_id), col(o.lane))
        )
        open_keys = select(col(o.team_id), col(o.key)).where(col(o.state).in_(_OPEN))
        first_in_lane = or_(col(d.lane).is_(None), tuple_(col(d.team_id), col(d.lane), col(d.id)).in_(heads))
        parent_settled = or_(
            col(d.parent_key).is_(None), tuple_(col(d.team_id), col(d.parent_key)).not_in(open_keys)
        )
    else:
        first_in_lane = ~exists().where(
            col(o.team_id) == col(d.team_id),
            col(o.lane) == col(d.lane),
            col(o.id) < col(d.id),
            col(o.state).in_(_OPEN),
        )
        parent_settled = ~exists().where(
            col(o.team_id) == col(d.team_id), col(o.key) == col(d.parent_key), col(o.state).in_(_OPEN)
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


def backoff(attempts: int) -> float:
    """1, 2, 4... seconds, at most five minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


DeliveryHook = Callable[[Session, Delivery, dict[str, Any]], None]


_CLAIM = _claim_query(postgres=False)
_POSTGRES_CLAIM = _claim_query(postgres=True)
