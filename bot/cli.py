"""The `rearview` command: run the bot, apply migrations."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from dotenv import load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, configure_logging

logger = logging.getLogger("rearview")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rearview",
        description="Rearview: asynchronous release and sprint retrospectives in Slack. "
        "Configuration comes from the environment and from .env in the working directory.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run", help="apply migrations and start the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )
    sub.add_parser("migrate", help="apply database migrations and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    load_dotenv(os.path.join(os.getcwd(), ".env"))
    try:
        if args.command == "migrate":
            return _migrate(Settings.from_env(os.environ, need_slack=False))
        return _run(Settings.from_env(os.environ))
    except ConfigError as exc:
        print(f"rearview: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"rearview: DATABASE_URL: cannot use the database ({reason}); check the URL and that the server is up",
            file=sys.stderr,
        )
        return 2


def _migrate(settings: Settings) -> int:
    from storage.db import upgrade

    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    print("rearview: database is up to date")
    return 0


def _run(settings: Settings) -> int:
    from bot.runtime import Runtime

    configure_logging(settings.log_level)
    Runtime.start(settings).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
