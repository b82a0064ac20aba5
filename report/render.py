"""Analysis tables + figures → the report: HTML from Jinja2 templates.

The templates only look numbers up (through :class:`ExperimentView`); every
figure in the prose comes from the summary table, none is typed by hand. The
HTML is self-contained (CSS and SVG figures inline), so it opens from the file
system with no server and no network; the PDF (:mod:`report.pdf`) is
WeasyPrint's rendering of the same HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import base64
import html
import math
import re

import jinja2
import pandas as pd
import yaml

from experiments.interpreters import MAIN
from experiments.registry import EXPERIMENTS
from experiments.spec import START_METHODS, Experiment
from report.analysis import parallel_cores, rank_methods
from report.book.common import OURS
from report.claims.common import below
from report.claims.pi import THREAD_GAIN
from report.load import EXTRA_COLUMNS, TIDY_COLUMNS

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: A figure's title in its SVG (report/figures/__init__.py writes it there); matplotlib writes it before the
#: title of its own name as the file's creator.
SVG_TITLE = re.compile(r"<dc:title>(.*?)</dc:title>", re.S)


# --- number formatting (template filters) ------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def format_seconds(value: float | None) -> str:
    """Seconds with three significant figures, in ms or µs when small."""
    if _missing(value):
        return "n/a"
    if value >= 1 or value == 0:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def format_ratio(value: float | None) -> str:
    return "n/a" if _missing(value) else f"{value:.2f}×"


def format_percent(value: float | None) -> str:
    return "n/a" if _missing(value) else f"{value:.0%}"


def format_bytes(value: float | None) -> str:
    if _missing(value):
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            # three significant figures, but never "1e+03" for 1000 to 1023
            return f"{value:.3g} {unit}" if unit != "B" and value < 1000 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_count(value: float | None) -> str:
    return "n/a" if _missing(value) else f"{value:,.0f}"


def format_counted(value: float | None, noun: str) -> str:
    """A count with its noun, in the plural unless it is one: "1 trial", "3 trials"."""
    return "n/a" if _missing(value) else f"{format_count(value)} {noun}{'' if value == 1 else 's'}"


def divided(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing (a point without usable trials) or it is 0."""
    if _missing(numerator) or _missing(denominator) or denominator == 0:
        return None
    return numerator / denominator


def format_yes_no(value: float | None) -> str:
    """A 0/1 measurement (or its median) as yes or no."""
    return "n/a" if _missing(value) else ("yes" if value >= 0.5 else "no")


def _decimals(low: float, high: float) -> int | None:
    """Decimal places that give the interval's width two significant digits (negative: round to tens...)."""
    width = abs(high - low)
    if width == 0 or not math.isfinite(width):
        return None
    return 1 - math.floor(math.log10(width))


def _rounded(value: float, decimals: int) -> str:
    text = f"{round(value, decimals):.{max(decimals, 0)}f}"
    # a bound rounded to zero hides its side of zero: keep its first significant digit instead
    return f"{value:.1g}" if float(text) == 0 and value != 0 else text


def format_estimate(value: float | None, low: float | None = None, high: float | None = None,
                    unit: str = "") -> str:
    """A value with its interval, rounded to the interval's precision: "58× [4, 73]", not "57.60× [3.78, 72.5]".

    Without an interval, or with one of zero width, three significant figures.
    """
    if _missing(value):
        return "n/a"
    if _missing(low) or _missing(high):
        return f"{value:.3g}{unit}"
    decimals = _decimals(low, high)
    if decimals is None:
        return f"{value:.3g}{unit} [{low:.3g}, {high:.3g}]"
    return f"{_rounded(value, decimals)}{unit} [{_rounded(low, decimals)}, {_rounded(high, decimals)}]"


FILTERS = {
    "seconds": format_seconds,
    "ratio": format_ratio,
    "percent": format_percent,
    "bytes": format_bytes,
    "count": format_count,
    "counted": format_counted,
    "over": divided,  # {{ a | over(b) | ratio }}: a / b, or n/a
    "yes_no": format_yes_no,
    "estimate": format_estimate,
}
# ``value | formatted(kind)``: the filter a table column names by its kind
FILTERS["formatted"] = lambda value, kind: FILTERS[kind](value)


# --- what the templates read -------------------------------------------------------

