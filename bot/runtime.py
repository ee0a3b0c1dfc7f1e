"""One running Rearview: database, Slack client, Bolt app, scheduler and the front door."""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine

from bot import jobs
from bot.app import build_app, make_wsgi_app
from bot.clock import Clock, utc_now
from bot.config import ConfigError, Settings
from bot.gateway import Sleep, WebApiGateway, make_web_client
from bot.scheduler import ApsJobs, build_scheduler
from bot.services import Services
from storage.db import make_engine, upgrade

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    app: App
    scheduler: BackgroundScheduler
    services: Services

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        listener_executor: Executor | None = None,
        paused: bool = False,
    ) -> Runtime:
        """Everything `rearview run` starts, in its order. The keywords exist for the tests, which run this
        same code with their clock, recorded sleeps, a fixed round-robin order and a scheduler that fires
        jobs only when the test's clock says so (`paused`)."""
        client = make_web_client(token=settings.bot_token, base_url=settings.slack_api_url, sleep=sleep)
        verify_token(client, settings.slack_api_url)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        scheduler = build_scheduler(engine)
        services = Services.build(
            engine=engine,
            gateway=WebApiGateway(client),
            clock=clock,
            jobs=ApsJobs(scheduler),
            secret=settings.secret,
            rng=rng,
        )
        if settings.secret is None:
            logger.warning(
                "REARVIEW_SECRET is not set: anonymous authors' keyed hashes use a key stored in the database. "
                "Set REARVIEW_SECRET to keep the key apart from the data."
            )
        jobs.bind(services)
        # Socket Mode payloads are not signed; Bolt skips verification for them.
        app = build_app(
            client=client,
            signing_secret=settings.signing_secret or "",
            services=services,
            listener_executor=listener_executor,
        )
        # Started last: jobs missed while the bot was down run now, and they need the bound services.
        scheduler.start(paused=paused)
        return cls(settings=settings, engine=engine, app=app, scheduler=scheduler, services=services)

    def wsgi_app(self) -> WSGIApplication:
        return make_wsgi_app(self.app, self.engine)

    def stop(self) -> None:
        """What a clean exit does; a crash skips it, and the next start resumes from the database."""
        self.scheduler.shutdown(wait=True)
        jobs.unbind()
        self.engine.dispose()

    def serve_forever(self) -> None:
        try:
            if self.settings.socket_mode:
                assert self.settings.app_token is not None
                logger.info("Rearview is connecting to Slack in Socket Mode")
                try:
                    SocketModeHandler(self.app, self.settings.app_token).start()  # type: ignore[no-untyped-call]
                except SlackApiError as exc:
                    raise ConfigError(
                        f"SLACK_APP_TOKEN: Slack refused the app-level token ({exc.response.get('error')}); "
                        "create one with the connections:write scope under Basic Information > App-Level Tokens"
                    ) from None
            else:
                from waitress import serve

                logger.info(
                    "Rearview serves Slack at http://%s:%s/slack/events",
                    self.settings.host,
                    self.settings.port,
                )
                serve(
                    self.wsgi_app(),
                    host=self.settings.host,
                    port=self.settings.port,
                    threads=8,
                )
        finally:
            self.scheduler.shutdown(wait=False)
            self.engine.dispose()


def verify_token(client: WebClient, api_url: str) -> None:
    """Fail fast, in one line, when Slack refuses the token or cannot be reached."""
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({exc.response.get('error')}); "
            "copy the Bot User OAuth Token again from OAuth & Permissions"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise ConfigError(f"SLACK_API_URL: cannot reach Slack at {api_url} ({exc})") from None
