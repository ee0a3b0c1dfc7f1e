"""APScheduler 3.11 in the bot's process, its jobs persisted in the project's database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect, text

from bot import jobs
from bot.jobs import Job

logger = logging.getLogger(__name__)

# A job missed while the bot was down still runs once when it comes back, within this window.
MISFIRE_GRACE_SECONDS = 7 * 24 * 3600
JOB_TABLE = "apscheduler_jobs"


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        timezone=UTC,
        job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )


class Jobs(Protocol):
    """What services need from a scheduler: add a job, cancel jobs by their exact ids."""

    def schedule(self, job: Job) -> None: ...

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

    def cancel(self, job_ids: Iterable[str]) -> None:
        # One DELETE by primary key each: nothing is read back or unpickled.
        for job_id in job_ids:
            with contextlib.suppress(JobLookupError):  # it ran, or was never there
                self.scheduler.remove_job(job_id)

    def existing(self) -> set[str]:
        """Ids of the stored jobs, read without unpickling them (for the start-up reconciler)."""
        if not inspect(self.engine).has_table(JOB_TABLE):
            return set()
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(text(f"SELECT id FROM {JOB_TABLE}"))}  # noqa: S608
