"""Figures of the primes family: pool scaling, chunk sizes, numbers of chunks, queues,
and the comparison with the book."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments.registry import EXPERIMENTS
from report.book import OURS
from report.figures.common import (
    FigureInputs,
    FigureSpec,
    draw_grouped_dots,
    draw_one_worker_lines,
    draw_scaling,
    hover_points,
    interval,
    is_parallel,
    legend_outside,
    log_time_axis,
    method_label,
    points_of,
    time_scale,
)
from report.figures.palette import STYLES
from report.figures.pi import SOURCE_LINES


def draw_primes_pool(inputs: FigureInputs) -> Figure:
    """Counting primes: time and speedup against workers."""
    return draw_scaling(inputs, "primes_pool")


def _sweep_lines(ax: Axes, points: pd.DataFrame, experiment: str, x: str) -> None:
    """One line with confidence-interval error bars per method and worker count, against column ``x``."""
    several = points["workers"].nunique() > 1
    for (method, workers), rows in points.groupby(["method", "workers"], sort=False):
        rows = rows.sort_values(x)
        label = method_label(experiment, method) + (f", {workers} workers" if several else "")
        color, marker = STYLES[method]
        ax.errorbar(rows[x], rows["median_seconds"], yerr=interval(rows, "median_seconds", "ci_low", "ci_high"),
                    color=color, marker=marker, markersize=3, capsize=2, label=label,
                    linestyle="-" if workers == points["workers"].max() else ":")
        hover_points(ax, rows, x, "median_seconds", experiment, color=color, marker=marker, size=3)


def draw_primes_chunksize(inputs: FigureInputs) -> Figure:
    """Pool.map: time against chunk size, with the pool's default marked."""
    points = points_of(inputs, "primes_chunksize")
    figure = Figure(figsize=(7, 3.6), layout="constrained")
    ax = figure.subplots()
    explicit, default = points[points["chunksize"] > 0], points[points["chunksize"] == 0]
    _sweep_lines(ax, explicit, "primes_chunksize", "chunksize")
    for row in default.itertuples():
        ax.errorbar(row.median_chunksize_used, row.median_seconds,
                    yerr=[[row.median_seconds - row.ci_low], [row.ci_high - row.median_seconds]],
                    color=STYLES[row.method].color, marker="*", markersize=12, markeredgecolor="black",
                    capsize=2, linestyle="none")
    for size in default["median_chunksize_used"].unique():
        ax.axvline(size, color="0.6", linestyle=":", linewidth=1)
        ax.annotate(f"Pool.map's default ({size:,.0f}) ★", (size, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -10), textcoords="offset points", color="0.3", fontsize=8)
    ax.set_xscale("log")
    log = time_scale(ax, points)
    ax.set_xlabel("chunk size (numbers per task), log scale")
    ax.set_ylabel(inputs.time_label(log=log))
    legend_outside(figure, where="right upper")
    return figure


