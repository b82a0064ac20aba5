"""Tidy trials → per-point statistics: medians, bootstrap intervals, speedups, flags.

A point's statistics use its timed (non-warm-up) trials whose answer was
correct: a wrong answer is never a fast result. Intervals are percentile
bootstrap intervals of the median; a speedup's interval resamples the method's
and the baseline's trials independently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.registry import EXPERIMENTS
from report.load import EXTRA_COLUMNS, nullable_integers

#: Sampled memory peaks summarised by their median per point.
MEMORY_COLUMNS = ("peak_pss_bytes", "peak_worker_uss_bytes")

#: A timed repeat this many times slower than the median of the others is flagged.
SLOW_FIRST_REPEAT_FACTOR = 1.5

#: Times that rise (or fall) with the repeat index at least this consistently
#: (Spearman's rank correlation), over at least DRIFT_MIN_REPEATS repeats, are flagged as drift.
DRIFT_CORRELATION = 0.9
DRIFT_MIN_REPEATS = 5


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


@dataclass(frozen=True)
class AnalysisSettings:
    """How trials are summarised (the ``analysis`` section of the config)."""

    confidence: float = 0.95
    bootstrap_resamples: int = 2000
    unstable_relative_width: float = 0.2
    seed: int = 0

    @classmethod
    def from_config(cls, section: Mapping[str, float]) -> AnalysisSettings:
        return cls(**section)


def bootstrap_medians(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Medians of ``resamples`` bootstrap resamples of ``values``."""
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    return np.median(values[picks], axis=1)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def point_keys(experiment: str) -> list[str]:
    """Columns that identify a point of ``experiment``."""
    return ["experiment", "interpreter", "start_method", "method", "workers", *EXPERIMENTS[experiment].params]


def _flags(times: np.ndarray, first_repeat: float | None, relative_width: float, wrong: int, settings: AnalysisSettings) -> str:
    flags = []
    if wrong:
        flags.append(f"{wrong} wrong answer(s)")
    if len(times) == 0:
        flags.append("no correct trial")
    elif relative_width > settings.unstable_relative_width:
        flags.append(f"wide interval ({relative_width:.0%} of median)")
    if first_repeat is not None and len(times) > 2:
        others = np.median(times[1:])
        if first_repeat > SLOW_FIRST_REPEAT_FACTOR * others:
            flags.append(f"slow first repeat ({first_repeat / others:.1f}× the others)")
    if len(times) >= DRIFT_MIN_REPEATS and np.ptp(times) > 0:
        trend = rank_correlation(times)
        if abs(trend) >= DRIFT_CORRELATION:
            flags.append(f"drift: times {'rise' if trend > 0 else 'fall'} over the repeats (rank correlation {trend:+.2f})")
    return "; ".join(flags)


