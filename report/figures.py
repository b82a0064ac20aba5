"""Summary tables → SVG figures, with matplotlib's object-oriented API.

:data:`FIGURES` is the list of figures; each names the experiments it draws
from, so a run that skips an experiment skips its figures too. Every figure is
drawn on its own ``Figure`` (no pyplot state carried between figures) and saved
with a per-figure salt for SVG ids, so that several figures can be inlined in
one HTML page without clashing ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments.registry import EXPERIMENTS
from report.book import OURS

#: One colour per method name, in registry order, the same in every figure.
_METHOD_NAMES = list(dict.fromkeys(m.name for e in EXPERIMENTS.values() for m in e.methods))
METHOD_COLORS = {name: matplotlib.colormaps["tab10"](i % 10) for i, name in enumerate(_METHOD_NAMES)}

#: Colour per source in the book comparison.
SOURCE_STYLES = {OURS: ("black", "o", "-"), "ed1": ("tab:purple", "s", ":"), "ed2": ("tab:brown", "^", "--"), "ed3": ("tab:cyan", "D", "-.")}

SVG_RC = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


@dataclass(frozen=True)
class FigureInputs:
    """Everything a figure may draw from."""

    summary: pd.DataFrame
    comparison: pd.DataFrame
    cpus: int
    darts: int


@dataclass(frozen=True)
class FigureSpec:
    name: str
    needs: tuple[str, ...]
    draw: Callable[[FigureInputs], Figure]

    @property
    def title(self) -> str:
        """The first line of the draw function's docstring."""
        return (self.draw.__doc__ or self.name).strip().splitlines()[0]


def _label(experiment: str, method: str) -> str:
    return EXPERIMENTS[experiment].method(method).label


def _mark_cpus(ax: Axes, cpus: int) -> None:
    ax.axvline(cpus, color="0.6", linestyle=":", linewidth=1)
    ax.annotate(f"{cpus} CPUs", (cpus, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                textcoords="offset points", color="0.4", fontsize=8)


def _workers_axis(ax: Axes, workers: Iterable[int]) -> None:
    ticks = sorted(set(workers))
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("workers")


def draw_scaling(inputs: FigureInputs, experiment: str) -> Figure:
    points = inputs.summary[inputs.summary["experiment"] == experiment]
    figure = Figure(figsize=(8, 3.4), layout="constrained")
    time_ax, speed_ax = figure.subplots(1, 2)
    parallel = points[points["method"].map(lambda m: EXPERIMENTS[experiment].method(m).parallel)]
    for method, rows in parallel.groupby("method", sort=False):
        rows = rows.sort_values("workers")
        color = METHOD_COLORS[method]
        label = _label(experiment, method)
        yerr = [rows["median_seconds"] - rows["ci_low"], rows["ci_high"] - rows["median_seconds"]]
        time_ax.errorbar(rows["workers"], rows["median_seconds"], yerr=yerr, color=color, marker="o", capsize=3, label=label)
        speed_err = [rows["speedup"] - rows["speedup_low"], rows["speedup_high"] - rows["speedup"]]
        speed_ax.errorbar(rows["workers"], rows["speedup"], yerr=speed_err, color=color, marker="o", capsize=3, label=label)
    for method, rows in points[~points.index.isin(parallel.index)].groupby("method", sort=False):
        row = rows.iloc[0]
        time_ax.axhline(row["median_seconds"], color=METHOD_COLORS[method], linestyle="--", linewidth=1.2,
                        label=f"{_label(experiment, method)} (one worker)")
        time_ax.axhspan(row["ci_low"], row["ci_high"], color=METHOD_COLORS[method], alpha=0.15, linewidth=0)
    workers = sorted(parallel["workers"].unique())
    ideal = np.array(workers, dtype=float)
    speed_ax.plot(ideal, ideal, color="0.5", linestyle="--", linewidth=1, label="ideal (linear)")
    speed_ax.axhline(1, color="0.7", linewidth=0.8)
    for ax in (time_ax, speed_ax):
        _workers_axis(ax, workers)
        _mark_cpus(ax, inputs.cpus)
    time_ax.set_yscale("log")
    time_ax.set_ylabel("median wall time (s), 95% CI")
    speed_ax.set_ylabel(f"speedup over {_label(experiment, EXPERIMENTS[experiment].baseline)}")
    time_ax.set_title("time")
    speed_ax.set_title("speedup")
    time_ax.legend(fontsize=7, frameon=False)
    speed_ax.legend(fontsize=7, frameon=False)
    return figure


def draw_pi_python(inputs: FigureInputs) -> Figure:
    """Pure-Python π: time and speedup against workers."""
    return draw_scaling(inputs, "pi_python")


def draw_pi_numpy(inputs: FigureInputs) -> Figure:
    """numpy π: time and speedup against workers."""
    return draw_scaling(inputs, "pi_numpy")


def draw_darts(inputs: FigureInputs) -> Figure:
    """Darts in the unit square: inside the quarter circle or not."""
    rng = np.random.default_rng(2014)
    x, y = rng.random((2, inputs.darts))
    inside = x * x + y * y <= 1
    figure = Figure(figsize=(4, 4), layout="constrained")
    ax = figure.subplots()
    ax.scatter(x[inside], y[inside], s=6, color="tab:blue", label="inside")
    ax.scatter(x[~inside], y[~inside], s=6, color="tab:red", marker="x", linewidths=0.8, label="outside")
    angle = np.linspace(0, np.pi / 2, 200)
    ax.plot(np.cos(angle), np.sin(angle), color="black", linewidth=1)
    ax.set_aspect("equal")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"{inputs.darts} darts: π ≈ 4 × {inside.sum()}/{inputs.darts} = {4 * inside.mean():.4f}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return figure


def draw_pi_cache(inputs: FigureInputs) -> Figure:
    """joblib Memory: the first call computes, the second reads the cache."""
    points = inputs.summary[inputs.summary["experiment"] == "pi_cache"]
    figure = Figure(figsize=(5, 3), layout="constrained")
    ax = figure.subplots()
    labels = [f"{_label('pi_cache', m)}\n{w} workers" for m, w in zip(points["method"], points["workers"])]
    errors = [points["median_seconds"] - points["ci_low"], points["ci_high"] - points["median_seconds"]]
    ax.bar(labels, points["median_seconds"], yerr=errors, capsize=4,
           color=[METHOD_COLORS[m] for m in points["method"]])
    ax.set_yscale("log")
    ax.set_ylabel("median wall time (s), 95% CI")
    return figure


def draw_seeding(inputs: FigureInputs) -> Figure:
    """Share of draws that repeat another worker's draw."""
    points = inputs.summary[inputs.summary["experiment"] == "seeding"]
    figure = Figure(figsize=(6, 3), layout="constrained")
    ax = figure.subplots()
    workers = sorted(points["workers"].unique())
    methods = list(dict.fromkeys(points["method"]))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = points[points["method"] == method].set_index("workers").reindex(workers)
        share = rows["median_duplicated_draws"] / rows["median_draws"]
        positions = np.arange(len(workers)) + (i - (len(methods) - 1) / 2) * width
        bars = ax.bar(positions, share, width, color=METHOD_COLORS[method], label=_label("seeding", method))
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in share], fontsize=7)
    ax.set_xticks(np.arange(len(workers)), [f"{w} workers" for w in workers])
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("draws duplicated across workers")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return figure


