"""What every family's figures share: inputs, the figure spec, colours and plot helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from experiments.registry import EXPERIMENTS
from report.figures.palette import COLORS, STYLES

#: One colour per method name (and start method), the same in every figure: see :mod:`report.figures.palette`.
METHOD_COLORS = COLORS

#: Where values span more than this factor, a time axis is logarithmic.
LOG_SPAN = 10

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

    def __post_init__(self) -> None:
        # matplotlib draws NaN as a gap but fails on pandas' NA (a point whose every trial failed or was set aside)
        for name in ("summary", "axes_summary"):
            table = getattr(self, name)
            if table is not None:
                object.__setattr__(self, name, with_nan_gaps(table))

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


def with_nan_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its nullable float columns as plain floats, NA as NaN."""
    floats = [column for column in table.columns if isinstance(table[column].dtype, pd.Float64Dtype)]
    return table.astype({column: "float64" for column in floats})


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


def spans_decade(values: Iterable[float]) -> bool:
    """Whether positive ``values`` span more than :data:`LOG_SPAN` (so a linear axis would squash the small ones)."""
    finite = [v for v in values if v is not None and np.isfinite(v) and v > 0]
    return bool(finite) and max(finite) / min(finite) > LOG_SPAN


def log_time_axis(ax: Axes) -> None:
    """A logarithmic y axis of seconds, its ticks at 1, 2 and 5 of each decade, labelled "200 ms", not "2×10⁻¹"."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda seconds, _: format_time(seconds)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def time_scale(ax: Axes, rows: pd.DataFrame) -> bool:
    """A log time axis where the intervals span more than :data:`LOG_SPAN`, else linear from zero; True when log."""
    log = spans_decade([*rows["median_seconds"], *rows["ci_low"].fillna(rows["median_seconds"]),
                        *rows["ci_high"].fillna(rows["median_seconds"])])
    if log:
        log_time_axis(ax)
    else:
        ax.set_ylim(bottom=0)
    return log


def format_time(seconds: float) -> str:
    """Seconds as a hover text shows them: three significant figures, in ms or µs when small."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds <= 0:
        return "0 s"
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def point_title(experiment: str, row: Mapping[str, Any], *, value: str = "median_seconds") -> str:
    """What hovering over a point says: method, workers, median and interval (or the speedup and its interval)."""
    head = f"{method_label(experiment, row['method'])}, {int(row['workers'])} worker{'s' if row['workers'] != 1 else ''}"
    if value == "speedup":
        body = f"speedup {row['speedup']:.3g}× [{row['speedup_low']:.3g}, {row['speedup_high']:.3g}]"
    else:
        body = f"median {format_time(row['median_seconds'])}"
        if not (pd.isna(row.get("ci_low")) or pd.isna(row.get("ci_high"))):
            body += f" [{format_time(row['ci_low'])}, {format_time(row['ci_high'])}]"
    start_method = row.get("start_method")
    return f"{head}{f' ({start_method})' if isinstance(start_method, str) else ''}: {body}"


def hover_title(figure: Figure, artist: Any, title: str) -> None:
    """Give ``artist`` an SVG ``<title>`` (inserted by :func:`add_hover_titles`): the text a hover shows."""
    titles = figure.__dict__.setdefault("hover_titles", [])
    artist.set_gid(f"hover-{len(titles)}")
    titles.append(title)


def hover_point(ax: Axes, x: float, y: float, title: str, *, color: Any, marker: str, size: float = 5) -> None:
    """One marker that carries ``title`` as its hover text."""
    (line,) = ax.plot([x], [y], linestyle="none", marker=marker, markersize=size, color=color, zorder=3)
    hover_title(ax.figure, line, title)


def hover_points(ax: Axes, rows: pd.DataFrame, x: str, y: str, experiment: str, *, color: Any, marker: str,
                 value: str = "median_seconds", size: float = 5) -> None:
    """A hover marker per row: ``x`` and ``y`` are the columns it sits at, ``value`` what its title reports."""
    for row in rows.to_dict("records"):
        if not pd.isna(row[y]):
            hover_point(ax, row[x], row[y], point_title(experiment, row, value=value), color=color, marker=marker,
                        size=size)


def add_hover_titles(svg: str, figure: Figure, prefix: str) -> str:
    """The SVG text with each hover marker's ``<title>`` inserted, its id made unique by ``prefix``."""
    from xml.sax.saxutils import escape

    titles = figure.__dict__.get("hover_titles", [])

    def titled(match: re.Match) -> str:
        index = int(match.group(1))
        return f'<g id="{prefix}-hover-{index}"><title>{escape(titles[index])}</title>'

    return re.sub(r'<g id="hover-(\d+)">', titled, svg)