def draw_primes_chunks(inputs: FigureInputs) -> Figure:
    """Pool.map: time against the number of chunks, multiples of the worker count marked."""
    points = points_of(inputs, "primes_chunks")
    figure = Figure(figsize=(7, 3.4), layout="constrained")
    ax = figure.subplots()
    _sweep_lines(ax, points, "primes_chunks", "chunks")
    most = int(points["chunks"].max())
    for workers in sorted(points["workers"].unique()):
        for multiple in range(workers, most + 1, workers):
            ax.axvline(multiple, color="0.75", linestyle=":", linewidth=1)
    ax.set_xticks(range(1, most + 1, max(1, most // 16)))
    log = time_scale(ax, points)
    ax.set_xlabel("number of chunks (dotted: multiples of the worker count)")
    ax.set_ylabel(inputs.time_label(log=log))
    legend_outside(figure, where="right upper")
    return figure


def draw_primes_queue(inputs: FigureInputs) -> Figure:
    """Queues of work beside the serial loop and Pool.map."""
    points = points_of(inputs, "primes_queue")
    spec = EXPERIMENTS["primes_queue"]
    figure = Figure(figsize=(8, 3.8), layout="constrained")
    ax = figure.subplots()
    order = {name: index for index, name in enumerate(spec.method_names)}
    points = points.sort_values("method", key=lambda names: names.map(order))
    parallel = is_parallel(points, "primes_queue")
    draw_grouped_dots(ax, points[parallel], "primes_queue")
    draw_one_worker_lines(ax, points[~parallel], "primes_queue")
    log_time_axis(ax)
    ax.set_ylabel(inputs.time_label(log=True))
    legend_outside(figure, ncol=3)
    return figure


def draw_primes_cost(inputs: FigureInputs) -> Figure:
    """What one test costs: time per number tested against n, with √n beside it."""
    points = points_of(inputs, "primes_cost").sort_values("first")
    figure = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = figure.subplots()
    for method, rows in points.groupby("method", sort=False):
        per = 1 / rows["checks"]  # a trial tests `checks` numbers: its time and interval over them
        color, marker = STYLES[method]
        ax.errorbar(rows["first"], rows["median_seconds"] * per,
                    yerr=[side * per for side in interval(rows, "median_seconds", "ci_low", "ci_high")],
                    color=color, marker=marker, markersize=4, capsize=2, label=method_label("primes_cost", method))
    primes = points[points["method"] == "primes"]
    if not primes.empty:
        # trial division's prediction for a prime, through the largest measured point
        anchor = primes.iloc[-1]
        n = primes["first"].to_numpy(dtype=float)
        ax.plot(n, anchor["median_seconds"] / anchor["checks"] * np.sqrt(n / anchor["first"]), color="0.5",
                linestyle=":", label="∝ √n")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n, the first number tested (log scale)")
    ax.set_ylabel("time per number tested (s), log scale")
    legend_outside(figure, where="right upper")
    return figure


def draw_book_primes(inputs: FigureInputs) -> Figure:
    """Chunk sizes, numbers of chunks and queues: this machine beside the book."""
    table = inputs.comparison
    panels = [e for e in ("primes_chunksize", "primes_chunks", "primes_queue")
              if not table[(table["experiment"] == e) & (table["source"] == OURS)].empty]
    figure = Figure(figsize=(4 * len(panels), 5.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, experiment in zip(axes, panels):
        rows = table[(table["experiment"] == experiment) & (table["method"] != "serial")]
        x = {"primes_chunksize": "chunksize", "primes_chunks": "chunks", "primes_queue": "workers"}[experiment]
        rows = rows[rows[x] > 0] if x == "chunksize" else rows
        for (source, method), line in rows.groupby(["source", "method"], sort=False):
            # colour and marker say the method, as in every figure; the line style says the source
            color, marker = STYLES[method]
            line = line.sort_values(x)
            ax.plot(line[x], line["relative"], color=color, marker=marker, markersize=3,
                    linestyle=SOURCE_LINES[source], label=f"{source}: {method_label(experiment, method)}")
        if x == "chunksize":
            ax.set_xscale("log")
        if experiment == "primes_queue":  # a queue of single numbers can be 100× the serial time
            ax.set_yscale("log")
        ax.axhline(1, color="0.7", linewidth=0.8)
        ax.set_xlabel(x)
        ax.set_title(EXPERIMENTS[experiment].title)
        ax.set_ylabel("time / serial time" if experiment == "primes_queue" else "time / fastest time")
        ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15), ncol=1)
    return figure


FIGURES = (
    FigureSpec("primes_pool", ("primes_pool",), draw_primes_pool),
    FigureSpec("primes_chunksize", ("primes_chunksize",), draw_primes_chunksize),
    FigureSpec("primes_chunks", ("primes_chunks",), draw_primes_chunks),
    FigureSpec("primes_queue", ("primes_queue",), draw_primes_queue),
    FigureSpec("primes_cost", ("primes_cost",), draw_primes_cost),
    FigureSpec("book_primes", ("primes_chunksize", "primes_chunks", "primes_queue"), draw_book_primes),
)
