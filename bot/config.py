"""Settings, read once from the environment by the entry point."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///rearview.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A variable is missing or malformed; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Settings:
    bot_token: str
    app_token: str | None
    signing_secret: str | None
    database_url: str
    slack_api_url: str
    host: str
    port: int
    log_level: str
    secret: str | None = None
    workers: int = 8  # delivery workers: Slack calls, in parallel, off the request threads
    ack_threads: int = 16  # Bolt's listener pool: they only read, write and ack

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, need_slack: bool = True) -> Settings:
        """Validate every variable; `need_slack=False` is for commands that only touch the database."""

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        bot_token = get("SLACK_BOT_TOKEN")
        app_token = get("SLACK_APP_TOKEN")
        signing_secret = get("SLACK_SIGNING_SECRET")
        if need_slack:
            _check_bot_token(bot_token)
            if app_token is not None and not app_token.startswith("xapp-"):
                raise ConfigError(
                    "SLACK_APP_TOKEN must be an app-level token starting with xapp-: create one with the "
                    "connections:write scope under Basic Information > App-Level Tokens, or leave it "
                    "empty to use HTTP mode"
                )
            if app_token is None and signing_secret is None:
                raise ConfigError(
                    "SLACK_SIGNING_SECRET is not set: HTTP mode needs it (Basic Information > App "
                    "Credentials > Signing Secret), or set SLACK_APP_TOKEN to use Socket Mode"
                )
        return cls(
            bot_token=bot_token or "",
            app_token=app_token,
            signing_secret=signing_secret,
            database_url=normalize_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            slack_api_url=_api_url(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            host=get("HOST") or "0.0.0.0",  # noqa: S104 - a server is meant to listen on all interfaces
            port=_port(get("PORT") or "3000"),
            log_level=_log_level(get("LOG_LEVEL") or "INFO"),
            secret=_secret(get("REARVIEW_SECRET")),
            workers=_count("REARVIEW_WORKERS", get("REARVIEW_WORKERS") or "8"),
            ack_threads=_count("REARVIEW_ACK_THREADS", get("REARVIEW_ACK_THREADS") or "16"),
        )


def _check_bot_token(token: str | None) -> None:
    if token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
            "OAuth & Permissions page into .env"
        )
    if not token.startswith("xoxb-"):
        kind = {"xoxp-": "a user token", "xapp-": "an app-level token"}.get(token[:5], "not a bot token")
        raise ConfigError(
            f"SLACK_BOT_TOKEN is {kind}: use the Bot User OAuth Token starting with xoxb- "
            "from OAuth & Permissions"
        )


def normalize_database_url(url: str) -> str:
    """Accept sqlite and PostgreSQL URLs; PostgreSQL always goes through psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL ({url!r}): use sqlite:///rearview.db or "
            "postgresql://user:password@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ConfigError(
        f"DATABASE_URL uses {backend!r}, which Rearview does not support: use sqlite:///... or postgresql://..."
    )


def _api_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_SLACK_API_URL}, not {url!r}"
        )
    # WebClient joins method names onto the base URL, so it must end with a slash.
    return url if url.endswith("/") else url + "/"


def _count(name: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise ConfigError(f"{name} must be a number between 1 and 64, not {value!r}")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a number between 1 and 65535, not {value!r}")
    return int(value)


def _secret(value: str | None) -> str | None:
    if value is not None and len(value) < 32:
        raise ConfigError(
            "REARVIEW_SECRET must be at least 32 characters: generate one with "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return value


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {value!r}")
    return level


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Migration chatter on every start is noise; warnings still show.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # At DEBUG these log whole request bodies, which would tie anonymous DMs to their senders. The cap is
    # the first guard; the second holds at any level: bot.app.withhold_bodies puts NO_BODIES on Bolt's and
    # slack_sdk's loggers, which cuts bodies out of their messages (Bolt logs some at INFO), and
    # bot.front_door refuses unsigned requests before Bolt sees them.
    for name in ("slack_bolt", "slack_sdk", "rearview.bolt"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
