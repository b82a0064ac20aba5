"""Figures of the grid's axes beyond workers: start methods and interpreters.

Each experiment that can vary on an axis has a figure for it, drawn when the run
measured more than one value there: the start methods its process pools used, or
the interpreters it ran on.
"""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from experiments.interpreters import MAIN
from experiments.registry import EXPERIMENTS
from experiments.spec import START_METHODS
from report.figures.common import (
    METHOD_COLORS,
    FigureInputs,
    FigureSpec,
    draw_grouped_bars,
    in_method_order,
    interval,
    mark_cpus,
    method_label,
    workers_axis,
)
from report.figures.palette import COLORS

#: Panels side by side in a figure of one panel per interpreter, before it wraps.
PANELS_PER_ROW = 3

#: One colour per start method, the same as in every other figure (the palette's).
START_METHOD_COLORS = {name: COLORS[name] for name in START_METHODS}


def axis_points(inputs: FigureInputs, experiment: str) -> pd.DataFrame:
    summary = inputs.axes_summary if inputs.axes_summary is not None else inputs.summary
    return summary[summary["experiment"] == experiment]


def start_method_figure(experiment: str) -> FigureSpec:
    spec = EXPERIMENTS[experiment]
    axis_methods = [method.name for method in spec.methods if method.uses_start_method]

    def draw(inputs: FigureInputs) -> Figure:
        points = axis_points(inputs, experiment)
        points = points[points["interpreter"] == MAIN]
        methods = [name for name in axis_methods if name in set(points["method"])]
        figure = Figure(figsize=(4 * len(methods) + 0.5, 3.2), layout="constrained")
        axes = figure.subplots(1, len(methods), sharey=True, squeeze=False)[0]
        baseline = points[points["method"] == spec.baseline] if spec.baseline else points.iloc[:0]
        for ax, method in zip(axes, methods, strict=True):
            rows = points[points["method"] == method].sort_values("start_method", key=lambda sm: sm.map(START_METHODS.index))
            draw_grouped_bars(ax, rows, experiment, rows["median_seconds"], series="start_method",
                              errors=interval(rows, "median_seconds", "ci_low", "ci_high"), colors=START_METHOD_COLORS)
            if len(baseline) and not spec.method(spec.baseline).parallel:
                ax.axhline(baseline["median_seconds"].iloc[0], color="0.4", linestyle="--", linewidth=1,
                           label=method_label(experiment, spec.baseline))
            ax.set_title(method_label(experiment, method))
            ax.legend(fontsize=7, frameon=False)
        axes[0].set_ylabel(inputs.time_label())
        return figure

    draw.__doc__ = f"{spec.title}: total time of the process pools under each start method."
    return FigureSpec(f"{experiment}_start_methods", (experiment,), draw, axis="start_methods")


def interpreter_figure(experiment: str) -> FigureSpec:
    spec = EXPERIMENTS[experiment]

    def draw(inputs: FigureInputs) -> Figure:
        points = axis_points(inputs, experiment)
        points = points[(points["start_method"] == points["job_start_method"])]
        interpreters = list(dict.fromkeys([MAIN, *points["interpreter"]]))
        interpreters = [name for name in interpreters if name in set(points["interpreter"])]
        columns = min(len(interpreters), PANELS_PER_ROW)
        rows_of_panels = -(-len(interpreters) // columns)
        figure = Figure(figsize=(3.6 * columns + 0.5, 3.2 * rows_of_panels), layout="constrained")
        grid = figure.subplots(rows_of_panels, columns, sharey=True, squeeze=False).ravel()
        for ax in grid[len(interpreters):]:
            ax.set_visible(False)
        axes = grid[:len(interpreters)]
        for ax, interpreter in zip(axes, interpreters, strict=True):
            mine = points[(points["interpreter"] == interpreter) & points["speedup"].notna()]
            parallel = in_method_order(mine[mine["method"].map(lambda name: spec.method(name).parallel).astype(bool)], experiment)
            for method, rows in parallel.groupby("method", sort=False):
                rows = rows.sort_values("workers")
                ax.errorbar(rows["workers"], rows["speedup"], yerr=interval(rows, "speedup", "speedup_low", "speedup_high"),
                            color=METHOD_COLORS[method], marker="o", capsize=3, label=method_label(experiment, method))
            workers = sorted(parallel["workers"].unique()) or [1]
            ax.plot(workers, workers, color="0.5", linestyle="--", linewidth=1, label="ideal (linear)")
            ax.axhline(1, color="0.7", linewidth=0.8)
            workers_axis(ax, workers)
            mark_cpus(ax, inputs.cpus)
            ax.set_ylim(bottom=0)
            ax.set_title(interpreter)
            ax.legend(fontsize=7, frameon=False)
        if spec.baseline:
            for ax in axes[::columns]:
                ax.set_ylabel(f"speedup over {method_label(experiment, spec.baseline)}, same interpreter")
        return figure

    draw.__doc__ = f"{spec.title}: speedup on each interpreter."
    return FigureSpec(f"{experiment}_interpreters", (experiment,), draw, axis="interpreters")


def interpreter_serial_figure(experiment: str) -> FigureSpec:
    """The serial baseline's time on each interpreter: what one thread costs on each."""
    spec = EXPERIMENTS[experiment]

    def draw(inputs: FigureInputs) -> Figure:
        points = axis_points(inputs, experiment)
        rows = points[(points["method"] == spec.baseline) & (points["start_method"] == points["job_start_method"])]
        measured = set(rows["interpreter"])
        order = [name for name in dict.fromkeys([MAIN, *rows["interpreter"]]) if name in measured]
        rows = rows.set_index("interpreter").reindex(order)
        figure = Figure(figsize=(1.1 * len(rows) + 2, 3.2), layout="constrained")
        ax = figure.subplots()
        positions = range(len(rows))
        bars = ax.bar(positions, rows["median_seconds"], yerr=interval(rows, "median_seconds", "ci_low", "ci_high"),
                      capsize=3, color=[matplotlib.colormaps["tab10"](i % 10) for i in positions])
        ax.bar_label(bars, labels=[f"{value:.2f}" for value in rows["median_seconds"]], fontsize=7)
        ax.set_xticks(list(positions), list(rows.index), rotation=20, ha="right")
        ax.set_ylabel(inputs.time_label())
        ax.set_title(method_label(experiment, spec.baseline))
        return figure

    draw.__doc__ = f"{spec.title}: the {method_label(experiment, spec.baseline)} on each interpreter."
    return FigureSpec(f"{experiment}_interpreter_serial", (experiment,), draw, axis="interpreters")


FIGURES = (
    *(start_method_figure(name) for name, spec in EXPERIMENTS.items()
      if any(method.uses_start_method for method in spec.methods)),
    *(interpreter_figure(name) for name, spec in EXPERIMENTS.items() if spec.baseline),
    *(interpreter_serial_figure(name) for name, spec in EXPERIMENTS.items()
      if spec.baseline and not spec.method(spec.baseline).parallel),
)
