"""What every family's figures share: inputs, the figure spec, colours and plot helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.registry import EXPERIMENTS

#: One colour per method name, in registry order, the same in every figure.
_METHOD_NAMES = list(dict.fromkeys(m.name for e in EXPERIMENTS.values() for m in e.methods))
METHOD_COLORS = {name: matplotlib.colormaps["tab10"](i % 10) for i, name in enumerate(_METHOD_NAMES)}

#: Matplotlib settings for every figure: text stays text in the SVG, light frames.
SVG_RC = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


@dataclass(frozen=True)
class FigureInputs:
    """Everything a figure may draw from.

    ``summary`` holds the points on the workflow's interpreter under each job's
    start method; ``axes_summary`` every point, other start methods and
    interpreters included (the figures of those axes draw from it).
    """

    summary: pd.DataFrame
    comparison: pd.DataFrame
    cpus: int
    darts: int
    core_samples: pd.DataFrame | None = None
    smallest_factor_bound: int = 10_000_000
    confidence: float = 0.95
    axes_summary: pd.DataFrame | None = None

    def time_label(self, *, log: bool = False) -> str:
        """Y-axis label for median times with their confidence intervals."""
        return f"median wall time (s){', log scale' if log else ''}, {self.confidence:.0%} CI"


@dataclass(frozen=True)
class FigureSpec:
    """A figure: its file name, the experiments it draws from (any one suffices) and how to draw it.

    A figure of a grid axis (``axis``: "start_methods" or "interpreters") is drawn
    only when one of its experiments has more than one value on that axis.
    """

    name: str
    needs: tuple[str, ...]
    draw: Callable[[FigureInputs], Figure]
    axis: str | None = None

    @property
    def title(self) -> str:
        """The first line of the draw function's docstring."""
        return (self.draw.__doc__ or self.name).strip().splitlines()[0]


def method_label(experiment: str, method: str) -> str:
    return EXPERIMENTS[experiment].method(method).label


def points_of(inputs: FigureInputs, experiment: str) -> pd.DataFrame:
    return inputs.summary[inputs.summary["experiment"] == experiment]


