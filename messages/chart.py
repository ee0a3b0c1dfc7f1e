"""The history chart: participation, action-item completion and smoothness, retro after retro."""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.domain import RetroMetrics


def history_chart(metrics: Sequence[RetroMetrics]) -> bytes:
    """A PNG, 1200×600 pixels: percentages on the left axis, smoothness (1–10) on the right.

    matplotlib is imported here, not at the top: it costs ~60 MiB and most of a second, and only this chart
    (`/retro history`) needs it. A `Figure` with its own Agg canvas needs no backend or display."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 6), dpi=100)
    axis = figure.add_subplot()
    labels = [f"{m.title[:18]}\n{m.day}" for m in metrics]
    positions = list(range(len(metrics)))

    def percent(values: Sequence[float | None]) -> list[float]:
        return [100 * v if v is not None else float("nan") for v in values]

    axis.plot(positions, percent([m.participation for m in metrics]), marker="o", label="Participation (%)")
    axis.plot(
        positions, percent([m.completion for m in metrics]), marker="s", label="Action items completed (%)"
    )
    axis.set_ylim(0, 105)
    axis.set_ylabel("%")
    axis.set_xticks(positions, labels, fontsize=8)
    smooth = axis.twinx()
    smooth.plot(
        positions,
        [m.average_smoothness if m.average_smoothness is not None else float("nan") for m in metrics],
        marker="^",
        color="tab:green",
        label="Smoothness (1–10)",
    )
    smooth.set_ylim(0, 10.5)
    smooth.set_ylabel("Smoothness")
    lines = axis.get_legend_handles_labels()[0] + smooth.get_legend_handles_labels()[0]
    names = axis.get_legend_handles_labels()[1] + smooth.get_legend_handles_labels()[1]
    axis.legend(lines, names, loc="best", fontsize=9)
    axis.set_title("Retro history")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
