"""Figure of the start-method family: what starting a pool costs."""

from __future__ import annotations

from matplotlib.figure import Figure

from report.figures.common import FigureInputs, FigureSpec, draw_grouped_bars, interval, points_of


def draw_pool_startup(inputs: FigureInputs) -> Figure:
    """Starting a pool, one task per worker, and shutting it down: time per start method."""
    points = points_of(inputs, "pool_startup")
    figure = Figure(figsize=(6, 3), layout="constrained")
    ax = figure.subplots()
    draw_grouped_bars(ax, points, "pool_startup", points["median_seconds"],
                      errors=interval(points, "median_seconds", "ci_low", "ci_high"))
    ax.set_ylabel("median wall time (s), 95% CI")
    ax.legend(fontsize=8, frameon=False)
    return figure


FIGURES = (FigureSpec("pool_startup", ("pool_startup",), draw_pool_startup),)
