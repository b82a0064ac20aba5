"""Analysis tables + figures → the report: HTML from Jinja2 templates, then PDF.

The templates only look numbers up (through :class:`ExperimentView`); every
figure in the prose comes from the summary table, none is typed by hand. The
HTML is self-contained (CSS and SVG figures inline), so it opens from the file
system with no server and no network; the PDF is WeasyPrint's rendering of the
same HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml

from experiments.interpreters import MAIN
from experiments.registry import EXPERIMENTS
from experiments.spec import START_METHODS
from report.book.common import OURS
from report.claims.common import below
from report.claims.pi import THREAD_GAIN
from report.load import EXTRA_COLUMNS, TIDY_COLUMNS

TEMPLATES = Path(__file__).resolve().parent / "templates"


# --- number formatting (template filters) ------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def format_seconds(value: float | None) -> str:
    """Seconds with three significant figures, in ms or µs when small."""
    if _missing(value):
        return "n/a"
    if value >= 1:
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


def format_yes_no(value: float | None) -> str:
    """A 0/1 measurement (or its median) as yes or no."""
    return "n/a" if _missing(value) else ("yes" if value >= 0.5 else "no")


FILTERS = {
    "seconds": format_seconds,
    "ratio": format_ratio,
    "percent": format_percent,
    "bytes": format_bytes,
    "count": format_count,
    "yes_no": format_yes_no,
}


# --- what the templates read -------------------------------------------------------


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


def figure_markup(figures_dir: Path, name: str) -> str:
    """The SVG of a figure, without its XML prologue, for inlining."""
    text = (figures_dir / f"{name}.svg").read_text()
    return text[text.index("<svg"):]


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
    """``book_rankings(experiment)``: each source's methods from fastest to slowest at its own cores.

    Sources compare at the largest worker count they measured that does not
    exceed their physical cores (``cores``), so every ranking is the one its
    machine could give at full use. ``same`` says whether it matches ours.
    """

    def book_rankings(experiment: str) -> list[dict[str, Any]]:
        frame = comparison[(comparison["experiment"] == experiment) & (comparison["workers"] > 1)]
        rankings = []
        for source, rows in frame.groupby("source", sort=False):
            fitting = rows[rows["workers"] <= cores.get(source, 1)]
            if fitting.empty:
                continue
            at = int(fitting["workers"].max())
            ranked = fitting[fitting["workers"] == at].sort_values("seconds")
            rankings.append({"source": source, "workers": at, "methods": list(ranked["method"])})
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


def build_context(
    *,
    summary: pd.DataFrame,
    axes_summary: pd.DataFrame,
    comparison: pd.DataFrame,
    claims: pd.DataFrame,
    overlaps: int,
    run: Mapping[str, Any],
    config: Mapping[str, Any],
    figures_dir: Path,
    figure_names: list[str],
    book_meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the templates may use."""
    from report.figures import FIGURES

    titles = {spec.name: spec.title for spec in FIGURES}
    views = {name: ExperimentView(name, summary) for name in EXPERIMENTS}
    jobs = run["jobs"]
    # the workflow's own interpreter describes the run (the machine fingerprint includes it)
    first_job = next(job for job in jobs.values() if job["interpreter"]["name"] == MAIN and not job.get("skipped"))
    return {
        "experiments": [EXPERIMENTS[name] for name in EXPERIMENTS if views[name]],
        "views": views,
        "axes_views": {name: ExperimentView(name, axes_summary) for name in EXPERIMENTS},
        "axes": axis_values(axes_summary),
        "interpreters": run["interpreters"],
        # the threads-no-gain claim's test, applied on every interpreter the run used
        "thread_gain": THREAD_GAIN,
        "threads_gain_verdict": lambda row: below(THREAD_GAIN, row["speedup"], row["speedup_low"], row["speedup_high"]),
        "main_interpreter": MAIN,
        "summary": summary.to_dict("records"),
        "flagged": summary[(summary["flags"].fillna("") != "")].to_dict("records"),
        "comparison": comparison.to_dict("records"),
        "claims": claims.to_dict("records"),
        "book_rows": book_rows_function(comparison),
        "book_rankings": book_rankings_function(
            comparison, {**book_meta["physical_cores"], OURS: min(run["machine"]["physical_cores"], run["machine"]["usable_cpus"])}),
        "book_sources": list(dict.fromkeys(comparison["source"])),
        "ours": OURS,
        "overlaps": overlaps,
        "machine": run["machine"],
        "machine_id": run["machine_id"],
        "jobs": jobs,
        "job": first_job,
        "config": config,
        # the confidence level of every interval, as the prose and tables name it
        "ci": format_percent(config["analysis"]["confidence"]),
        "config_yaml": yaml.safe_dump(dict(config), sort_keys=False),
        "figures": {name: figure_markup(figures_dir, name) for name in figure_names},
        "figure_titles": titles,
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


def render_html(context: Mapping[str, Any], path: Path) -> None:
    path.write_text(environment().get_template("report.html.j2").render(**context))


def render_compare_html(run_folders: list[Path], path: Path) -> None:
    """The cross-machine comparison of several machines' runs of the same name."""
    from report import compare
    from report.figures.compare import draw_efficiency_by_machine, svg_markup

    runs = [compare.load_run(folder) for folder in run_folders]
    shared, left_out = compare.shared_points(runs)
    scaling = compare.normalised_scaling(shared, runs)
    figures = {experiment: svg_markup(draw_efficiency_by_machine(scaling, experiment), f"compare-{experiment}")
               for experiment in dict.fromkeys(scaling["experiment"])}
    context = {
        "runs": runs,
        "rankings": compare.rankings(shared, runs).to_dict("records"),
        "claims": compare.claim_verdicts(runs).to_dict("records"),
        "left_out": left_out.to_dict("records"),
        "figures": figures,
        "titles": {name: experiment.title for name, experiment in EXPERIMENTS.items()},
    }
    path.write_text(environment().get_template("compare.html.j2").render(**context))


def render_pdf(html_path: Path, pdf_path: Path) -> None:
    import weasyprint

    weasyprint.HTML(filename=str(html_path)).write_pdf(str(pdf_path))
