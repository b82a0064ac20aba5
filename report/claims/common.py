"""The pieces every family's claims are built from: points, ratios with intervals, verdicts.

A claim is one conclusion of the chapter, restated in our words, with a precise
test on our data: a ratio of two medians (e.g. serial time / process-pool time)
with a bootstrap confidence interval, compared with a threshold. The verdict
can say "not sure": when the interval straddles the threshold it is
``inconclusive``, never a coin toss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from report.analysis import AnalysisSettings, bootstrap_medians, percentile_interval

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN = "reproduced", "not reproduced", "inconclusive", "not run"


@dataclass(frozen=True)
class Evidence:
    """What our data says about a claim."""

    verdict: str
    measure: str = ""
    value: float | None = None
    low: float | None = None
    high: float | None = None
    book: str = ""


@dataclass(frozen=True)
class Claim:
    """A conclusion of the chapter, where its evidence is shown, and how to test it."""

    id: str
    section: str
    figure: str | None
    statement: str
    evaluate: Callable[[Measurements], Evidence]


class MissingPoint(LookupError):
    """The run did not measure a point the claim needs."""


class Measurements:
    """Timed, correct trials by point, and ratios of their medians with bootstrap intervals."""

    def __init__(self, trials: pd.DataFrame, machine: Mapping[str, Any], settings: AnalysisSettings = AnalysisSettings()):
        self.trials = trials[~trials["warmup"].astype(bool) & trials["correct"].astype(bool)]
        self.all_trials = trials[~trials["warmup"].astype(bool)]
        self.machine = machine
        self.settings = settings
        self.rng = np.random.default_rng(settings.seed)

    @property
    def cores(self) -> int:
        """Physical cores this run could use (the scale where processes should stop gaining)."""
        return min(self.machine["physical_cores"] or self.machine["usable_cpus"], self.machine["usable_cpus"])

    def workers(self, experiment: str, method: str) -> list[int]:
        """Measured worker counts of a method, ascending; raises MissingPoint if there are none."""
        frame = self.all_trials
        rows = frame[(frame["experiment"] == experiment) & (frame["method"] == method)]
        if rows.empty:
            raise MissingPoint(f"{experiment}.{method} was not measured")
        return sorted(int(w) for w in rows["workers"].unique())

    def workers_near(self, experiment: str, method: str, count: int) -> int:
        """The measured worker count closest to ``count`` from below."""
        below = [w for w in self.workers(experiment, method) if w <= count]
        if not below:
            raise MissingPoint(f"{experiment}.{method} has no point at or below {count} workers")
        return max(below)

    def rows(self, experiment: str, method: str, workers: int | None = None, *, correct_only: bool = True,
             **params: Any) -> pd.DataFrame:
        """Timed trials of one method, at ``workers`` (any if None) and the given parameter values (may be empty)."""
        frame = self.trials if correct_only else self.all_trials
        keep = (frame["experiment"] == experiment) & (frame["method"] == method)
        if workers is not None:
            keep &= frame["workers"] == workers
        for name, value in params.items():
            if name not in frame:
                raise MissingPoint(f"{experiment} has no parameter {name}")
            keep &= frame[name] == value
        return frame[keep.fillna(False).astype(bool)]

    def column(self, column: str, experiment: str, method: str, workers: int = 1, *, correct_only: bool = True,
               **params: Any) -> np.ndarray:
        rows = self.rows(experiment, method, workers, correct_only=correct_only, **params)
        if rows.empty:
            where = "".join(f", {name} {value}" for name, value in params.items())
            raise MissingPoint(f"no timed trial of {experiment}.{method} at {workers} workers{where}")
        return rows[column].to_numpy(dtype=float)

    def times(self, experiment: str, method: str, workers: int = 1, **params: Any) -> np.ndarray:
        return self.column("seconds", experiment, method, workers, **params)

    def ratio(self, numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float, float]:
        """median(numerator) / median(denominator), with its bootstrap interval."""
        resamples = self.settings.bootstrap_resamples
        ratios = bootstrap_medians(numerator, resamples, self.rng) / bootstrap_medians(denominator, resamples, self.rng)
        low, high = percentile_interval(ratios, self.settings.confidence)
        return float(np.median(numerator) / np.median(denominator)), low, high


def above(threshold: float, value: float, low: float, high: float) -> str:
    """Reproduced when the whole interval lies above the threshold."""
    if low > threshold:
        return REPRODUCED
    return NOT_REPRODUCED if high < threshold else INCONCLUSIVE


def below(threshold: float, value: float, low: float, high: float) -> str:
    """Reproduced when the whole interval lies below the threshold."""
    if high < threshold:
        return REPRODUCED
    return NOT_REPRODUCED if low > threshold else INCONCLUSIVE


def within(lower: float, upper: float, value: float, low: float, high: float) -> str:
    """Reproduced when the whole interval lies inside [lower, upper]."""
    if lower <= low and high <= upper:
        return REPRODUCED
    return NOT_REPRODUCED if high < lower or low > upper else INCONCLUSIVE
