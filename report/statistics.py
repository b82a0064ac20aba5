"""Intervals that claim only the coverage they have.

A median's interval comes from order statistics
(:func:`experiments.intervals.median_interval`, which the harness also uses to
decide when a point is measured precisely enough).

A ratio of two methods measured in the same rounds is paired: each round gives
one ratio, so a drift that slows every method of a round cancels out, and the
interval is that of the median of the per-round ratios (on a log scale, where a
ratio and its inverse are symmetric). Methods not measured in the same rounds
(different jobs) get a conservative interval instead: each median at the level
√confidence, and the ratio of their extremes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.intervals import MISSING, Interval, median_interval

__all__ = ["MISSING", "Interval", "median_interval", "paired_ratio", "unpaired_ratio", "wilson_interval"]


def paired_ratio(numerator: pd.Series, denominator: pd.Series, confidence: float) -> Interval:
    """median over shared rounds of numerator / denominator, with its interval.

    Both series are indexed by round (one value per round, or several, which
    are reduced to their median). Without shared rounds the ratio is unpaired.
    """
    top, bottom = _per_round(numerator), _per_round(denominator)
    shared = top.index.intersection(bottom.index)
    if len(shared) == 0:
        return unpaired_ratio(top.to_numpy(), bottom.to_numpy(), confidence)
    logs = np.log(top[shared].to_numpy(float) / bottom[shared].to_numpy(float))
    interval = median_interval(logs, confidence)
    return Interval(math.exp(interval.value), math.exp(interval.low), math.exp(interval.high), interval.level)


def unpaired_ratio(numerator, denominator, confidence: float) -> Interval:
    """median(numerator) / median(denominator), each median's interval at √confidence.

    Both intervals cover their medians together with at least ``confidence``,
    so the ratio of their extremes does too: conservative, never over-claimed.
    """
    each = math.sqrt(confidence)
    top, bottom = median_interval(numerator, each), median_interval(denominator, each)
    if math.isnan(top.value) or math.isnan(bottom.value):
        return MISSING
    level = top.level * bottom.level
    return Interval(top.value / bottom.value, top.low / bottom.high, top.high / bottom.low, level)


def _per_round(values: pd.Series) -> pd.Series:
    values = values.dropna()
    return values.groupby(level=0).median() if values.index.has_duplicates else values


def wilson_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """Wilson's score interval of a proportion: near its level even for few trials or shares near 0 or 1."""
    if trials == 0:
        return math.nan, math.nan
    z = _normal_quantile(1 - (1 - confidence) / 2)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    spread = z / (1 + z * z / trials) * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - spread), min(1.0, centre + spread)


def _normal_quantile(probability: float) -> float:
    """The standard normal quantile, by bisection of the error function (no SciPy needed)."""
    low, high = -10.0, 10.0
    for _ in range(100):
        middle = (low + high) / 2
        if 0.5 * (1 + math.erf(middle / math.sqrt(2))) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2
