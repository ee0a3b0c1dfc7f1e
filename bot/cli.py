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
    report = sub.add_parser("report", help="print a retro's retrospective.md (or write it with -o)")
    report.add_argument("retro_id", type=int, help="the retro's number (shown by /retro history)")
    report.add_argument("-o", "--output", help="write to this file instead of standard output")
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
        if args.command == "report":
            return _report(Settings.from_env(os.environ, need_slack=False), args.retro_id, args.output)
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


def _report(settings: Settings, retro_id: int, output: str | None) -> int:
    from bot.services.reports import build_report
    from storage.db import make_engine, unit_of_work, unmigrated
    from storage.models import Retro

    why = unmigrated(settings.database_url)
    if why is not None:
        print(
            f"rearview: DATABASE_URL: the database is not ready ({why}); run `rearview migrate` first",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            # An operator's tool: the id names the retro; its workspace scopes everything read after.
            retro = session.get(Retro, retro_id)
            if retro is None:
                print(f"rearview: there is no retro {retro_id}; /retro history lists them", file=sys.stderr)
                return 2
            text = build_report(session, retro)
    finally:
        engine.dispose()
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"rearview: cannot write {output}: {exc.strerror}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return 0


def _run(settings: Settings) -> int:
    from bot.runtime import Runtime, check_port

    if not settings.socket_mode:
        check_port(settings.host, settings.port)  # before anything starts, so that its line is the only one
    configure_logging(settings.log_level)
    Runtime.start(settings).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
