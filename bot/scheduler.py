"""APScheduler 3.11 in the bot's process, its jobs persisted in the project's database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

logger = logging.getLogger(__name__)

# A job missed while the bot was down still runs once when it comes back, within this window.
MISFIRE_GRACE_SECONDS = 7 * 24 * 3600


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        timezone=UTC,
        job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )


class Jobs(Protocol):
    """What services need from a scheduler."""

    def at(
        self, *, job_id: str, func: Callable[..., None], run_at: datetime, kwargs: dict[str, Any]
    ) -> None: ...

    def cancel(self, *, prefix: str) -> None: ...


class ApsJobs:
    """Jobs on APScheduler: explicit ids, replace_existing, arguments that are plain ids."""

    def __init__(self, scheduler: BackgroundScheduler) -> None:
        self.scheduler = scheduler

    def at(self, *, job_id: str, func: Callable[..., None], run_at: datetime, kwargs: dict[str, Any]) -> None:
        self.scheduler.add_job(
            func, trigger="date", run_date=run_at, id=job_id, replace_existing=True, kwargs=kwargs
        )

    def cancel(self, *, prefix: str) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith(prefix):
                with contextlib.suppress(JobLookupError):  # it ran or was removed meanwhile
                    self.scheduler.remove_job(job.id)


def retro_job_prefix(team_id: str, retro_id: int | None) -> str:
    """Every job of one retro (deadline, nudges, turns, voting) starts with this, so they cancel together."""
    return f"retro:{team_id}:{retro_id}:"
