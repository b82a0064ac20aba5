"""Figures of the π family: the dart diagram, scaling of pure Python and numpy,
joblib's cache, seeding, and the comparison with the book."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from experiments.registry import EXPERIMENTS
from report.book import OURS
from report.figures.common import (
    FigureInputs,
    FigureSpec,
    draw_grouped_bars,
    draw_scaling,
    draw_time_bars,
    legend_outside,
    method_label,
    percent_axis,
    points_of,
    workers_axis,
)
from report.figures.palette import STYLES

#: Line style per source in the book comparison (colour and marker say the method).
SOURCE_LINES = {OURS: "-", "ed1": ":", "ed2": "--", "ed3": "-."}


def draw_darts(inputs: FigureInputs) -> Figure:
    """Darts in the unit square: inside the quarter circle or not."""
    rng = np.random.default_rng(2014)
    x, y = rng.random((2, inputs.darts))
    inside = x * x + y * y <= 1
    # the darts are one image in the SVG (at 200 dpi), not a marker each: the PDF lays the figure out 0.4 s faster
    figure = Figure(figsize=(4, 4), dpi=200, layout="constrained")
    ax = figure.subplots()
    ax.scatter(x[inside], y[inside], s=6, color="tab:blue", label="inside", rasterized=True)
    ax.scatter(x[~inside], y[~inside], s=6, color="tab:red", marker="x", linewidths=0.8, label="outside", rasterized=True)
    angle = np.linspace(0, np.pi / 2, 200)
    ax.plot(np.cos(angle), np.sin(angle), color="black", linewidth=1)
    ax.set_aspect("equal")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"{inputs.darts} darts: π ≈ 4 × {inside.sum()}/{inputs.darts} = {4 * inside.mean():.4f}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return figure


def draw_pi_python(inputs: FigureInputs) -> Figure:
    """Pure-Python π: time and speedup against workers."""
    return draw_scaling(inputs, "pi_python")


def draw_pi_numpy(inputs: FigureInputs) -> Figure:
    """numpy π: time and speedup against workers."""
    return draw_scaling(inputs, "pi_numpy")


def draw_pi_cache(inputs: FigureInputs) -> Figure:
    """joblib Memory: the first call computes, the second reads the cache."""
    return draw_time_bars(inputs, "pi_cache", width=5.5)


def draw_seeding(inputs: FigureInputs) -> Figure:
    """Share of draws that repeat another worker's draw."""
    points = points_of(inputs, "seeding")
    figure = Figure(figsize=(6, 3), layout="constrained")
    ax = figure.subplots()
    share = points["median_duplicated_draws"] / points["median_draws"]
    draw_grouped_bars(ax, points, "seeding", share, labels=lambda v: f"{v:.0%}")
    ax.set_ylim(0, 1.1)
    percent_axis(ax)
    ax.set_ylabel("draws duplicated across workers")
    legend_outside(figure, where="right upper")
    return figure


def draw_book_pi(inputs: FigureInputs) -> Figure:
    """Speedup against workers: this machine beside the book's three editions."""
    table = inputs.comparison
    # the comparison table holds every family's rows; this figure draws the π ones
    experiments = [e for e in dict.fromkeys(table.loc[table["source"] == OURS, "experiment"]) if EXPERIMENTS[e].family == "pi"]
    figure = Figure(figsize=(4 * len(experiments), 3.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(experiments), sharey=True))
    for ax, experiment in zip(axes, experiments):
        rows = table[(table["experiment"] == experiment) & ~table["method"].isin(["serial", EXPERIMENTS[experiment].baseline])]
        for (source, method), line in rows.groupby(["source", "method"], sort=False):
            # colour and marker say the method, as in every figure; the line style says the source
            color, marker = STYLES[method]
            line = line.sort_values("workers")
            ax.plot(line["workers"], line["speedup"], color=color, marker=marker, markersize=4,
                    linestyle=SOURCE_LINES[source], label=f"{source}: {method_label(experiment, method)}")
        workers = sorted(rows["workers"].unique())
        ax.plot(workers, workers, color="0.6", linewidth=0.8, linestyle="--", label="ideal")
        workers_axis(ax, workers)
        ax.set_title(EXPERIMENTS[experiment].title)
    axes[0].set_ylabel("speedup over serial")
    legend_outside(figure, ncol=4)
    return figure


def draw_cpu_usage(inputs: FigureInputs) -> Figure:
    """Every core's utilisation during one trial of each pool, over time."""
    samples = inputs.core_samples
    samples = samples[samples["experiment"] == "cpu_usage"]
    last = samples.groupby(["method", "workers"])["round"].transform("max")
    samples = samples[samples["round"] == last]
    trials = list(samples.groupby(["method", "workers"], sort=True))
    if not trials:
        figure = Figure(figsize=(8, 1.2), layout="constrained")
        figure.text(0.5, 0.5, "no per-core samples in this run", ha="center", va="center")
        return figure
    cores = int(samples["core"].max()) + 1
    figure = Figure(figsize=(8, 0.35 * cores * len(trials) + 1.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(trials), 1, sharex=True))
    image = None
    for ax, ((method, workers), trial) in zip(axes, trials):
        grid = trial.pivot_table(index="core", columns="seconds", values="percent")
        times = grid.columns.to_numpy(dtype=float)
        image = ax.pcolormesh(np.append(times - 0.1, times[-1]), np.arange(cores + 1), grid.to_numpy(dtype=float),
                              cmap="magma", vmin=0, vmax=100, shading="flat")
        ax.set_yticks(np.arange(cores) + 0.5, [str(c) for c in range(cores)])
        ax.set_ylabel("core", fontsize=7)
        ax.set_title(f"{method_label('cpu_usage', method)}, {workers} worker{'s' if workers > 1 else ''}",
                     fontsize=8, loc="left")
    axes[-1].set_xlabel("seconds into the trial")
    if image is not None:
        figure.colorbar(image, ax=list(axes), label="core utilisation (%)", shrink=0.6)
    return figure


FIGURES = (
    FigureSpec("darts", ("pi_python", "pi_numpy"), draw_darts),
    FigureSpec("pi_python", ("pi_python",), draw_pi_python),
    FigureSpec("pi_numpy", ("pi_numpy",), draw_pi_numpy),
    FigureSpec("pi_cache", ("pi_cache",), draw_pi_cache),
    FigureSpec("seeding", ("seeding",), draw_seeding),
    FigureSpec("book_pi", ("pi_python", "pi_numpy"), draw_book_pi),
    FigureSpec("cpu_usage", ("cpu_usage",), draw_cpu_usage),
)