def legend_outside(figure: Figure, *, ncol: int | None = None, where: str = "lower center") -> None:
    """One legend for all panels, outside the data (below them unless told), each label once."""
    handles: dict[str, Any] = {}
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        columns = ncol or (min(4, len(handles)) if where.endswith("center") else 1)
        figure.legend(list(handles.values()), list(handles), loc=f"outside {where}", ncol=columns, fontsize=7,
                      frameon=False)


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
    lines with their interval as a band. The time axis is logarithmic where the
    times span more than :data:`LOG_SPAN`.
    """
    points = points_of(inputs, experiment)
    spec = EXPERIMENTS[experiment]
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    time_ax, speed_ax = figure.subplots(1, 2)
    parallel = is_parallel(points, experiment)
    for method, rows in points[parallel].groupby("method", sort=False):
        rows = rows.sort_values("workers")
        color, marker = STYLES[method]
        style = {"color": color, "marker": marker, "markersize": 4, "capsize": 3,
                 "label": method_label(experiment, method)}
        time_ax.errorbar(rows["workers"], rows["median_seconds"], yerr=interval(rows, "median_seconds", "ci_low", "ci_high"), **style)
        speed_ax.errorbar(rows["workers"], rows["speedup"], yerr=interval(rows, "speedup", "speedup_low", "speedup_high"), **style)
        hover_points(time_ax, rows, "workers", "median_seconds", experiment, color=color, marker=marker)
        hover_points(speed_ax, rows, "workers", "speedup", experiment, color=color, marker=marker, value="speedup")
    draw_one_worker_lines(time_ax, points[~parallel], experiment)
    workers = sorted(points.loc[parallel, "workers"].unique())
    speed_ax.plot(workers, workers, color="0.5", linestyle="--", linewidth=1, label="ideal (linear)")
    speed_ax.axhline(1, color="0.7", linewidth=0.8)
    for ax in (time_ax, speed_ax):
        workers_axis(ax, workers)
        mark_cpus(ax, inputs.cpus)
    log = time_scale(time_ax, points)
    speed_ax.set_ylim(bottom=0)
    time_ax.set_ylabel(inputs.time_label(log=log))
    speed_ax.set_ylabel(f"speedup over {method_label(experiment, spec.baseline)}")
    time_ax.set_title("time")
    speed_ax.set_title("speedup")
    legend_outside(figure)
    return figure


def _grouping(points: pd.DataFrame, experiment: str, group: str, order: Sequence[Any] | None,
              group_label: Callable[[Any], str] | None, series: str,
              series_label: Callable[[str], str] | None) -> tuple[list, Callable[[Any], str], Callable[[str], str]]:
    """The groups in order and the labels of groups and series, defaults filled in (workers, methods)."""
    groups = list(order) if order is not None else sorted(points[group].unique())
    if group_label is None:
        group_label = (lambda w: f"{w} worker{'s' if w > 1 else ''}") if group == "workers" else str
    if series_label is None:
        series_label = (lambda method: method_label(experiment, method)) if series == "method" else str
    return groups, group_label, series_label


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
    groups, group_label, series_label = _grouping(points, experiment, group, order, group_label, series,
                                                  series_label)
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
        for bar, group_value, height in zip(bars, groups, heights):
            if not pd.isna(height):
                text = labels(height) if labels is not None else f"{height:.3g}"
                hover_title(ax.figure, bar, f"{series_label(method)}, {group_label(group_value)}: {text}")
    ax.set_xticks(np.arange(len(groups)), [group_label(g) for g in groups])


def draw_grouped_dots(ax: Axes, points: pd.DataFrame, experiment: str, *, group: str = "workers",
                      order: Sequence[Any] | None = None, group_label: Callable[[Any], str] | None = None,
                      series: str = "method", series_label: Callable[[str], str] | None = None) -> None:
    """Median times as dots with their intervals, grouped like :func:`draw_grouped_bars`: for log axes,
    where a bar's length means nothing. Each dot carries a hover title."""
    groups, group_label, series_label = _grouping(points, experiment, group, order, group_label, series,
                                                  series_label)
    names = list(dict.fromkeys(points[series]))
    width = 0.8 / len(names)
    position = {g: i for i, g in enumerate(groups)}
    for i, name in enumerate(names):
        rows = points[(points[series] == name) & points[group].isin(groups) & points["median_seconds"].notna()]
        x = rows[group].map(position) + (i - (len(names) - 1) / 2) * width
        color, marker = STYLES[name]
        ax.errorbar(x, rows["median_seconds"], yerr=interval(rows, "median_seconds", "ci_low", "ci_high"),
                    linestyle="none", marker=marker, markersize=4, capsize=2, color=color, label=series_label(name))
        for xi, row in zip(x, rows.to_dict("records")):
            hover_point(ax, xi, row["median_seconds"], point_title(experiment, row), color=color, marker=marker)
    for boundary in range(1, len(groups)):
        ax.axvline(boundary - 0.5, color="0.9", linewidth=0.8)
    ax.set_xticks(np.arange(len(groups)), [group_label(g) for g in groups])
    ax.set_xlim(-0.5, len(groups) - 0.5)


def percent_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def draw_time_bars(inputs: FigureInputs, experiment: str, *, width: float = 6) -> Figure:
    """Median time per method with confidence intervals, grouped by worker count: bars on a linear axis,
    dots on a log axis where the times span more than :data:`LOG_SPAN`."""
    # a method wrong by design (pi_cache's no_index) has no correct trial, so no time to draw
    points = points_of(inputs, experiment).dropna(subset=["median_seconds"])
    figure = Figure(figsize=(width, 3), layout="constrained")
    ax = figure.subplots()
    log = spans_decade([*points["median_seconds"], *points["ci_low"].dropna(), *points["ci_high"].dropna()])
    if log:
        draw_grouped_dots(ax, points, experiment)
        log_time_axis(ax)
    else:
        draw_grouped_bars(ax, points, experiment, points["median_seconds"],
                          errors=interval(points, "median_seconds", "ci_low", "ci_high"))
    ax.set_ylabel(inputs.time_label(log=log))
    legend_outside(figure, where="right upper")
    return figure
