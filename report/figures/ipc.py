"""Figures of the prime-verification family: time per number and method, the
start methods side by side, and the smallest factors of the non-primes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.ipc import METHODS, SERIAL_CUTOFF, START_METHODS
from report.book.ipc import in_role_order, roles_of
from report.figures.common import FigureInputs, FigureSpec, draw_grouped_dots, legend_outside, log_time_axis, percent_axis, points_of

METHOD_ORDER = {method.name: index for index, method in enumerate(METHODS)}


def smallest_factors(bound: int) -> np.ndarray:
    """The smallest prime factor of every n < ``bound`` (0 where n is 0, 1 or prime): a sieve."""
    factors = np.zeros(bound, dtype=np.int32)
    for p in range(2, int(bound**0.5) + 1):
        if factors[p]:
            continue  # not a prime
        multiples = factors[p * p::p]  # a view: assigning through it fills ``factors``
        multiples[multiples == 0] = p
    return factors


def _number_labels(points: pd.DataFrame) -> dict[int, str]:
    """Each number's label (its role and digits), in the book's order of roles."""
    roles = roles_of(points)
    return {number: f"{roles[number]}\n{number}" for number in in_role_order(roles)}


def _time_dots(ax, inputs: FigureInputs, points: pd.DataFrame, experiment: str, **grouping) -> None:
    # dots and legend in the methods' order, whatever order the trials ran in
    points = points.sort_values("method", key=lambda names: names.map(METHOD_ORDER.get), kind="stable")
    draw_grouped_dots(ax, points, experiment, **grouping)
    log_time_axis(ax)
    ax.set_ylabel(inputs.time_label(log=True))


def draw_ipc_flags(inputs: FigureInputs) -> Figure:
    """Time to verify each number, per method (log scale)."""
    points = points_of(inputs, "ipc_flags")
    labels = _number_labels(points)
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    ax = figure.subplots()
    _time_dots(ax, inputs, points, "ipc_flags", group="number", order=list(labels), group_label=labels.get)
    ax.tick_params(axis="x", labelsize=7)
    legend_outside(figure, where="right upper")
    return figure


def draw_ipc_contexts(inputs: FigureInputs) -> Figure:
    """Time per method under each start method, one panel per number (log scale)."""
    points = points_of(inputs, "ipc_contexts")
    labels = _number_labels(points)
    numbers = list(labels)
    figure = Figure(figsize=(10, 2.6 * len(numbers)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(numbers), 1, sharey=True))
    contexts = [c for c in START_METHODS if c in set(points["context"])]
    for ax, number in zip(axes, numbers):
        _time_dots(ax, inputs, points[points["number"] == number], "ipc_contexts", group="context", order=contexts)
        ax.set_title(labels[number].replace("\n", ": "), fontsize=9)
    legend_outside(figure, where="right upper")
    return figure


def draw_smallest_factors(inputs: FigureInputs) -> Figure:
    """Smallest factors of the non-primes: most are tiny."""
    bound = inputs.smallest_factor_bound
    factors = smallest_factors(bound)
    counts = np.bincount(factors[factors > 0])
    primes = np.flatnonzero(counts)
    share = np.cumsum(counts[primes]) / counts.sum()
    below_cutoff = share[np.searchsorted(primes, SERIAL_CUTOFF) - 1]
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    ax = figure.subplots()
    ax.step(primes, share, where="post", color="tab:blue")
    ax.axvline(SERIAL_CUTOFF, color="0.5", linestyle=":", linewidth=1)
    ax.annotate(f"{below_cutoff:.1%} have a factor below {SERIAL_CUTOFF}", (SERIAL_CUTOFF, below_cutoff),
                xytext=(6, -14), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    ax.set_xlabel("smallest prime factor p")
    ax.set_ylabel(f"non-primes below {bound:,}\nwith smallest factor ≤ p")
    return figure


FIGURES = (
    FigureSpec("ipc_flags", ("ipc_flags",), draw_ipc_flags),
    FigureSpec("ipc_contexts", ("ipc_contexts",), draw_ipc_contexts),
    FigureSpec("smallest_factors", ("ipc_flags", "ipc_contexts"), draw_smallest_factors),
)
