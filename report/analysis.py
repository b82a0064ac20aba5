"""Tidy trials → per-point statistics: medians with honest intervals, paired speedups, flags.

A point's statistics use its timed (non-warm-up) trials whose answer was
correct and that no outside load disturbed: a wrong answer is never a fast
result, and a disturbed trial was measured again. Intervals come from
:mod:`report.statistics`: distribution-free intervals of the median, labelled
with the level they reach, and speedups paired by round.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.registry import EXPERIMENTS
from report.load import EXTRA_COLUMNS, nullable_integers
from report.statistics import median_interval, paired_ratio

#: Sampled memory peaks summarised by their median per point.
MEMORY_COLUMNS = ("peak_pss_bytes", "peak_worker_uss_bytes")

#: A timed repeat this many times slower than the median of the others is flagged.
SLOW_FIRST_REPEAT_FACTOR = 1.5

#: Times that rise (or fall) with the repeat index at least this consistently
#: (Spearman's rank correlation), over at least DRIFT_MIN_REPEATS repeats, are flagged as drift.
DRIFT_CORRELATION = 0.9
DRIFT_MIN_REPEATS = 5

#: A parallel method at one worker more than this much faster than the baseline is noise, not a gain.
ONE_WORKER_TOLERANCE = 1.05


def rank_correlation(values: np.ndarray) -> float:
    """Spearman's rank correlation of ``values`` with their order (ties broken by order)."""
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    order = np.arange(len(values))
    return float(np.corrcoef(order, ranks)[0, 1])


def karp_flatt(speedup: float, workers: int) -> float:
    """The experimentally determined serial fraction e = (1/S − 1/p) / (1 − 1/p) (Karp & Flatt, 1990).

    Near 0 the work divides perfectly; a fraction that grows with p points at
    overhead (start-up, communication) rather than at a fixed serial part.
    """
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def parallel_cores(machine: Mapping[str, object]) -> int:
    """Cores a run could use in parallel: the usable CPUs, and no more than the physical cores."""
    usable = int(machine["usable_cpus"])
    physical = machine.get("physical_cores") or usable
    return min(int(physical), usable)


def rank_methods(points: pd.DataFrame, cores: int, *, seconds: str = "median_seconds") -> pd.DataFrame:
    """One experiment's methods from fastest to slowest, as a machine (or a book's source) with ``cores`` cores ranks them.

    ``points`` are that machine's points of the experiment: columns ``method``,
    ``workers`` and ``seconds``. Each method counts at the largest worker count
    it was measured at that does not exceed ``cores`` (a serial method, at its
    one point), with the total time of its points there (one per value of the
    other parameters: the numbers checked, the chunk sizes); a method with a
    point without a time is left out. Returns one row per method (``method``,
    ``workers``, ``seconds``), fastest first.
    """
    fitting = points[points["workers"] <= cores]
    widest = fitting[fitting["workers"] == fitting.groupby("method", sort=False)["workers"].transform("max")]
    timed = widest.groupby("method", sort=False).filter(lambda rows: rows[seconds].notna().all())
    totals = timed.groupby(["method", "workers"], sort=False)[seconds].sum()
    return totals.sort_values(kind="stable").reset_index()


@dataclass(frozen=True)
class AnalysisSettings:
    """How trials are summarised (the ``analysis`` section of the config, and the precision target)."""

    confidence: float = 0.95
    unstable_relative_width: float = 0.2
    precision: float = 0.03

    @classmethod
    def from_config(cls, section: Mapping[str, float], precision: float = 0.03) -> AnalysisSettings:
        """From the validated config; keys this code no longer uses (``bootstrap_resamples`` of runs made
        before paired intervals) are left out, so that a published run still renders."""
        known = {field.name for field in dataclasses.fields(cls)} - {"precision"}
        return cls(**{key: value for key, value in section.items() if key in known}, precision=precision)