#: What every trial measures that a section may show (``Experiment.shown``): summary column, heading, filter.
TRIAL_MEASURES = {
    "cpu_utilisation": ("cpu_utilisation", "CPU use", "ratio"),
    "peak_pss_bytes": ("median_peak_pss_bytes", "peak PSS", "bytes"),
    "peak_worker_uss_bytes": ("median_peak_worker_uss_bytes", "largest worker USS", "bytes"),
}


def shown_measures(experiment: Experiment) -> tuple[tuple[str, str, str], ...]:
    """Beside time and speedup, what the section's table of ``experiment`` shows: (summary column, heading, filter)."""
    declared = {column.name: column for column in experiment.measurements}
    shown = []
    for name in experiment.shown:
        if name in TRIAL_MEASURES:
            shown.append(TRIAL_MEASURES[name])
            continue
        if name not in declared:
            raise ValueError(f"{experiment.name} shows {name!r}, which is neither one of its measurements nor one of"
                             f" every trial's ({', '.join(TRIAL_MEASURES)})")
        column = declared[name]
        kind = "yes_no" if column.type == "yes/no" else {"s": "seconds", "bytes": "bytes"}.get(column.unit, "count")
        shown.append((f"median_{name}", column.heading, kind))
    return tuple(shown)


#: Per experiment, what its section's table shows beside time and speedup.
MEASURES = {name: shown_measures(experiment) for name, experiment in EXPERIMENTS.items()}


#: The columns every point's full row shows (in the appendix), after time and speedup.
FULL_MEASURES = (
    ("efficiency", "efficiency", "percent"),
    ("serial_fraction", "serial fraction", "percent"),
    ("cpu_utilisation", "CPU use", "ratio"),
    ("median_peak_pss_bytes", "peak PSS", "bytes"),
)


