"""The pieces every family's claims are built from: points, ratios with intervals, verdicts.

A claim is one conclusion of the chapter, restated in our words, with a precise
test on our data: a ratio (e.g. serial time / process-pool time) with its
confidence interval, paired by round where both sides were measured in the same
rounds (see :mod:`report.statistics`), compared with a threshold. The verdict
can say "not sure": when the interval straddles the threshold it is
``inconclusive``, never a coin toss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from report.analysis import AnalysisSettings, parallel_cores, usable_trials
from report.statistics import paired_ratio

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN = "reproduced", "not reproduced", "inconclusive", "not run"

#: A claim this run's hardware cannot test (e.g. two workers in parallel on one usable CPU).
NOT_APPLICABLE = "not applicable"


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
    """Timed, correct, undisturbed trials by point, and ratios with their intervals.

    :meth:`column` and :meth:`times` return values indexed by job and round, so
    that :meth:`ratio` pairs two methods measured in the same rounds.
    """

    def __init__(self, trials: pd.DataFrame, machine: Mapping[str, Any], settings: AnalysisSettings = AnalysisSettings()):
        self.trials = usable_trials(trials)
        self.all_trials = trials[~trials["warmup"].astype(bool)]
        self.machine = machine
        self.settings = settings

    @property
    def cores(self) -> int:
        """Physical cores this run could use (the scale where processes should stop gaining)."""
        return parallel_cores(self.machine)

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
               **params: Any) -> pd.Series:
        """One column of a point's trials, indexed by ``<experiment>@<interpreter>#<round>``."""
        rows = self.rows(experiment, method, workers, correct_only=correct_only, **params)
        if rows.empty:
            where = "".join(f", {name} {value}" for name, value in params.items())
            raise MissingPoint(f"no timed trial of {experiment}.{method} at {workers} workers{where}")
        job = rows["experiment"] + "@" + (rows["interpreter"] if "interpreter" in rows else "main")
        rounds = job + "#" + rows["round"].astype(str)
        return pd.Series(rows[column].to_numpy(dtype=float), index=rounds.to_numpy())

    def times(self, experiment: str, method: str, workers: int = 1, **params: Any) -> pd.Series:
        return self.column("seconds", experiment, method, workers, **params)

    def ratio(self, numerator, denominator) -> tuple[float, float, float]:
        """numerator / denominator with its interval: paired by round where both share rounds,
        else the conservative unpaired ratio of medians (plain arrays are never paired)."""
        top = numerator if isinstance(numerator, pd.Series) else pd.Series(np.asarray(numerator, float))
        bottom = denominator if isinstance(denominator, pd.Series) else pd.Series(np.asarray(denominator, float))
        if not isinstance(numerator, pd.Series) or not isinstance(denominator, pd.Series):
            bottom = bottom.set_axis([f"unpaired#{i}" for i in range(len(bottom))])
        interval = paired_ratio(top, bottom, self.settings.confidence)
        return interval.value, interval.low, interval.high


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
