"""Distribution-free intervals of a median, in plain Python (jobs on other interpreters use it too).

The chance that the true median lies between the k-th smallest and the k-th
largest of n trials is a binomial sum, whatever the distribution of the
timings. Between two such intervals we interpolate (Hettmansperger & Sheather,
1986) to reach the requested level. With too few trials for it, the widest
interval, [min, max], is returned with the level it really has (75 % at
n = 3), never labelled as the requested one.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence


class Interval(NamedTuple):
    """An estimate with its interval and the confidence level the interval really has."""

    value: float
    low: float
    high: float
    level: float

    @property
    def relative_half_width(self) -> float:
        """Half the interval's width as a share of the estimate (infinite without an estimate)."""
        if not self.value or math.isnan(self.value):
            return math.inf
        return (self.high - self.low) / 2 / abs(self.value)


MISSING = Interval(math.nan, math.nan, math.nan, math.nan)


def order_statistic_coverage(n: int, k: int) -> float:
    """Probability that [x(k), x(n-k+1)] of n draws contains their median (k from 1)."""
    below = sum(math.comb(n, i) for i in range(k)) / 2**n
    return 1 - 2 * below


def median_of(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def median_interval(values: Sequence[float], confidence: float) -> Interval:
    """The median of ``values`` with a distribution-free interval at ``confidence``.

    With fewer values than ``confidence`` needs (n < 6 at 95 %), the interval is
    [min, max] with its lower, true level; with none, every field is NaN.
    """
    x = sorted(float(value) for value in values)
    n = len(x)
    if n == 0:
        return MISSING
    median = median_of(x)
    widest = order_statistic_coverage(n, 1)
    if n == 1 or widest < confidence:
        return Interval(median, x[0], x[-1], widest if n > 1 else 0.0)
    k = 1
    while k + 1 <= n // 2 and order_statistic_coverage(n, k + 1) >= confidence:
        k += 1
    outer = order_statistic_coverage(n, k)
    inner = order_statistic_coverage(n, k + 1) if k + 1 <= n // 2 else 0.0
    share = (outer - confidence) / (outer - inner)
    weight = (n - k) * share / (k + (n - 2 * k) * share)
    low = (1 - weight) * x[k - 1] + weight * x[k]
    high = (1 - weight) * x[n - k] + weight * x[n - k - 1]
    return Interval(median, low, high, confidence)