class ExperimentView:
    """One experiment's summary rows, looked up by method and workers."""

    def __init__(self, name: str, summary: pd.DataFrame):
        self.name = name
        self.experiment = EXPERIMENTS[name]
        order = {method: index for index, method in enumerate(self.experiment.method_names)}
        rows = summary[summary["experiment"] == name].to_dict("records")
        params = self.experiment.params
        self.rows = sorted(rows, key=lambda row: (order[row["method"]], *(row[p] for p in params), row["workers"]))

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(row["method"] for row in self.rows))

    @property
    def parallel_methods(self) -> list[str]:
        """The measured methods that spread their work over workers."""
        return [method for method in self.methods if self.experiment.method(method).parallel]

    def label(self, method: str) -> str:
        return self.experiment.method(method).label

    @property
    def start_method_methods(self) -> list[str]:
        """The methods measured that use a start method (those on the start-method axis)."""
        return [method for method in self.methods if self.experiment.method(method).uses_start_method]

    @property
    def workers(self) -> list[int]:
        """Worker counts of the parallel methods, ascending."""
        return sorted({int(r["workers"]) for r in self.rows if self.experiment.method(r["method"]).parallel})

    def workers_near(self, count: int) -> int | None:
        """The measured worker count closest to ``count`` from below (or the smallest)."""
        below = [w for w in self.workers if w <= count]
        return max(below) if below else (self.workers[0] if self.workers else None)

    def matching(self, **conditions: Any) -> list[dict[str, Any]]:
        """Rows whose columns equal every condition (e.g. ``method="ordered", chunksize=0``)."""
        return [row for row in self.rows if all(row.get(key) == value for key, value in conditions.items())]

    def point(self, method: str, workers: int | None = 1, **params: Any) -> dict[str, Any] | None:
        """The row of ``method`` at ``workers`` (and at the given parameter values, where a grid has several)."""
        rows = self.matching(method=method, workers=workers, **params)
        return rows[0] if rows else None

    def value(self, column: str, method: str, workers: int | None = 1, **params: Any) -> float | None:
        row = self.point(method, workers, **params)
        return None if row is None else row.get(column)

    def distinct(self, column: str) -> list[Any]:
        """The values ``column`` takes over the experiment's rows, ascending."""
        return sorted({row[column] for row in self.rows if not _missing(row.get(column))})

    @property
    def varying_params(self) -> list[str]:
        """The experiment's parameters that take more than one value in this run."""
        return [name for name in self.experiment.params if len(self.distinct(name)) > 1]

    def median(self, method: str, workers: int | None = 1, **params: Any) -> float | None:
        return self.value("median_seconds", method, workers, **params)

    def best_and_worst_speedup(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The parallel point with the largest speedup, and the point of the least speedup at its worker count."""
        rows = [r for r in self.rows if self.experiment.method(r["method"]).parallel and not _missing(r.get("speedup"))]
        if not rows:
            return None
        best = max(rows, key=lambda r: r["speedup"])
        worst = min((r for r in rows if r["workers"] == best["workers"]), key=lambda r: r["speedup"])
        return best, worst

    def fastest_everywhere(self) -> str | None:
        """The method that is clearly fastest at every worker count, if one is (see :meth:`clearly_fastest`)."""
        winners = [self.clearly_fastest(workers=w) for w in self.workers]
        methods = {row["method"] for row in winners if row}
        return methods.pop() if len(methods) == 1 and all(winners) else None

    def clearly_fastest(self, **conditions: Any) -> dict[str, Any] | None:
        """The fastest row among those matching ``conditions``, if its interval lies below every other's."""
        best = self.fastest(**conditions)
        others = [r for r in self.matching(**conditions) if r is not best and not _missing(r["median_seconds"])]
        if best is None or not has_interval(best) or not all(has_interval(r) for r in others):
            return None
        return best if all(best["ci_high"] < r["ci_low"] for r in others) else None

    def table_rows(self, full: bool = False) -> list[dict[str, Any]]:
        """The rows of this experiment's table: all of them, but for a sweep's section table (``Experiment.swept``)."""
        swept = self.experiment.swept
        if full or swept is None:
            return self.rows
        kept = []
        for method in self.methods:
            for workers in self.distinct("workers"):
                rows = self.matching(method=method, workers=workers)
                timed = [r for r in rows if not _missing(r["median_seconds"])]
                if timed:
                    ends = {id(min(timed, key=lambda r: r["median_seconds"])), id(max(timed, key=lambda r: r["median_seconds"]))}
                    # the default chunk size (0: none given) stays too: the sections discuss it
                    kept += [r for r in rows if id(r) in ends or r.get(swept) == 0]
        return kept

    def has(self, column: str) -> bool:
        """Whether any row has a value in ``column`` (a table shows no column of n/a only)."""
        return any(not _missing(row.get(column)) for row in self.rows)

    def table_columns(self, full: bool = False) -> list[dict[str, str]]:
        """The columns of this experiment's table: ``kind`` says how the macro renders each.

        The section's table shows the time, the speedup where there is one and the
        experiment's own measurements; the full table (``full``) adds every other
        column that has a value. A column without any value is left out, and so
        are the flags (the appendix lists the flagged points).
        """
        columns = [{"key": "method", "heading": "method", "kind": "label"},
                   {"key": "workers", "heading": "workers", "kind": "count"},
                   *({"key": name, "heading": name, "kind": "param"} for name in self.varying_params)]
        if full:
            columns.append({"key": "trials", "heading": "trials", "kind": "trials"})
        columns.append({"key": "median_seconds", "heading": "median time", "kind": "interval"})
        if self.has("speedup"):
            columns.append({"key": "speedup", "heading": "speedup", "kind": "speedup"})
        measures = list(MEASURES.get(self.name, ()))
        if full:
            measures += [m for m in FULL_MEASURES if m[0] not in {key for key, _, _ in measures}]
        elif self.has("speedup") and self.experiment.baseline:
            measures.insert(0, ("efficiency", "efficiency", "percent"))
        # flags are listed once, in the appendix's table of flagged points
        return columns + [{"key": key, "heading": heading, "kind": kind} for key, heading, kind in measures if self.has(key)]

    def values(self, column: str) -> list[Any]:
        """The distinct values of a column (e.g. a parameter), in the order of the rows."""
        return list(dict.fromkeys(row[column] for row in self.rows if not _missing(row.get(column))))

    def speedup(self, method: str, workers: int | None, **params: Any) -> float | None:
        return self.value("speedup", method, workers, **params)

    def efficiency(self, method: str, workers: int | None, **params: Any) -> float | None:
        return self.value("efficiency", method, workers, **params)

    def fastest(self, **conditions: Any) -> dict[str, Any] | None:
        """The row with the smallest median time, among those matching ``conditions``."""
        timed = [r for r in self.matching(**conditions) if not _missing(r["median_seconds"])]
        return min(timed, key=lambda r: r["median_seconds"]) if timed else None

    def slowest(self, **conditions: Any) -> dict[str, Any] | None:
        """The row with the largest median time, among those matching ``conditions``."""
        timed = [r for r in self.matching(**conditions) if not _missing(r["median_seconds"])]
        return max(timed, key=lambda r: r["median_seconds"]) if timed else None


def flagged_points(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """The points with a flag, an implausible value or answers wrong by design, each with its reasons in ``why``."""
    flagged = []
    for row in summary.to_dict("records"):
        reasons = [text for text in (row.get("flags"), row.get("implausible")) if not _missing(text) and text]
        if row.get("known_wrong") is True:
            reasons.append("answers wrong by design")
        if reasons:
            flagged.append({**row, "why": "; ".join(reasons)})
    return flagged


def failed_points(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """The points, on every interpreter, whose timed trials failed: an error, or an answer that failed its check.

    Each row has its first error in ``why`` ("wrong answer" when the trial raised
    nothing). Methods wrong by design are not here: failing is what they show.
    """
    failed = summary[summary["wrong_trials"].fillna(0).astype(int) > 0]
    return [{**row, "why": row["error"] if not _missing(row["error"]) and row["error"] else "wrong answer"}
            for row in failed.to_dict("records")]


def verdict_tally(claims: pd.DataFrame) -> list[dict[str, Any]]:
    """How many claims got each verdict, most common first."""
    counts = claims["verdict"].value_counts()
    return [{"verdict": verdict, "count": int(count)} for verdict, count in counts.items()]


#: The claims the first screen shows as findings, in this order, where the run tested them:
#: the ones a reader deciding between methods needs (pools, threads, queues, shared state).
KEY_FINDINGS = (
    "processes-linear",
    "threads-no-gain",
    "numpy-threads-help",
    "batched-queue-pays-off",
    "manager-queue-slower-than-serial",
    "memory-flags-beat-manager",
    "redis-incr-slower",
    "shared-array-one-copy",
)


def key_findings(claims: pd.DataFrame) -> list[dict[str, Any]]:
    """The claims of :data:`KEY_FINDINGS` that this run could test, in that order."""
    from report.claims.common import NOT_RUN

    tested = claims[claims["verdict"] != NOT_RUN].set_index("claim", drop=False)
    return [tested.loc[name].to_dict() for name in KEY_FINDINGS if name in tested.index]


def machine_quiet(trials: pd.DataFrame | None) -> dict[str, Any] | None:
    """How much else ran during the timed trials, from the per-trial disturbance columns.

    ``None`` when the trials do not record them (runs made before they existed, whose
    columns are missing or empty).
    """
    columns = ["disturbed", "foreign_cpu_seconds", "steal_seconds"]
    # a table read from an older run may carry the columns, empty
    if trials is None or not all(column in trials for column in columns) or not trials[columns].notna().any().all():
        return None
    timed = trials[~trials["warmup"].astype(bool)]
    disturbed = timed["disturbed"].fillna(False).astype(bool)
    return {
        "trials": len(timed),
        "disturbed": int(disturbed.sum()),
        "foreign_cpu_seconds": float(timed["foreign_cpu_seconds"].sum()),
        "steal_seconds": float(timed["steal_seconds"].sum()),
        "timed_seconds": float(timed["seconds"].sum()),
    }


#: The tables that travel with the report (HTML downloads, PDF attachments), when beside it.
DATA_FILES = ("trials.csv", "summary.csv", "claims.csv", "book_comparison.csv")


def data_downloads(folder: Path) -> list[dict[str, Any]]:
    """The data files found in ``folder``, each with a ``data:`` URI that embeds it."""
    found = []
    for name in DATA_FILES:
        path = folder / name
        if path.is_file():
            payload = base64.b64encode(path.read_bytes()).decode("ascii")
            found.append({"name": name, "bytes": path.stat().st_size, "uri": f"data:text/csv;base64,{payload}"})
    return found


def has_interval(row: Mapping[str, Any]) -> bool:
    """Whether a point has an interval to show: bounds, and a level above zero where the summary records one."""
    level = row.get("interval_level")
    bounds = not (_missing(row.get("ci_low")) or _missing(row.get("ci_high")))
    return bounds and (_missing(level) or level > 0)


def figure_markup(svg: str) -> str:
    """The SVG of a figure, without its XML prologue, for inlining."""
    return svg[svg.index("<svg"):]


def figure_title(svg: str) -> str:
    """The title the figures step wrote into a figure's SVG metadata (``<dc:title>``)."""
    title = SVG_TITLE.search(svg)
    return html.unescape(title.group(1)) if title else ""


def book_rows_function(comparison: pd.DataFrame):
    """``book_rows(experiment, keys)`` for the templates: one row per key, one cell per source."""

    def book_rows(experiment: str, keys: tuple[str, ...] = ("method", "workers")) -> list[dict[str, Any]]:
        frame = comparison[comparison["experiment"] == experiment]
        order = {name: index for index, name in enumerate(EXPERIMENTS[experiment].method_names)}
        rows = []
        for key, group in frame.groupby(list(keys), sort=False):
            rows.append({**dict(zip(keys, key)), "cells": {r["source"]: r for r in group.to_dict("records")}})
        return sorted(rows, key=lambda row: (order.get(row["method"], len(order)), *(row[k] for k in keys[1:])))

    return book_rows


def book_rankings_function(comparison: pd.DataFrame, cores: Mapping[str, int]):
    """``book_rankings(experiment)``: each source's parallel methods from fastest to slowest at its own cores.

    Each source ranks as :func:`report.analysis.rank_methods` does, at its
    physical cores (``cores``), so every ranking is the one its machine could
    give at full use. ``same`` says whether it matches ours.
    """

    def book_rankings(experiment: str) -> list[dict[str, Any]]:
        frame = comparison[(comparison["experiment"] == experiment) & (comparison["workers"] > 1)]
        rankings = []
        for source, rows in frame.groupby("source", sort=False):
            ranked = rank_methods(rows, cores.get(source, 1), seconds="seconds")
            if not ranked.empty:
                rankings.append({"source": source, "workers": int(ranked["workers"].max()),
                                 "methods": list(ranked["method"])})
        ours = next((r["methods"] for r in rankings if r["source"] == OURS), None)
        return [{**r, "same": r["methods"] == ours} for r in rankings]

    return book_rankings


def axis_values(axes_summary: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """Per grid axis, the experiments measured at more than one of its values, with those values.

    ``start_methods``: start methods of the methods on that axis, on interpreter
    main. ``interpreters``: the interpreters that ran the experiment, main first.
    """
    on_axis = [EXPERIMENTS[experiment].method(method).uses_start_method
               for experiment, method in zip(axes_summary["experiment"], axes_summary["method"], strict=True)]
    main = axes_summary[(axes_summary["interpreter"] == MAIN).to_numpy(dtype=bool) & on_axis]
    found: dict[str, dict[str, list[str]]] = {"start_methods": {}, "interpreters": {}}
    for experiment in EXPERIMENTS:
        start_methods = list(dict.fromkeys(main.loc[main["experiment"] == experiment, "start_method"]))
        interpreters = list(dict.fromkeys(axes_summary.loc[axes_summary["experiment"] == experiment, "interpreter"]))
        if len(start_methods) > 1:
            found["start_methods"][experiment] = sorted(start_methods, key=START_METHODS.index)
        if len(interpreters) > 1:
            found["interpreters"][experiment] = sorted(interpreters, key=lambda name: name != MAIN)
    return found


def claim_lookup(claims: pd.DataFrame):
    """``claim(id)`` for the templates: the claim's row (verdict, value, interval), or an empty one."""
    rows = {row["claim"]: row for row in claims.to_dict("records")}
    return lambda claim_id: rows.get(claim_id, {"verdict": None})


def interval_side(low: float | None, high: float | None, reference: float = 1.0) -> str | None:
    """Where an interval lies against ``reference``: "above", "below", "across" it, or None without an interval.

    A sentence that states a direction ("faster", "beat") takes it from here, never from a point estimate.
    """
    if _missing(low) or _missing(high):
        return None
    return "above" if low > reference else "below" if high < reference else "across"


def forkserver_changes(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Points whose time under forkserver differs from fork's beyond the interval of their paired ratio."""
    if "vs_fork" not in summary:
        return []
    rows = summary[(summary["start_method"] == "forkserver") & summary["vs_fork"].notna()]
    changed = rows[(rows["vs_fork_low"] > 1) | (rows["vs_fork_high"] < 1)]
    return changed.sort_values(["experiment", "interpreter", "method", "workers"]).to_dict("records")


def build_context(
    *,
    summary: pd.DataFrame,
    axes_summary: pd.DataFrame,
    comparison: pd.DataFrame,
    claims: pd.DataFrame,
    quality: Mapping[str, Any],
    run: Mapping[str, Any],
    config: Mapping[str, Any],
    figures_dir: Path,
    figure_names: list[str],
    book_meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the templates may use, but the run's data files (see :func:`run_data`)."""
    svgs = {name: (figures_dir / f"{name}.svg").read_text() for name in figure_names}
    views = {name: ExperimentView(name, summary) for name in EXPERIMENTS}
    jobs = run["jobs"]
    # the workflow's own interpreter describes the run (the machine fingerprint includes it)
    first_job = next(job for job in jobs.values() if job["interpreter"]["name"] == MAIN and not job.get("skipped"))
    return {
        "experiments": [EXPERIMENTS[name] for name in EXPERIMENTS if views[name]],
        "views": views,
        "axes_views": {name: ExperimentView(name, axes_summary) for name in EXPERIMENTS},
        "axes": axis_values(axes_summary),
        "forkserver_changes": forkserver_changes(axes_summary),
        "interpreters": run["interpreters"],
        # the threads-no-gain claim's test, applied on every interpreter the run used
        "thread_gain": THREAD_GAIN,
        "threads_gain_verdict": lambda row: below(THREAD_GAIN, row["speedup"], row["speedup_low"], row["speedup_high"]),
        "main_interpreter": MAIN,
        "summary": summary.to_dict("records"),
        "flagged": flagged_points(summary),
        "failures": failed_points(axes_summary),
        "comparison": comparison.to_dict("records"),
        "claims": claims.to_dict("records"),
        # a sentence that states a direction takes it from the claim's verdict, as the claims table does
        "claim": claim_lookup(claims),
        "side": interval_side,
        "has_interval": has_interval,
        "tally": verdict_tally(claims),
        "findings": key_findings(claims),
        "book_rows": book_rows_function(comparison),
        "book_rankings": book_rankings_function(comparison, {**book_meta["physical_cores"], OURS: parallel_cores(run["machine"])}),
        "book_sources": list(dict.fromkeys(comparison["source"])),
        "ours": OURS,
        "overlaps": quality["overlapping_trials"],
        # per experiment, the trials set aside for outside load; per job, how its rounds ended
        "disturbance": quality.get("disturbance", {}),
        "convergence": quality.get("convergence", {}),
        "machine": run["machine"],
        "machine_id": run["machine_id"],
        "jobs": jobs,
        "job": first_job,
        "config": config,
        # the confidence level of every interval, as the prose and tables name it
        "ci": format_percent(config["analysis"]["confidence"]),
        "config_yaml": yaml.safe_dump(dict(config), sort_keys=False),
        "figures": {name: figure_markup(svg) for name, svg in svgs.items()},
        "figure_titles": {name: figure_title(svg) for name, svg in svgs.items()},
        "book": book_meta,
        "tidy_columns": {**TIDY_COLUMNS, **EXTRA_COLUMNS},
    }


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.tests["missing"] = _missing  # {% if value is missing %}: None, NaN or pd.NA
    return env


def run_data(folder: Path) -> dict[str, Any]:
    """What the report takes from the run folder itself: its data files, embedded, and how quiet the machine was."""
    from report.load import read_table

    trials = folder / "trials.csv"
    return {"downloads": data_downloads(folder), "quiet": machine_quiet(read_table(trials) if trials.is_file() else None)}


def render_html(context: Mapping[str, Any], path: Path) -> None:
    """The report, written to ``path`` in its run folder, whose data files it embeds."""
    html = environment().get_template("report.html.j2").render(**context, **run_data(path.parent))
    path.write_text(html)


def render_compare_html(run_folders: list[Path], path: Path) -> None:
    """The cross-machine comparison of several machines' runs of the same name."""
    from report import compare
    from report.figures.compare import draw_efficiency_by_machine, svg_markup

    runs = [compare.load_run(folder) for folder in run_folders]
    shared, left_out = compare.shared_points(runs)
    scaling = compare.normalised_scaling(shared, runs)
    figures = {experiment: svg_markup(draw_efficiency_by_machine(scaling, experiment), f"compare-{experiment}")
               for experiment in dict.fromkeys(scaling["experiment"])}
    ratios = compare.point_ratios(shared, runs)
    context = {
        "runs": runs,
        "what": compare.what_differs(runs),
        "rankings": compare.rankings(shared, runs).to_dict("records"),
        "claims": compare.claim_verdicts(runs).to_dict("records"),
        "untested": compare.UNTESTED,
        "ratios": {experiment: rows.to_dict("records") for experiment, rows in ratios.groupby("experiment", sort=False)},
        "left_out": left_out.to_dict("records"),
        "figures": figures,
        "titles": {name: experiment.title for name, experiment in EXPERIMENTS.items()},
        "labels": {name: {m.name: m.label for m in experiment.methods} for name, experiment in EXPERIMENTS.items()},
    }
    path.write_text(environment().get_template("compare.html.j2").render(**context))