def draw_book_pi(inputs: FigureInputs) -> Figure:
    """Speedup against workers: this machine beside the book's three editions."""
    table = inputs.comparison
    experiments = list(dict.fromkeys(table.loc[table["source"] == OURS, "experiment"]))
    figure = Figure(figsize=(4 * len(experiments), 3.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(experiments), sharey=True))
    for ax, experiment in zip(axes, experiments):
        rows = table[(table["experiment"] == experiment) & (table["method"] != "serial")]
        for (source, method), line in rows.groupby(["source", "method"], sort=False):
            color, marker, style = SOURCE_STYLES[source]
            line = line.sort_values("workers")
            ax.plot(line["workers"], line["speedup"], color=color, marker=marker, linestyle=style if method == "processes" else (0, (1, 3)),
                    label=f"{source}, {method}", markersize=4)
        workers = sorted(rows["workers"].unique()) if not rows.empty else [1]
        ax.plot(workers, workers, color="0.6", linewidth=0.8, linestyle="--", label="ideal")
        _workers_axis(ax, workers)
        ax.set_title(EXPERIMENTS[experiment].title)
    axes[0].set_ylabel("speedup over serial")
    axes[-1].legend(fontsize=7, frameon=False, ncol=2)
    return figure


FIGURES = (
    FigureSpec("darts", ("pi_python", "pi_numpy"), draw_darts),
    FigureSpec("pi_python", ("pi_python",), draw_pi_python),
    FigureSpec("pi_numpy", ("pi_numpy",), draw_pi_numpy),
    FigureSpec("pi_cache", ("pi_cache",), draw_pi_cache),
    FigureSpec("seeding", ("seeding",), draw_seeding),
    FigureSpec("book_pi", ("pi_python", "pi_numpy"), draw_book_pi),
)


def figures_for(experiments: Mapping[str, object] | Iterable[str]) -> list[str]:
    """Names of the figures a run of these experiments draws."""
    present = set(experiments)
    return [spec.name for spec in FIGURES if present.intersection(spec.needs)]


def draw_figures(inputs: FigureInputs, names: Iterable[str], folder: Path) -> list[Path]:
    """Draw the named figures into ``folder`` as ``<name>.svg``."""
    specs = {spec.name: spec for spec in FIGURES}
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.svg"
        # the salt makes clip-path ids unique across figures inlined in one page
        with matplotlib.rc_context({**SVG_RC, "svg.hashsalt": name}):
            specs[name].draw(inputs).savefig(path, format="svg", metadata={"Date": None})
        paths.append(path)
    return paths
