"""Intervals that mean what they say: coverage simulated on skewed timings with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.intervals import median_interval, order_statistic_coverage
from report.statistics import paired_ratio, unpaired_ratio

#: Trials per point that the grids reach: the minimum rounds, and more where rounds go on.
TRIAL_COUNTS = (6, 7, 8, 10, 13, 20, 30)
SIMULATIONS = 2000


def skewed_times(rng, size, median):
    """Timings with a long right tail (log-normal) and a known median."""
    return median * np.exp(rng.normal(0.0, 0.3, size))


@pytest.mark.parametrize("n", TRIAL_COUNTS)
def test_median_intervals_cover_the_true_median_as_often_as_they_say(n):
    rng = np.random.default_rng(n)
    hits = 0
    for _ in range(SIMULATIONS):
        interval = median_interval(skewed_times(rng, n, 2.0), 0.95)
        assert interval.level == 0.95
        hits += interval.low <= 2.0 <= interval.high
    assert 0.93 <= hits / SIMULATIONS <= 0.97


@pytest.mark.parametrize("n", TRIAL_COUNTS)
def test_paired_ratio_intervals_cover_the_true_ratio(n):
    rng = np.random.default_rng(100 + n)
    hits = 0
    for _ in range(SIMULATIONS):
        drift = rng.normal(0.0, 0.4, n)  # each round slows both methods alike
        slow = pd.Series(3.0 * np.exp(drift + rng.gumbel(0, 0.1, n)))
        fast = pd.Series(1.0 * np.exp(drift + rng.gumbel(0, 0.1, n)))
        interval = paired_ratio(slow, fast, 0.95)
        hits += interval.low <= 3.0 <= interval.high
    assert 0.93 <= hits / SIMULATIONS <= 0.97


def test_pairing_cancels_a_drift_that_unpaired_intervals_cannot():
    rng = np.random.default_rng(7)
    drift = rng.normal(0.0, 0.4, 10)
    slow, fast = pd.Series(2.0 * np.exp(drift)), pd.Series(np.exp(drift))
    paired = paired_ratio(slow, fast, 0.95)
    unpaired = unpaired_ratio(slow.to_numpy(), fast.to_numpy(), 0.95)
    assert paired.low == pytest.approx(2.0) and paired.high == pytest.approx(2.0)
    assert unpaired.low < 1.5 and unpaired.high > 2.5


def test_too_few_trials_give_the_level_they_reach_never_the_asked_one():
    three = median_interval([1.0, 2.0, 3.0], 0.95)
    assert (three.low, three.high) == (1.0, 3.0) and three.level == pytest.approx(0.75)
    five = median_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.95)
    assert five.level == pytest.approx(1 - 2 / 32)
    one = median_interval([4.0], 0.95)
    assert one.value == 4.0 and one.level == 0.0
    assert np.isnan(median_interval([], 0.95).value)


def test_order_statistic_coverage_is_the_binomial_sum():
    # [x(1), x(n)] misses the median only if all n draws fall on one side of it
    assert order_statistic_coverage(6, 1) == pytest.approx(1 - 2 / 64)
    assert order_statistic_coverage(10, 2) == pytest.approx(1 - 2 * 11 / 1024)


def test_unpaired_ratios_of_different_jobs_are_conservative():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(500):
        top, bottom = skewed_times(rng, 8, 3.0), skewed_times(rng, 8, 1.0)
        interval = unpaired_ratio(top, bottom, 0.95)
        hits += interval.low <= 3.0 <= interval.high
    assert hits / 500 >= 0.95


def test_wilson_interval_of_a_share():
    from report.statistics import wilson_interval

    low, high = wilson_interval(0, 10, 0.95)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.2775, abs=1e-3)  # the textbook 0 of 10
    low, high = wilson_interval(5, 10, 0.95)
    assert low == pytest.approx(1 - high) and 0.2 < low < 0.3
