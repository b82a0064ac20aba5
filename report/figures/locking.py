"""Figures of the locking family: updates lost per method, and the time each method needs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from experiments.registry import EXPERIMENTS
from report.figures.common import (
    FigureInputs,
    FigureSpec,
    draw_grouped_bars,
    draw_grouped_dots,
    in_method_order,
    log_time_axis,
    points_of,
)

COUNTERS = ("file_counter", "value_counter")


def _counter_panels(inputs: FigureInputs, column: str, ylabel: str, *, log: bool,
                    labels: Callable[[float], str] | None = None) -> Figure:
    """One panel per counter experiment: median of ``column`` per method, whiskers from min to max over repeats.

    Bars on a linear axis; dots on a log one (``log``), where a bar's length means nothing.
    """
    present = [name for name in COUNTERS if not points_of(inputs, name).empty]
    figure = Figure(figsize=(4.5 * len(present), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(present)))
    for ax, experiment in zip(axes, present):
        points = in_method_order(points_of(inputs, experiment), experiment)
        median = points[f"median_{column}"]
        if log:
            # the dots' whiskers are the smallest and largest over the repeats, in place of an interval
            spread = points.assign(median_seconds=median, ci_low=points[f"min_{column}"], ci_high=points[f"max_{column}"])
            draw_grouped_dots(ax, spread, experiment)
            log_time_axis(ax)
        else:
            errors = [median - points[f"min_{column}"], points[f"max_{column}"] - median]
            draw_grouped_bars(ax, points, experiment, median, errors=errors, labels=labels)
        ax.set_title(EXPERIMENTS[experiment].title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2)
    return figure


def draw_lost_updates(inputs: FigureInputs) -> Figure:
    """Updates lost per method: median over repeats, with the smallest and largest."""
    figure = _counter_panels(inputs, "lost_updates", "lost updates (expected − final count)", log=False,
                             labels=lambda value: f"{value:,.0f}")
    for ax in figure.axes:
        ax.axhline(0, color="0.3", linewidth=0.8)
    return figure


def draw_counter_time(inputs: FigureInputs) -> Figure:
    """Time to count per method: median over repeats, with the fastest and slowest."""
    return _counter_panels(inputs, "count_seconds", "counting time (s), log scale", log=True)


FIGURES = (
    FigureSpec("lost_updates", COUNTERS, draw_lost_updates),
    FigureSpec("counter_time", COUNTERS, draw_counter_time),
)