def summarize(trials: pd.DataFrame, settings: AnalysisSettings = AnalysisSettings()) -> pd.DataFrame:
    """One row per point: trial counts, median time with interval, CPU time, memory, answer.

    Columns: the point's keys, ``trials`` (timed trials), ``correct_trials``,
    ``wrong_trials`` (excluding methods that are wrong by design), ``median_seconds``,
    ``ci_low``, ``ci_high``, ``relative_width``, ``median_cpu_seconds``,
    ``cpu_utilisation`` (CPU seconds per wall second), ``median_peak_pss_bytes``,
    ``median_peak_worker_uss_bytes``, ``median_result``, ``known_wrong``, ``flags``,
    ``error`` (the first failed trial's), plus the median, min and max of every
    extra measurement over the timed trials (e.g. ``median_duplicated_draws``,
    ``max_lost_updates``).
    """
    rng = np.random.default_rng(settings.seed)
    timed = trials[~trials["warmup"]]
    tables = []
    for experiment, frame in timed.groupby("experiment", sort=False):
        keys = point_keys(experiment)
        # every extra measurement this experiment recorded (its parameters are keys)
        extras = [c for c in EXTRA_COLUMNS if c in frame and c not in keys and frame[c].notna().any()]
        rows = []
        for key, point in frame.groupby(keys, sort=False):
            method = EXPERIMENTS[experiment].method(point["method"].iloc[0])
            ordered = point.sort_values("repeat")
            good = ordered[ordered["correct"]]
            times = good["seconds"].to_numpy(float)
            row = dict(zip(keys, key))
            row.update(job_start_method=point["job_start_method"].iloc[0], trials=len(point),
                       correct_trials=len(good), known_wrong=method.known_wrong)
            row["wrong_trials"] = 0 if method.known_wrong else len(point) - len(good)
            if len(times):
                median = float(np.median(times))
                low, high = percentile_interval(bootstrap_medians(times, settings.bootstrap_resamples, rng), settings.confidence)
                cpu = float(good["cpu_seconds"].median())
                row.update(median_seconds=median, ci_low=low, ci_high=high, relative_width=(high - low) / median,
                           median_cpu_seconds=cpu, cpu_utilisation=cpu / median)
            else:
                row.update(median_seconds=np.nan, ci_low=np.nan, ci_high=np.nan, relative_width=np.nan,
                           median_cpu_seconds=np.nan, cpu_utilisation=np.nan)
            for column in MEMORY_COLUMNS:
                row[f"median_{column}"] = float(point[column].median()) if column in point else np.nan
            row["median_result"] = float(point["result"].median())
            for column in extras:
                for statistic in ("median", "min", "max"):  # NaN where a method did not measure it
                    row[f"{statistic}_{column}"] = float(point[column].astype("float64").agg(statistic))
            first = float(ordered["seconds"].iloc[0]) if ordered["correct"].iloc[0] else None
            row["flags"] = _flags(times, first, row["relative_width"], row["wrong_trials"], settings) if not method.known_wrong else ""
            errors = point.loc[point["error"] != "", "error"]
            row["error"] = errors.iloc[0] if len(errors) else ""
            if len(errors) and not method.known_wrong:
                row["flags"] = "; ".join(filter(None, [row["flags"], f"{len(errors)} failed: {row['error']}"]))
            rows.append(row)
        tables.append(nullable_integers(pd.DataFrame(rows)))
    summary = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return add_speedups(summary, timed, settings, rng)


def _matching(frame: pd.DataFrame, conditions: Mapping[str, object]) -> pd.DataFrame:
    """Rows of ``frame`` whose columns equal all ``conditions``."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in conditions.items():
        mask &= frame[column].eq(value).fillna(False).to_numpy(dtype=bool)
    return frame[mask]


def add_speedups(summary: pd.DataFrame, timed: pd.DataFrame, settings: AnalysisSettings, rng: np.random.Generator) -> pd.DataFrame:
    """Speedup over each experiment's baseline, its interval, and parallel efficiency."""
    summary = summary.copy()
    for column in ("speedup", "speedup_low", "speedup_high", "efficiency", "serial_fraction"):
        summary[column] = np.nan
    correct = timed[timed["correct"]]
    for index, row in summary.iterrows():
        experiment = EXPERIMENTS[row["experiment"]]
        if experiment.baseline is None or np.isnan(row["median_seconds"]):
            continue
        baseline = experiment.method(experiment.baseline)
        same_work = {"experiment": row["experiment"], "interpreter": row["interpreter"],
                     **{name: row[name] for name in experiment.params}}
        # a baseline off the start-method axis has one start method, whatever this row's
        same_start = {"start_method": row["start_method"]} if baseline.uses_start_method else {}
        reference = _matching(correct, {**same_work, **same_start, "method": experiment.baseline,
                                        "workers": row["workers"] if baseline.parallel else 1})
        mine = _matching(correct, {**same_work, "method": row["method"], "workers": row["workers"],
                                   "start_method": row["start_method"]})
        if reference.empty or mine.empty:
            continue
        base_times, my_times = reference["seconds"].to_numpy(float), mine["seconds"].to_numpy(float)
        ratios = bootstrap_medians(base_times, settings.bootstrap_resamples, rng) / bootstrap_medians(
            my_times, settings.bootstrap_resamples, rng
        )
        low, high = percentile_interval(ratios, settings.confidence)
        speedup = float(np.median(base_times) / np.median(my_times))
        summary.loc[index, ["speedup", "speedup_low", "speedup_high"]] = [speedup, low, high]
        if not baseline.parallel:
            summary.loc[index, "efficiency"] = speedup / row["workers"]
            if row["workers"] > 1:
                summary.loc[index, "serial_fraction"] = karp_flatt(speedup, row["workers"])
    return summary


def overlapping_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Pairs of trials whose [started_at, ended_at] intervals overlap (should be none)."""
    ordered = trials.sort_values("started_at").reset_index(drop=True)
    latest_end = ordered["ended_at"].cummax().shift(1)
    clashes = ordered[ordered["started_at"] < latest_end]
    return clashes[["experiment", "method", "workers", "round", "started_at", "ended_at"]]
