"""`python -m bench [fanout] [--people N] [--latency S] [--failures F] [--workers W] [--rounds R]`."""

from __future__ import annotations

import argparse
import sys

from bench import fanout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("benchmark", nargs="?", default="fanout", choices=["fanout"])
    parser.add_argument("--people", type=int, default=1000, help="participants to invite (default 1000)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per Slack call (default 0.1)")
    parser.add_argument(
        "--failures", type=float, default=0.05, help="share of 429/5xx answers (default 0.05)"
    )
    parser.add_argument("--workers", type=int, default=8, help="delivery workers (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="bound/Rearview pairs, alternated (default 3)")
    args = parser.parse_args(argv)
    if (
        args.people < 1
        or args.workers < 1
        or args.rounds < 1
        or not 0 <= args.failures < 1
        or args.latency < 0
    ):
        print(
            "bench: --people, --workers and --rounds must be positive, --failures in [0, 1)", file=sys.stderr
        )
        return 2
    return fanout.run(
        people=args.people,
        latency=args.latency,
        failures=args.failures,
        workers=args.workers,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    sys.exit(main())
