"""Figures of the sharing family: peak memory of shared against copied arrays,
and the time to fill an array with random numbers over workers."""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.figure import Figure

from report.figures.common import (
    FigureInputs,
    FigureSpec,
    draw_scaling,
    in_method_order,
    legend_outside,
    method_label,
    points_of,
    workers_axis,
)
from report.figures.palette import STYLES

MIB = 2**20

#: What the two rows of the memory figure show: summary column and axis label.
MEMORY_PANELS = (
    ("median_peak_pss_bytes", "peak total PSS of all processes (MiB)"),
    ("median_peak_worker_uss_bytes", "peak USS of the largest worker (MiB)"),
)


def draw_sharing_memory(inputs: FigureInputs) -> Figure:
    """Peak memory against workers: one shared array against a pickled copy per worker."""
    points = in_method_order(points_of(inputs, "numpy_sharing"), "numpy_sharing")
    shapes = sorted({(int(r), int(c)) for r, c in zip(points["rows"], points["columns"])}, key=lambda s: s[0] * s[1])
    figure = Figure(figsize=(8, 3.2 * len(shapes)), layout="constrained")
    axes = np.array(figure.subplots(len(shapes), 2, squeeze=False))
    for row, (rows, columns) in enumerate(shapes):
        shape_points = points[(points["rows"] == rows) & (points["columns"] == columns)]
        array_mib = rows * columns * 8 / MIB
        for column, (value, label) in enumerate(MEMORY_PANELS):
            ax = axes[row, column]
            for method, line in shape_points.groupby("method", sort=False):
                line = line.sort_values("workers")
                color, marker = STYLES[method]
                ax.plot(line["workers"], line[value] / MIB, marker=marker, color=color,
                        label=method_label("numpy_sharing", method))
            ax.axhline(array_mib, color="0.3", linestyle="--", linewidth=1, label="one array")
            workers_axis(ax, shape_points["workers"])
            ax.set_ylim(bottom=0)
            ax.set_ylabel(label)
            ax.set_title(f"{rows:,} × {columns:,} array ({array_mib:,.0f} MiB)", fontsize=9)
    legend_outside(figure, where="right upper")
    return figure


def draw_random_fill(inputs: FigureInputs) -> Figure:
    """Filling an array with random numbers: time and speedup against workers (largest array)."""
    points = points_of(inputs, "random_fill")
    cells = points["rows"] * points["columns"]
    largest = inputs.summary.drop(points[cells < cells.max()].index)
    return draw_scaling(dataclasses.replace(inputs, summary=largest), "random_fill")


FIGURES = (
    FigureSpec("sharing_memory", ("numpy_sharing",), draw_sharing_memory),
    FigureSpec("random_fill", ("random_fill",), draw_random_fill),
)
