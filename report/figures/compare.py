"""Figures of the cross-machine comparison."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from report.figures.common import SVG_RC, add_hover_titles, hover_title, method_label
from report.figures.palette import STYLES

#: Line style per run, in the order the runs are compared.
RUN_LINES = ("-", "--", ":", "-.")


def draw_efficiency_by_machine(scaling: pd.DataFrame, experiment: str) -> Figure:
    """Speedup per usable CPU against workers per usable CPU: colour and marker by method, line style by run.

    The legend lists the methods and the runs apart (one entry each), outside the axes.
    """
    rows = scaling[scaling["experiment"] == experiment]
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    ax = figure.subplots()
    machines = list(dict.fromkeys(rows["machine_id"]))
    methods = list(dict.fromkeys(rows["method"]))
    for (machine, method), line in rows.groupby(["machine_id", "method"], sort=False):
        line = line.sort_values("workers_per_cpu")
        color, marker = STYLES[method]
        ax.plot(line["workers_per_cpu"], line["cpu_efficiency"], color=color, marker=marker, markersize=4,
                linestyle=RUN_LINES[machines.index(machine) % len(RUN_LINES)])
        for point in line.itertuples():
            (dot,) = ax.plot([point.workers_per_cpu], [point.cpu_efficiency], linestyle="none", marker=marker,
                             markersize=4, color=color)
            hover_title(figure, dot, f"{machine}: {method_label(experiment, method)}, {point.workers} workers: "
                                     f"speedup {point.speedup:.3g}×, {point.cpu_efficiency:.0%} of the usable CPUs")
    ax.axvline(1, color="0.6", linestyle=":", linewidth=1)
    ax.axhline(1, color="0.7", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("workers per usable CPU (log scale; at 1 the workers fill the CPUs)")
    ax.set_ylabel("speedup ÷ min(workers, usable CPUs)")
    ax.set_ylim(0, max(1.1, float(np.nanmax(rows["cpu_efficiency"])) * 1.05) if not rows.empty else 1.1)
    handles = [Line2D([], [], color=STYLES[m].color, marker=STYLES[m].marker, linestyle="none",
                      label=method_label(experiment, m)) for m in methods]
    handles += [Line2D([], [], color="0.3", linestyle=RUN_LINES[i % len(RUN_LINES)], label=machine)
                for i, machine in enumerate(machines)]
    figure.legend(handles=handles, loc="outside right upper", fontsize=7, frameon=False)
    return figure


def svg_markup(figure: Figure, salt: str) -> str:
    """A figure as inline SVG markup (no XML prologue) with its hover titles, ids salted to stay unique in the page."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**SVG_RC, "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = add_hover_titles(buffer.getvalue(), figure, salt)
    return text[text.index("<svg"):]
