"""Figure of the start-method family: what starting a pool costs."""

from __future__ import annotations

from matplotlib.figure import Figure

from report.figures.common import FigureInputs, FigureSpec, draw_time_bars


def draw_pool_startup(inputs: FigureInputs) -> Figure:
    """Starting a pool, one task per worker, and shutting it down: time per start method."""
    return draw_time_bars(inputs, "pool_startup")


FIGURES = (FigureSpec("pool_startup", ("pool_startup",), draw_pool_startup),)
