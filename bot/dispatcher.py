"""The dispatcher: worker threads that claim due deliveries from the outbox, carry them out (bot/delivering.py)
and record how that went.

- Claiming: the oldest due delivery of each lane whose parent is settled, by priority, up to eight at a
  time (a task alone), in one statement. On PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite by a
  conditional UPDATE; either way a claimed delivery carries a lease, and one whose process died is
  claimed again when the lease runs out. The SQL is in storage/deliveries.py.
- Recording: a worker sends what it claimed in turn, then records the outcomes and what follows from them
  (bot/tasks.py, Effects) in one transaction.
- Pacing: Slack's budgets per workspace, method and channel (bot/pacing.py); a 429 reschedules the
  delivery by its Retry-After. No thread ever sleeps on Slack.
- Doubt: after a 5xx or a lost connection, or when a lease ran out mid-send, Slack may have posted
  (see bot/delivering.py for how a post is checked).
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.delivering import Cancel, Claimed, Defer, Doubt, Sender
from bot.gateway import SlackCallFailed, SlackGateway
from bot.intents import Kind
from bot.pacing import Pacer
from storage import deliveries
from storage import people as user_cache
from storage.db import unit_of_work
from storage.models import Delivery

if TYPE_CHECKING:
    from bot.tasks import Effects

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
TASK_LEASE = timedelta(minutes=5)
POLL_SECONDS = 1.0  # how often an idle worker looks for work that other processes (or time) made due


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
        self.sender = Sender(engine=engine, gateway=gateway, effects=effects, pacer=self.pacer, pace=pace)
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
                claimed = []
            if claimed:
                with self._cond:
                    self._cond.notify()  # there may be more
                try:
                    self._process_all(claimed)
                except Exception:
                    logger.exception("deliveries %s failed unexpectedly", [c.delivery.id for c in claimed])
            with self._cond:
                self._busy -= 1
                self._idle.notify_all()
                if claimed:
                    # What it finished may free others (the next in its lane, replies waiting on it): this
                    # worker looks again and brings one more, who brings one more when it finishes.
                    self._wakes += 1
                    self._cond.notify()
                else:
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
        while done < limit and (claimed := self._claim()):
            self._process_all(claimed)
            done += len(claimed)
        return done

    def next_due(self) -> datetime | None:
        """When the earliest delivery that is waiting on time becomes due: a retry, a rate limit, or the lease
        of one a killed process was sending. Deliveries held back by their lane or parent do not count."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retry = deliveries.earliest_retry(session, now=now)
            lease = deliveries.earliest_lease_end(session, now=now)
        return min((t for t in (retry, lease) if t is not None), default=None)

    # ------------------------------------------------------------ claiming

    def _claim(self) -> list[Claimed]:
        """One transaction: up to CLAIM_LIMIT due deliveries (each the head of its own lane), marked as this
        worker's, and what their parents' sending gave. A task is claimed alone: it may run for minutes,
        and what waits behind it in a claim would outlive its lease."""
        now = self.clock()
        token = uuid.uuid4().hex
        with unit_of_work(self.engine) as session:
            due = deliveries.due(session, now=now)
            tasks = [i for i, kind in due if kind == Kind.TASK]
            if due and due[0][1] == Kind.TASK:
                wanted = [due[0][0]]
            else:
                wanted = [i for i, kind in due if kind != Kind.TASK] or tasks[:1]
            if not wanted:
                session.rollback()
                return []
            taken = deliveries.take_many(
                session,
                delivery_ids=wanted,
                now=now,
                token=token,
                lease_until=now + LEASE,
                task_kind=Kind.TASK.value,
                task_lease_until=now + TASK_LEASE,
            )  # fewer than wanted: another process took some first
            parents = deliveries.by_keys(
                session, {(d.team_id, d.parent_key) for d in taken if d.parent_key is not None}
            )
            session.commit()
        order = {delivery_id: n for n, delivery_id in enumerate(wanted)}
        claimed = []
        for found in sorted(taken, key=lambda d: order[d.id]):
            if found.parent_key is None:
                claimed.append(Claimed(found))
                continue
            parent = parents.get((found.team_id, found.parent_key))
            if parent is None or parent.state != "done" or not parent.result:
                claimed.append(Claimed(found, parent_unsent=True))
            else:
                claimed.append(Claimed(found, dict(parent.result)))
        return claimed

    # ------------------------------------------------------------ carrying out

    def _process_all(self, claimed: list[Claimed]) -> None:
        """Carry out each claimed delivery in turn, then record all their outcomes in one transaction (a
        crash in between loses the outcomes, not a message: their leases run out and a post in doubt is
        looked for before it is sent again). What is not started while its lease has at least half to
        run is given back untried."""
        outcomes: list[Outcome] = []
        started_by = self.clock() + LEASE / 2
        for n, one in enumerate(claimed):
            if n and self.clock() >= started_by:
                outcomes += [Outcome(c.delivery, "pending", count=False) for c in claimed[n:]]
                break
            outcomes.append(self._process(one))
            if self._halted.is_set():
                return
        self._record(outcomes)

    def _process(self, claimed: Claimed) -> Outcome:
        delivery = claimed.delivery
        try:
            result = self.sender.perform(claimed)
        except Defer as exc:
            return Outcome(delivery, "pending", delay=exc.seconds, count=False)
        except Cancel as exc:
            return Outcome(delivery, "cancelled", error=str(exc)[:100] or None)
        except Doubt as exc:
            return Outcome(delivery, "doubt", error=str(exc)[:100])
        except SlackCallFailed as exc:
            if exc.retry_after is not None:
                channel = delivery.payload.get("channel") if delivery.kind == Kind.POST else None
                self.pacer.block(delivery.team_id, exc.method, exc.retry_after, channel)
                return Outcome(delivery, "pending", delay=exc.retry_after, error="ratelimited", count=False)
            if exc.transient and delivery.attempts < MAX_ATTEMPTS:
                return Outcome(
                    delivery,
                    "pending",
                    delay=backoff(delivery.attempts),
                    error=exc.error,
                    unsure=exc.ambiguous and delivery.kind in (Kind.POST, Kind.TELL, Kind.UPLOAD),
                )
            return Outcome(delivery, "failed", error=exc.error)
        except Exception as exc:
            logger.exception("delivery %s (%s) raised", delivery.id, delivery.kind)
            if delivery.attempts < MAX_ATTEMPTS:
                return Outcome(delivery, "pending", delay=backoff(delivery.attempts), error="internal")
            return Outcome(delivery, "failed", error=f"bug: {type(exc).__name__}"[:100])
        return Outcome(delivery, "done", result=result)

    # ------------------------------------------------------------ recording the outcome

    def _record(self, outcomes: list[Outcome]) -> None:
        """The outcomes of one claim and what follows from them, in one transaction: a statement per kind
        of change for the deliveries, one for the DM channels learnt, and the domain's records batched
        (bot/tasks.py, Effects.recording)."""
        if self._halted.is_set() or not outcomes:
            return  # "killed": the outcome is lost, as it would be
        now = self.clock()
        with unit_of_work(self.engine) as session:
            changed = deliveries.record_many(session, outcomes=[o.row(now) for o in outcomes], now=now)
            again = [o for o in outcomes if o.delivery.id not in changed]
            for outcome in again:
                # Asked for again while it was being sent (a Home tab, a progress note): once more.
                delivery = outcome.delivery
                deliveries.send_again(session, delivery_id=delivery.id, claim=delivery.claim, now=now)
            dms: dict[tuple[str, str], str] = {}
            with self.effects.recording(session):
                for outcome in outcomes:
                    if outcome.delivery.id not in changed:
                        continue
                    delivery, state, result = outcome.delivery, outcome.state, outcome.result
                    if state == "done":
                        sent_to = str(delivery.payload.get("channel") or delivery.payload.get("user") or "")
                        if result and result.get("channel") and sent_to.startswith(("U", "W")):
                            dms[(delivery.team_id, sent_to)] = str(result["channel"])
                        self.effects.sent(session, delivery, result or {})
                    elif state in ("failed", "doubt"):
                        logger.warning(
                            "delivery %s (%s, %s) %s: %s",
                            delivery.id,
                            delivery.kind,
                            delivery.key,
                            state,
                            outcome.error,
                        )
                        self.effects.failed(session, delivery, outcome.error or state)
                    elif state == "cancelled":
                        self.effects.cancelled(session, delivery)
                user_cache.remember_dms(session, dms)
            session.commit()
        if again or any(o.state != "pending" or o.delay <= 0 for o in outcomes):
            self.wake()


@dataclass
class Outcome:
    """How carrying out one claimed delivery went: "pending" (again after `delay`; `count`: the attempt
    counts), "done", "failed", "doubt" or "cancelled"."""

    delivery: Delivery
    state: str
    delay: float = 0.0
    error: str | None = None
    result: dict[str, Any] | None = None
    count: bool = True
    unsure: bool = False

    def row(self, now: datetime) -> dict[str, Any]:
        """What storage.deliveries.record_many writes."""
        delivery = self.delivery
        return {
            "id": delivery.id,
            "claim": delivery.claim,
            "generation": delivery.generation,
            "state": self.state,
            "error": self.error,
            "result": self.result,
            "next_attempt_at": now + timedelta(seconds=self.delay),
            "unsure": delivery.unsure or self.unsure,
            "uncount": 0 if self.count else 1,
            # Not kept once settled: what it said, to whom and when (an answer to an anonymous author).
            "forget": bool(delivery.payload.get("forget")),
        }


def backoff(attempts: int) -> float:
    """1, 2, 4... seconds, at most five minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


DeliveryHook = Callable[[Session, Delivery, dict[str, Any]], None]
