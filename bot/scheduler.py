"""APScheduler 3.11 in the bot's process, its jobs persisted in the project's database."""

from __future__ import annotations

from datetime import UTC

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

# A job missed while the bot was down still runs once when it comes back, within this window.
MISFIRE_GRACE_SECONDS = 7 * 24 * 3600


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        timezone=UTC,
        job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )
