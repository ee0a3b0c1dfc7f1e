"""Service time of `/retro status`, the report and the Home tab at three sizes, x10 apart, on a seeded
SQLite file database: each size's median, min–max, and the growth factor per x10 (1x is constant time,
10x linear, 100x quadratic).

The services are called as the listeners and the workers call them (ReportService.status, build_report in a
read session, HomeService.view_for); the data is bulk-inserted first and is not part of the time.
A size whose predecessor took so long that it would blow the run's budget is skipped and says so.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import seed
from bench.table import Row, median
from bot.outbox import Outbox
from bot.services.home import HomeService
from bot.services.reports import ReportService, build_report
from storage.db import read_only
from storage.models import Retro

BUDGET = 60.0  # seconds one size may be expected to take, all rounds together, before it is skipped


def _time(call: Callable[[], object], rounds: int) -> list[float]:
    call()  # warm: the first call compiles statements and fills caches, as a running bot has
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
        if samples[-1] * rounds > BUDGET:
            break  # one slow sample says enough
    return samples


def _sizes(
    name: str,
    sizes: list[int],
    measure: Callable[[int], list[float]],
    *,
    unit_label: str,
    goal: Callable[[int], tuple[str, Callable[[float], bool]] | None],
) -> list[Row]:
    rows: list[Row] = []
    previous: list[float] | None = None
    for size in sizes:
        figure = f"{name} at {size:,} {unit_label}"
        aim = goal(size)
        if previous and median(previous) * 10 * 3 > BUDGET:
            rows.append(
                Row(
                    figure,
                    "s",
                    [],
                    goal=aim[0] if aim else "",
                    baseline_label="skipped: the size before took too long",
                )
            )
            previous = None
            continue
        samples = measure(size)
        growth = median(samples) / median(previous) if previous else None
        rows.append(
            Row(
                figure,
                "s",
                samples,
                baseline=previous,
                baseline_label=f"at {size // 10:,}" if previous else "",
                ratio=growth,
                goal=aim[0] if aim else "",
                met=aim[1](median(samples)) if aim else None,
            )
        )
        previous = samples
    return rows


def status(*, quick: bool) -> list[Row]:
    """`/retro status` in an open retro of 12 people with N items."""
    rounds = 5 if quick else 15

    def measure(size: int) -> list[float]:
        with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
            _, engine = seed.database(Path(root))
            seed.retro(engine, items=size)
            service = ReportService(
                engine=engine, clock=lambda: seed.NOW, outbox=Outbox(clock=lambda: seed.NOW)
            )
            try:
                return _time(lambda: service.status(team_id=seed.TEAM, channel_id=seed.CHANNEL), rounds)
            finally:
                engine.dispose()

    return _sizes(
        "status",
        [200, 2000] if quick else [200, 2000, 20000],
        measure,
        unit_label="items",
        goal=lambda n: ("≤ 20 ms", lambda s: s <= 0.020) if n == 20000 else None,
    )


def report(*, quick: bool) -> list[Row]:
    """build_report for a closed retro of N items, (a) after 5 earlier retros of 60 items, (b) after 1
    earlier retro of N items (recurring-problem matching compares the two)."""
    rounds = 3 if quick else 5

    def measure(earlier: Callable[[int], list[int]]) -> Callable[[int], list[float]]:
        def run(size: int) -> list[float]:
            with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
                _, engine = seed.database(Path(root))
                for n, items in enumerate(earlier(size)):
                    seed.retro(engine, items=items, closed=True, days_ago=100 - n, seed=100 + n)
                retro_id = seed.retro(engine, items=size, closed=True, seed=7)

                def build() -> None:
                    with read_only(engine) as session:
                        retro = session.get(Retro, retro_id)
                        assert retro is not None
                        build_report(session, retro)

                try:
                    return _time(build, rounds)
                finally:
                    engine.dispose()

        return run

    def goal_few(n: int) -> tuple[str, Callable[[float], bool]] | None:
        return ("≤ 0.3 s", lambda s: s <= 0.3) if n == 2000 else None

    def goal_one(n: int) -> tuple[str, Callable[[float], bool]] | None:
        if n == 2000:
            return ("≤ 0.5 s", lambda s: s <= 0.5)
        return ("≤ 5 s", lambda s: s <= 5.0) if n == 20000 else None

    sizes = [200, 2000] if quick else [200, 2000, 20000]
    return [
        *_sizes(
            "report, 5 earlier of 60,", sizes, measure(lambda _n: [60] * 5), unit_label="items", goal=goal_few
        ),
        *_sizes(
            "report, 1 earlier of as many,", sizes, measure(lambda n: [n]), unit_label="items", goal=goal_one
        ),
    ]


def home(*, quick: bool) -> list[Row]:
    """The Home tab of someone with N open action items (and a survey to answer)."""
    rounds = 5 if quick else 15
    owner = "U0001"

    def measure(size: int) -> list[float]:
        with tempfile.TemporaryDirectory(prefix="rearview-bench-") as root:
            _, engine = seed.database(Path(root))
            closed = seed.retro(engine, items=20, closed=True, days_ago=30, seed=3)
            seed.action_items(engine, retro_id=closed, owner=owner, count=size)
            seed.retro(engine, items=20, seed=4)
            service = HomeService(
                engine=engine, outbox=Outbox(clock=lambda: seed.NOW), clock=lambda: seed.NOW
            )

            def view() -> None:
                with read_only(engine) as session:
                    service.view_for(session, team_id=seed.TEAM, user_id=owner)

            try:
                return _time(view, rounds)
            finally:
                engine.dispose()

    return _sizes(
        "Home",
        [50, 500] if quick else [50, 500, 5000],
        measure,
        unit_label="open action items",
        goal=lambda n: ("≤ 15 ms, constant", lambda s: s <= 0.015) if n >= 500 else None,
    )
