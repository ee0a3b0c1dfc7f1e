"""The `rearview` command: run the bot, apply migrations, print a report, export a retro, manage tokens."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from dotenv import load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, configure_logging

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.models import Retro

T = TypeVar("T")
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,31}")
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
    export = sub.add_parser(
        "export", help="write a retro's items, votes, comments and action items as CSV files or one JSON file"
    )
    export.add_argument("retro_id", type=int, help="the retro's number (shown by /retro history)")
    export.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="csv (default): one file per table"
    )
    export.add_argument("-o", "--output", default=".", help="the folder to write into (default: here)")
    token = sub.add_parser("token", help="manage the bearer tokens of POST /api/releases (release triggers)")
    tokens = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = tokens.add_parser("create", help="make a token for one channel and print it (shown once)")
    create.add_argument("--channel", required=True, help="the channel's id (C…) whose retros releases plan")
    create.add_argument("--team", help="the workspace's id (T…); needed only if the database knows several")
    create.add_argument("--name", default="ci", help="a name to tell tokens apart (default: ci)")
    listing = tokens.add_parser("list", help="list the tokens (never the tokens themselves)")
    listing.add_argument("--team", help="only this workspace's")
    revoke = tokens.add_parser("revoke", help="revoke a token: posts with it are refused from now on")
    revoke.add_argument("token_id", type=int, help="the token's id, as `rearview token list` shows it")
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
        if args.command == "token":
            return _token(Settings.from_env(os.environ, need_slack=False), args)
        if args.command == "export":
            return _export(
                Settings.from_env(os.environ, need_slack=False), args.retro_id, args.format, args.output
            )
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

    read = _read_retro(settings, retro_id, build_report)
    if isinstance(read, int):
        return read
    if output:
        return _write(output, read)
    sys.stdout.write(read)
    return 0


def _export(settings: Settings, retro_id: int, fmt: str, folder: str) -> int:
    from bot.services.exports import export_files

    if not os.path.isdir(folder):
        print(f"rearview: {folder} is not a folder; give an existing one with -o", file=sys.stderr)
        return 2
    files = _read_retro(settings, retro_id, lambda session, retro: export_files(session, retro, fmt))
    if isinstance(files, int):
        return files
    for name, content in files:
        path = os.path.join(folder, name)
        if _write(path, content, newline=""):
            return 2
        print(path)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import utc_now
    from bot.services.releases import create_token
    from storage import plans as plan_queries
    from storage.db import make_engine, unit_of_work, unmigrated
    from storage.models import ApiToken

    def fail(message: str) -> int:
        print(f"rearview: {message}", file=sys.stderr)
        return 2

    why = unmigrated(settings.database_url)
    if why is not None:
        return fail(f"DATABASE_URL: the database is not ready ({why}); run `rearview migrate` first")
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            if args.action == "create":
                if not _SLACK_ID.fullmatch(args.channel) or args.channel[0] not in "CG":
                    return fail(
                        f"--channel: {args.channel!r} is not a channel id; copy it from the channel's details (C…)"
                    )
                if not 1 <= len(args.name) <= 100 or not args.name.isprintable() or not args.name.strip():
                    return fail("--name: give a name of 1 to 100 printable characters, such as ci")
                team = args.team
                if team is None:
                    known = plan_queries.workspaces(session)
                    if len(known) != 1:
                        return fail(
                            "--team: the database knows "
                            + (f"several workspaces ({', '.join(known)})" if known else "no workspace yet")
                            + "; name the channel's with --team T…"
                        )
                    team = known[0]
                    print(
                        f"rearview: for workspace {team}, the only one this database knows", file=sys.stderr
                    )
                elif not _SLACK_ID.fullmatch(team) or team[0] not in "TE":
                    return fail(f"--team: {team!r} is not a workspace id (T…)")
                row, token = create_token(
                    session, team_id=team, channel_id=args.channel, name=args.name, now=utc_now()
                )
                session.commit()
                print(token)
                print(
                    f"rearview: token {row.id} ({row.name}) posts releases to channel {row.channel_id}; "
                    "it is shown only now: keep it as a secret (e.g. REARVIEW_TOKEN)",
                    file=sys.stderr,
                )
                return 0
            if args.action == "list":
                print("id\tname\tteam\tchannel\tcreated\tlast used\trevoked\thint")
                for row in plan_queries.tokens(session, team_id=args.team):
                    print(
                        "\t".join(
                            [
                                str(row.id),
                                row.name,
                                row.team_id,
                                row.channel_id,
                                f"{row.created_at:%Y-%m-%d %H:%M}",
                                f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never",
                                f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "no",
                                f"…{row.hint}",
                            ]
                        )
                    )
                return 0
            found = session.get(ApiToken, args.token_id) if 0 < args.token_id < 2**31 else None
            if found is None:
                return fail(f"there is no token {args.token_id}; `rearview token list` shows them")
            if found.revoked_at is None:
                found.revoked_at = utc_now()
                session.add(found)
                session.commit()
            print(f"rearview: token {found.id} ({found.name}) is revoked", file=sys.stderr)
            return 0
    finally:
        engine.dispose()


def _read_retro(settings: Settings, retro_id: int, read: Callable[[Session, Retro], T]) -> T | int:
    """What `read` makes of one retro, or the exit code (2) after a one-line error."""
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
            return read(session, retro)
    finally:
        engine.dispose()


def _write(path: str, text: str, newline: str | None = None) -> int:
    try:
        with open(path, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
    except OSError as exc:
        print(f"rearview: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def _run(settings: Settings) -> int:
    from bot.runtime import Runtime, check_port

    # Before anything starts, so that its line is the only one. Socket Mode serves /healthz and
    # /api/releases there too.
    check_port(settings.host, settings.port)
    configure_logging(settings.log_level)
    Runtime.start(settings).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
