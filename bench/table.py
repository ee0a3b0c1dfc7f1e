"""One row per figure, and the table `python -m bench` prints (plain, or Markdown with `--markdown`)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

HEADER = ("figure", "Rearview median", "min–max", "baseline median", "ratio / growth", "goal", "met?")


@dataclass(frozen=True)
class Row:
    """`ours` and `baseline` are samples in `unit`. `ratio` is ours/baseline, or the growth factor per x10
    when the baseline is the same figure at a tenth of the size (`baseline_label` says which)."""

    figure: str
    unit: str
    ours: list[float]
    baseline: list[float] | None = None
    baseline_label: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        met = "" if self.met is None else ("yes" if self.met else "NO")
        if not self.ours:
            return (self.figure, "", "", self.baseline_label, "", self.goal, met)
        spread = f"{show(min(self.ours), self.unit)}–{show(max(self.ours), self.unit)}"
        base = ""
        if self.baseline:
            base = show(statistics.median(self.baseline), self.unit)
            if self.baseline_label:
                base = f"{base} ({self.baseline_label})"
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return (
            self.figure,
            show(statistics.median(self.ours), self.unit),
            spread,
            base,
            ratio,
            self.goal,
            met,
        )


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def show(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    return f"{value:.3g} {unit}"


def render(rows: list[Row], *, markdown: bool) -> str:
    lines = [HEADER, *(r.cells() for r in rows)]
    if markdown:
        out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in lines[1:]]
        return "\n".join(out)
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )
