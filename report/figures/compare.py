"""Figures of the cross-machine comparison."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from report.figures.common import METHOD_COLORS, SVG_RC, method_label


def draw_efficiency_by_machine(scaling: pd.DataFrame, experiment: str) -> Figure:
    """Parallel efficiency against workers per physical core: colour by method, line style by machine."""
    rows = scaling[scaling["experiment"] == experiment]
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    ax = figure.subplots()
    machines = list(dict.fromkeys(rows["machine_id"]))
    styles = ["-", "--", ":", "-."]
    for (machine, method), line in rows.groupby(["machine_id", "method"], sort=False):
        line = line.sort_values("workers_per_core")
        ax.plot(line["workers_per_core"], line["efficiency"], marker="o", markersize=4, color=METHOD_COLORS[method],
                linestyle=styles[machines.index(machine) % len(styles)],
                label=f"{machine}: {method_label(experiment, method)}")
    ax.axvline(1, color="0.6", linestyle=":", linewidth=1)
    ax.axhline(1, color="0.7", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("workers per physical core")
    ax.set_ylabel("parallel efficiency")
    ax.set_ylim(0, max(1.1, float(np.nanmax(rows["efficiency"])) * 1.05) if not rows.empty else 1.1)
    ax.legend(fontsize=7, frameon=False)
    return figure


def svg_markup(figure: Figure, salt: str) -> str:
    """A figure as inline SVG markup (no XML prologue), ids salted to stay unique in the page."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**SVG_RC, "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]
