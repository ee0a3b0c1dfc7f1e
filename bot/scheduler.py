"""APScheduler 3.11 in the bot's process, its jobs persisted in the project's database."""

from __future__ import annotations

import contextlib
import logging
import pickle
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any, Protocol

from apscheduler.job import Job as StoredJob
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Engine, inspect, text

from bot import jobs
from bot.jobs import Job

logger = logging.getLogger(__name__)

# A job missed while the bot was down still runs once when it comes back, within this window.
MISFIRE_GRACE_SECONDS = 7 * 24 * 3600
JOB_TABLE = "apscheduler_jobs"


class BatchingJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store, which commits once per job added, able to write many jobs in one
    transaction: inside `batch()` this thread's added jobs are kept and written together when it ends (a
    DELETE of their ids and one multi-row INSERT, with the very state APScheduler would pickle)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._batching = threading.local()

    @contextmanager
    def batch(self) -> Iterator[None]:
        if getattr(self._batching, "rows", None) is not None:
            yield  # already batching: the outer one writes
            return
        rows: dict[str, dict[str, Any]] = {}
        self._batching.rows = rows
        try:
            yield
        finally:
            self._batching.rows = None
        if rows:
            table = self.jobs_t
            with self.engine.begin() as connection:
                connection.execute(table.delete().where(table.c.id.in_(list(rows))))
                connection.execute(table.insert(), list(rows.values()))

    def add_job(self, job: StoredJob) -> None:
        rows = getattr(self._batching, "rows", None)
        if rows is None:
            super().add_job(job)
            return
        # Replaces a job of the same id, as add_job(replace_existing=True) does.
        rows[job.id] = {
            "id": job.id,
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol),
        }

    def remove_jobs(self, job_ids: Sequence[str]) -> None:
        """Delete these jobs in one statement; ids that are not there are ignored."""
        if job_ids:
            with self.engine.begin() as connection:
                connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(list(job_ids))))


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": BatchingJobStore(engine=engine, tablename=JOB_TABLE)},
        timezone=UTC,
        job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )


class Jobs(Protocol):
    """What services need from a scheduler: add a job, cancel jobs by their exact ids."""

    def schedule(self, job: Job) -> None: ...

    def schedule_all(self, jobs: Sequence[Job]) -> None: ...

    def cancel(self, job_ids: Iterable[str]) -> None: ...

    def existing(self) -> set[str]: ...


class ApsJobs:
    """Jobs on APScheduler: exact ids, replace_existing, and the one stored reference `bot.jobs:due`."""

    def __init__(self, scheduler: BackgroundScheduler, engine: Engine) -> None:
        self.scheduler = scheduler
        self.engine = engine

    def schedule(self, job: Job) -> None:
        self.scheduler.add_job(
            jobs.due,
            trigger="date",
            run_date=job.run_at,
            id=job.id,
            replace_existing=True,
            kwargs={
                "kind": str(job.kind),
                "team_id": job.team_id,
                "job": job.id,
                "run_at": job.run_at.isoformat(),
                "args": job.args,
            },
        )

    def schedule_all(self, found: Sequence[Job]) -> None:
        """Many jobs in one transaction of the job store (a launch's nudges, the start-up reconciler's)."""
        store = self._store()
        if store is None or len(found) < 2:
            for job in found:
                self.schedule(job)
            return
        with store.batch():
            for job in found:
                self.schedule(job)
        if self.scheduler.running:
            self.scheduler.wakeup()  # it looked at the table before the batch was written

    def cancel(self, job_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(job_ids))
        store = self._store()
        if store is not None and self.scheduler.running:
            # One DELETE for them all: nothing is read back or unpickled.
            store.remove_jobs(ids)
            return
        for job_id in ids:
            with contextlib.suppress(JobLookupError):  # it ran, or was never there
                self.scheduler.remove_job(job_id)

    def _store(self) -> BatchingJobStore | None:
        """The job store, if it writes in batches and the scheduler has started (before, APScheduler keeps
        added jobs in memory until it starts)."""
        if not self.scheduler.running:
            return None
        store = self.scheduler._lookup_jobstore("default")
        return store if isinstance(store, BatchingJobStore) else None

    def existing(self) -> set[str]:
        """Ids of the stored jobs, read without unpickling them (for the start-up reconciler)."""
        if not inspect(self.engine).has_table(JOB_TABLE):
            return set()
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(text(f"SELECT id FROM {JOB_TABLE}"))}  # noqa: S608