def usable_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Timed trials that count: correct, and not disturbed by outside load."""
    keep = ~trials["warmup"].astype(bool) & trials["correct"].astype(bool)
    if "disturbed" in trials:
        keep &= ~trials["disturbed"].fillna(False).astype(bool)
    return trials[keep]


def point_keys(experiment: str) -> list[str]:
    """Columns that identify a point of ``experiment``."""
    return ["experiment", "interpreter", "start_method", "method", "workers", *EXPERIMENTS[experiment].params]


def _flags(times: np.ndarray, first_repeat: float | None, relative_width: float, level: float, wrong: int,
           settings: AnalysisSettings) -> str:
    flags = []
    if wrong:
        flags.append(f"{wrong} wrong answer(s)")
    if len(times) == 0:
        flags.append("no correct trial")
    elif relative_width > settings.unstable_relative_width:
        flags.append(f"wide interval ({relative_width:.0%} of median)")
    if len(times) and level < settings.confidence:
        flags.append(f"{len(times)} trial(s): the interval reaches only {level:.0%}")
    if first_repeat is not None and len(times) > 2:
        others = np.median(times[1:])
        if first_repeat > SLOW_FIRST_REPEAT_FACTOR * others:
            flags.append(f"slow first repeat ({first_repeat / others:.1f}× the others)")
    if len(times) >= DRIFT_MIN_REPEATS and np.ptp(times) > 0:
        trend = rank_correlation(times)
        if abs(trend) >= DRIFT_CORRELATION:
            flags.append(f"drift: times {'rise' if trend > 0 else 'fall'} over the repeats (rank correlation {trend:+.2f})")
    return "; ".join(flags)


def _numeric_median(values: pd.Series) -> float:
    """Median of the numbers in ``values``; NaN when there are none (every trial failed)."""
    median = pd.to_numeric(values, errors="coerce").astype("float64").median()
    return float(median) if pd.notna(median) else np.nan


def _summarize_point(experiment: str, keys: list[str], key: tuple, point: pd.DataFrame, extras: list[str],
                     settings: AnalysisSettings) -> dict:
    """One summary row: counts, median with its interval, CPU, memory, extras, flags."""
    method = EXPERIMENTS[experiment].method(point["method"].iloc[0])
    ordered = point.sort_values("round")
    good = usable_trials(ordered)
    times = good["seconds"].to_numpy(float)
    disturbed = int(ordered["disturbed"].fillna(False).astype(bool).sum()) if "disturbed" in ordered else 0
    correct = ordered["correct"].astype(bool)
    row = dict(zip(keys, key))
    row.update(job_start_method=point["job_start_method"].iloc[0], trials=len(point), correct_trials=int(correct.sum()),
               disturbed_trials=disturbed, known_wrong=method.known_wrong)
    row["wrong_trials"] = 0 if method.known_wrong else int((~correct).sum())
    interval = median_interval(times, settings.confidence)
    relative_width = (interval.high - interval.low) / interval.value if len(times) else np.nan
    cpu = _numeric_median(good["cpu_seconds"])
    # the book's chunk and stop-flag timings are minima: this is what sits beside them
    row["min_seconds"] = times.min() if len(times) else np.nan
    row.update(median_seconds=interval.value, ci_low=interval.low, ci_high=interval.high, interval_level=interval.level,
               relative_width=relative_width, converged=bool(interval.level >= settings.confidence
                                         and interval.relative_half_width <= settings.precision),
               median_cpu_seconds=cpu, cpu_utilisation=cpu / interval.value if len(times) else np.nan)
    for column in MEMORY_COLUMNS:
        row[f"median_{column}"] = _numeric_median(point[column]) if column in point else np.nan
    row["median_result"] = _numeric_median(point["result"])
    for column in extras:
        for statistic in ("median", "min", "max"):  # NaN where a method did not measure it
            row[f"{statistic}_{column}"] = float(pd.to_numeric(point[column], errors="coerce").astype("float64").agg(statistic))
    first = float(ordered["seconds"].iloc[0]) if correct.iloc[0] else None
    row["flags"] = "" if method.known_wrong else _flags(times, first, relative_width, interval.level,
                                                         row["wrong_trials"], settings)
    errors = point.loc[point["error"] != "", "error"]
    row["error"] = errors.iloc[0] if len(errors) else ""
    if len(errors) and not method.known_wrong:
        failed = f"failed: {row['error']}" if len(errors) == len(point) else f"{len(errors)} failed: {row['error']}"
        row["flags"] = "; ".join(filter(None, [row["flags"], failed]))
    return row


def summarize(trials: pd.DataFrame, settings: AnalysisSettings = AnalysisSettings(), *,
              usable_cpus: int | None = None) -> pd.DataFrame:
    """One row per point: trial counts, median time with interval, CPU time, memory, answer.

    Columns: the point's keys, ``trials`` (timed trials), ``correct_trials``,
    ``disturbed_trials`` (set aside for outside load), ``wrong_trials``
    (excluding methods that are wrong by design), ``median_seconds``, ``ci_low``,
    ``ci_high``, ``interval_level`` (the level the interval reaches),
    ``relative_width``, ``converged`` (half-width within ``precision``),
    ``median_cpu_seconds``, ``cpu_utilisation`` (CPU seconds per wall second),
    ``median_peak_pss_bytes``, ``median_peak_worker_uss_bytes``,
    ``median_result``, ``known_wrong``, ``flags``, ``error`` (the first failed
    trial's), the median, min and max of every extra measurement over the timed
    trials (e.g. ``median_duplicated_draws``, ``max_lost_updates``), and the
    speedup columns of :func:`add_speedups`. A point whose every trial failed
    is a row with no times and ``failed: <why>`` in its flags.
    """
    timed = trials[~trials["warmup"].astype(bool)]
    tables = []
    for experiment, frame in timed.groupby("experiment", sort=False):
        keys = point_keys(experiment)
        extras = [c for c in EXTRA_COLUMNS if c in frame and c not in keys and pd.api.types.is_numeric_dtype(frame[c])
                  and frame[c].notna().any()]
        rows = [_summarize_point(experiment, keys, key, point, extras, settings)
                for key, point in frame.groupby(keys, sort=False, dropna=False)]
        tables.append(nullable_integers(pd.DataFrame(rows)))
    summary = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    summary = add_speedups(summary, timed, settings, usable_cpus=usable_cpus)
    return add_start_method_ratios(summary, timed, settings)


def _matching(frame: pd.DataFrame, conditions: Mapping[str, object]) -> pd.DataFrame:
    """Rows of ``frame`` whose columns equal all ``conditions``."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in conditions.items():
        mask &= frame[column].eq(value).fillna(False).to_numpy(dtype=bool)
    return frame[mask]


def by_round(rows: pd.DataFrame, column: str = "seconds") -> pd.Series:
    """A point's values indexed by round: the key that pairs methods measured in the same round."""
    return pd.Series(rows[column].to_numpy(float), index=rows["round"].to_numpy(int))


def implausibility(speedup: float, workers: int, *, parallel: bool, usable_cpus: int | None) -> str:
    """Why a speedup cannot be real (noise, or a baseline that was slowed), or ""."""
    if usable_cpus and speedup > usable_cpus:
        return f"implausible: a speedup above the {usable_cpus} usable CPUs"
    if parallel and workers == 1 and speedup > ONE_WORKER_TOLERANCE:
        return "implausible: faster than the baseline at one worker"
    return ""


def add_speedups(summary: pd.DataFrame, timed: pd.DataFrame, settings: AnalysisSettings, *,
                 usable_cpus: int | None = None) -> pd.DataFrame:
    """Speedup over each experiment's baseline (paired by round), its interval, parallel efficiency,
    the Karp–Flatt serial fraction and an ``implausible`` flag.

    Efficiency and serial fraction divide by the workers that can run at once,
    min(workers, usable CPUs): extra workers only take turns.
    """
    summary = summary.copy()
    for column in ("speedup", "speedup_low", "speedup_high", "speedup_level", "efficiency", "serial_fraction"):
        summary[column] = np.nan
    summary["implausible"] = ""
    usable = usable_trials(timed)
    for index, row in summary.iterrows():
        experiment = EXPERIMENTS[row["experiment"]]
        if experiment.baseline is None or pd.isna(row["median_seconds"]):
            continue
        baseline = experiment.method(experiment.baseline)
        same_work = {"experiment": row["experiment"], "interpreter": row["interpreter"],
                     **{name: row[name] for name in experiment.params}}
        # a baseline off the start-method axis has one start method, whatever this row's
        same_start = {"start_method": row["start_method"]} if baseline.uses_start_method else {}
        reference = _matching(usable, {**same_work, **same_start, "method": experiment.baseline,
                                       "workers": row["workers"] if baseline.parallel else 1})
        mine = _matching(usable, {**same_work, "method": row["method"], "workers": row["workers"],
                                  "start_method": row["start_method"]})
        if reference.empty or mine.empty:
            continue
        ratio = paired_ratio(by_round(reference), by_round(mine), settings.confidence)
        summary.loc[index, ["speedup", "speedup_low", "speedup_high", "speedup_level"]] = [
            ratio.value, ratio.low, ratio.high, ratio.level]
        method = experiment.method(row["method"])
        summary.loc[index, "implausible"] = implausibility(ratio.value, int(row["workers"]), parallel=method.parallel,
                                                           usable_cpus=usable_cpus)
        if not baseline.parallel and method.parallel:
            at_once = min(int(row["workers"]), usable_cpus or int(row["workers"]))
            summary.loc[index, "efficiency"] = ratio.value / at_once
            if at_once > 1:
                summary.loc[index, "serial_fraction"] = karp_flatt(ratio.value, at_once)
    return summary


#: The start method the others are compared with: the default on Linux until Python 3.14.
REFERENCE_START_METHOD = "fork"


def add_start_method_ratios(summary: pd.DataFrame, timed: pd.DataFrame, settings: AnalysisSettings) -> pd.DataFrame:
    """``vs_fork``: a point's time over the same point's under fork (paired by round), with its interval,
    for the points of the start-method axis. Python 3.14 makes forkserver the default on Linux: its
    ratio says what that change does to a result."""
    summary = summary.copy()
    for column in ("vs_fork", "vs_fork_low", "vs_fork_high"):
        summary[column] = np.nan
    if summary.empty:
        return summary
    usable = usable_trials(timed)
    on_axis = summary[summary["start_method"] != summary["job_start_method"]]
    for index, row in on_axis.iterrows():
        experiment = EXPERIMENTS[row["experiment"]]
        point = {"experiment": row["experiment"], "interpreter": row["interpreter"], "method": row["method"],
                 "workers": row["workers"], **{name: row[name] for name in experiment.params}}
        mine = _matching(usable, {**point, "start_method": row["start_method"]})
        forked = _matching(usable, {**point, "start_method": REFERENCE_START_METHOD})
        if mine.empty or forked.empty:
            continue
        ratio = paired_ratio(by_round(mine), by_round(forked), settings.confidence)
        summary.loc[index, ["vs_fork", "vs_fork_low", "vs_fork_high"]] = [ratio.value, ratio.low, ratio.high]
    return summary


def overlapping_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Pairs of trials whose [started_at, ended_at] intervals overlap (should be none)."""
    ordered = trials.sort_values("started_at").reset_index(drop=True)
    latest_end = ordered["ended_at"].cummax().shift(1)
    clashes = ordered[ordered["started_at"] < latest_end]
    return clashes[["experiment", "method", "workers", "round", "started_at", "ended_at"]]


def disturbance_record(trials: pd.DataFrame, usable_cpus: int) -> dict:
    """How quiet the machine was: per experiment, the trials, those set aside as disturbed, and the
    outside load as a share of the CPU capacity of all its trials (foreign and steal time)."""
    if "disturbed" not in trials:
        return {}
    record = {}
    for experiment, frame in trials.groupby("experiment", sort=False):
        capacity = float(frame["seconds"].sum()) * usable_cpus
        foreign = float(frame["foreign_cpu_seconds"].fillna(0).sum())
        steal = float(frame["steal_seconds"].fillna(0).sum())
        record[experiment] = {
            "trials": int(len(frame)), "disturbed": int(frame["disturbed"].fillna(False).astype(bool).sum()),
            "foreign_share": foreign / capacity if capacity else 0.0,
            "steal_share": steal / capacity if capacity else 0.0,
        }
    return record


def convergence_record(run: Mapping[str, object]) -> dict:
    """Per job, how its rounds ended: rounds, why they stopped, the points still wider than the target."""
    return {name: {"rounds": job.get("rounds"), "stop_reason": job.get("stop_reason"),
                   "unconverged": job.get("unconverged", [])}
            for name, job in run["jobs"].items() if not job.get("skipped") and "rounds" in job}
