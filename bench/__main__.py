"""`python -m bench [NAME ...] [--quick] [--markdown]`: run the benchmarks (all of them without a NAME) and
print one table: figure, Rearview's median and min–max, the baseline's median, the ratio (or the growth
factor per x10 of the data), the goal and whether it is met. `--markdown` prints the table as Markdown
(README "Performance"); `--quick` runs fewer rounds and smaller sizes. `fanout` keeps its own options."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

from bench.table import Row, render

NAMES = ["ack", "status", "report", "home", "rss", "cli", "restart", "fanout"]


def _runner(name: str, args: argparse.Namespace) -> Callable[[], list[Row]] | None:
    """Imported on demand, so that one benchmark's imports do not weigh on another's process figures."""
    quick = args.quick
    if name == "ack":
        from bench import ack

        return lambda: ack.run(quick=quick)
    if name in ("status", "report", "home"):
        from bench import services

        return lambda: getattr(services, name)(quick=quick)
    if name in ("rss", "cli"):
        from bench import process

        return lambda: getattr(process, name)(quick=quick)
    if name == "restart":
        try:
            restart = importlib.import_module("bench.restart")
        except ModuleNotFoundError:
            return None
        # bench/restart.py: `rows(quick=...) -> list[Row]` joins the table; a plain `run()` prints its own.
        if hasattr(restart, "rows"):
            return lambda: restart.rows(quick=quick)
        return lambda: _printed(restart.run)
    from bench import fanout

    people = args.people if args.people else (200 if quick else 1000)
    rounds = args.rounds if args.rounds else (1 if quick else 3)
    return lambda: fanout.rows(
        people=people, latency=args.latency, failures=args.failures, workers=args.workers, rounds=rounds
    )


def _printed(run: Callable[[], object]) -> list[Row]:
    run()
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benchmarks", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller sizes (a smoke run)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    fan = parser.add_argument_group("fanout")
    fan.add_argument("--people", type=int, default=0, help="participants to invite (default 1000, quick 200)")
    fan.add_argument("--latency", type=float, default=0.1, help="seconds per Slack call (default 0.1)")
    fan.add_argument("--failures", type=float, default=0.05, help="share of 429/5xx answers (default 0.05)")
    fan.add_argument("--workers", type=int, default=8, help="delivery workers (default 8)")
    fan.add_argument("--rounds", type=int, default=0, help="bound/Rearview pairs, alternated (default 3)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.benchmarks if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if (
        args.people < 0
        or args.workers < 1
        or args.rounds < 0
        or not 0 <= args.failures < 1
        or args.latency < 0
    ):
        print(
            "bench: --people, --workers and --rounds must be positive, --failures in [0, 1)", file=sys.stderr
        )
        return 2
    rows: list[Row] = []
    failed = False
    for name in args.benchmarks or NAMES:
        runner = _runner(name, args)
        if runner is None:
            print(f"bench: {name}: not here (bench/{name}.py)", file=sys.stderr)
            continue
        began = time.monotonic()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            found = runner()
        except Exception as exc:
            print(f"bench: {name} failed: {exc!r}", file=sys.stderr)
            failed = True
            continue
        print(f"bench: {name} took {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
        rows += found
        failed = failed or any(r.figure.startswith("fan-out: lost") and r.met is False for r in found)
    print(render(rows, markdown=args.markdown))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