def in_method_order(points: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """``points`` sorted by the order of the experiment's methods in the registry (stable otherwise)."""
    order = {name: index for index, name in enumerate(EXPERIMENTS[experiment].method_names)}
    return points.sort_values("method", key=lambda names: names.map(order), kind="stable")


def mark_cpus(ax: Axes, cpus: int) -> None:
    """A dotted vertical line at the number of CPUs the run could use."""
    ax.axvline(cpus, color="0.6", linestyle=":", linewidth=1)
    ax.annotate(f"{cpus} CPUs", (cpus, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                textcoords="offset points", color="0.4", fontsize=8)


def workers_axis(ax: Axes, workers: Iterable[int]) -> None:
    """A log-2 x axis labelled with the measured worker counts."""
    ticks = sorted(set(workers))
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("workers")


def interval(rows: pd.DataFrame, centre: str, low: str, high: str) -> list[pd.Series]:
    """Error-bar lengths below and above ``centre``."""
    return [rows[centre] - rows[low], rows[high] - rows[centre]]


def is_parallel(points: pd.DataFrame, experiment: str) -> pd.Series:
    """Which rows of ``points`` belong to parallel methods."""
    spec = EXPERIMENTS[experiment]
    return points["method"].map(lambda m: spec.method(m).parallel).astype(bool)


def draw_one_worker_lines(ax: Axes, points: pd.DataFrame, experiment: str) -> None:
    """Each one-worker method's median time as a dashed horizontal line, its interval as a band."""
    for method, rows in points.groupby("method", sort=False):
        row = rows.iloc[0]
        color = METHOD_COLORS[method]
        ax.axhline(row["median_seconds"], color=color, linestyle="--", linewidth=1.2,
                   label=f"{method_label(experiment, method)} (one worker)")
        ax.axhspan(row["ci_low"], row["ci_high"], color=color, alpha=0.15, linewidth=0)


def draw_scaling(inputs: FigureInputs, experiment: str) -> Figure:
    """Two panels: median time against workers, and speedup against workers with the ideal line.

    Parallel methods are lines; methods that use one worker are horizontal
    lines with their interval as a band.
    """
    points = points_of(inputs, experiment)
    spec = EXPERIMENTS[experiment]
    figure = Figure(figsize=(8, 3.4), layout="constrained")
    time_ax, speed_ax = figure.subplots(1, 2)
    parallel = is_parallel(points, experiment)
    for method, rows in points[parallel].groupby("method", sort=False):
        rows = rows.sort_values("workers")
        style = {"color": METHOD_COLORS[method], "marker": "o", "capsize": 3, "label": method_label(experiment, method)}
        time_ax.errorbar(rows["workers"], rows["median_seconds"], yerr=interval(rows, "median_seconds", "ci_low", "ci_high"), **style)
        speed_ax.errorbar(rows["workers"], rows["speedup"], yerr=interval(rows, "speedup", "speedup_low", "speedup_high"), **style)
    draw_one_worker_lines(time_ax, points[~parallel], experiment)
    workers = sorted(points.loc[parallel, "workers"].unique())
    speed_ax.plot(workers, workers, color="0.5", linestyle="--", linewidth=1, label="ideal (linear)")
    speed_ax.axhline(1, color="0.7", linewidth=0.8)
    for ax in (time_ax, speed_ax):
        workers_axis(ax, workers)
        mark_cpus(ax, inputs.cpus)
        ax.set_ylim(bottom=0)
    time_ax.set_ylabel(inputs.time_label())
    speed_ax.set_ylabel(f"speedup over {method_label(experiment, spec.baseline)}")
    time_ax.set_title("time")
    speed_ax.set_title("speedup")
    time_ax.legend(fontsize=7, frameon=False)
    speed_ax.legend(fontsize=7, frameon=False)
    return figure


def draw_grouped_bars(ax: Axes, points: pd.DataFrame, experiment: str, values: pd.Series, *,
                      errors: list[pd.Series] | None = None, labels: Callable[[float], str] | None = None,
                      group: str = "workers", order: Sequence[Any] | None = None,
                      group_label: Callable[[Any], str] | None = None,
                      colors: Mapping[str, Any] = METHOD_COLORS, series: str = "method",
                      series_label: Callable[[str], str] | None = None) -> None:
    """Bars of ``values`` grouped by ``group`` (the worker count unless told), one colour per
    ``series`` value (the method unless told, labelled by ``series_label``).

    Groups appear in ``order`` (default: ascending), labelled by ``group_label``.
    """
    groups = list(order) if order is not None else sorted(points[group].unique())
    if group_label is None:
        group_label = (lambda w: f"{w} worker{'s' if w > 1 else ''}") if group == "workers" else str
    if series_label is None:
        series_label = (lambda method: method_label(experiment, method)) if series == "method" else str
    methods = list(dict.fromkeys(points[series]))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        mine = points[series] == method
        heights = values[mine].set_axis(points.loc[mine, group]).reindex(groups)
        positions = np.arange(len(groups)) + (i - (len(methods) - 1) / 2) * width
        yerr = None
        if errors is not None:
            yerr = [e[mine].set_axis(points.loc[mine, group]).reindex(groups) for e in errors]
        bars = ax.bar(positions, heights, width, yerr=yerr, capsize=3 if len(methods) < 6 else 1,
                      color=colors[method], label=series_label(method))
        if labels is not None:
            ax.bar_label(bars, labels=[labels(v) for v in heights], fontsize=7)
    ax.set_xticks(np.arange(len(groups)), [group_label(g) for g in groups])


def percent_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def draw_time_bars(inputs: FigureInputs, experiment: str, *, log: bool = False, width: float = 6) -> Figure:
    """Median time per method as bars with confidence intervals, grouped by worker count."""
    points = points_of(inputs, experiment)
    figure = Figure(figsize=(width, 3), layout="constrained")
    ax = figure.subplots()
    draw_grouped_bars(ax, points, experiment, points["median_seconds"],
                      errors=interval(points, "median_seconds", "ci_low", "ci_high"))
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(inputs.time_label())
    ax.legend(fontsize=8, frameon=False)
    return figure
