"""Statistics on small hand-made trial tables whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from report.analysis import AnalysisSettings, bootstrap_medians, overlapping_trials, percentile_interval, summarize


def trials(rows):
    """A tidy table of pi_python trials from (method, workers, seconds, correct) tuples."""
    records = []
    clock = 0.0
    for repeat, (method, workers, seconds, correct) in enumerate(rows):
        records.append({
            "interpreter": "main", "experiment": "pi_python", "start_method": "fork", "job_start_method": "fork",
            "method": method, "workers": workers, "samples": 1000,
            "round": repeat, "warmup": False, "repeat": repeat, "order": 0, "seconds": seconds,
            "cpu_seconds": seconds * workers, "peak_pss_bytes": 1e6, "peak_uss_bytes": 1e6, "memory_samples": 1,
            "result": 3.14, "correct": correct, "error": "", "started_at": clock, "ended_at": clock + seconds,
        })
        clock += seconds + 0.01
    return pd.DataFrame(records)


SETTINGS = AnalysisSettings(bootstrap_resamples=500)


def test_bootstrap_interval_of_identical_values_is_that_value():
    medians = bootstrap_medians(np.full(5, 2.0), 100, np.random.default_rng(0))
    assert percentile_interval(medians, 0.95) == (2.0, 2.0)


def test_bootstrap_interval_brackets_the_median():
    values = np.array([1.0, 1.1, 1.2, 1.3, 5.0])
    low, high = percentile_interval(bootstrap_medians(values, 1000, np.random.default_rng(0)), 0.95)
    assert low <= 1.2 <= high
    assert low >= 1.0 and high <= 5.0


def test_medians_speedup_and_efficiency_per_point():
    table = trials([("serial", 1, 4.0, True)] * 3 + [("processes", 2, 2.5, True)] * 3 + [("processes", 4, 1.0, True)] * 3)
    summary = summarize(table, SETTINGS).set_index(["method", "workers"])
    assert summary.loc[("serial", 1), "median_seconds"] == 4.0
    assert summary.loc[("processes", 2), "speedup"] == pytest.approx(4.0 / 2.5)
    assert summary.loc[("processes", 2), "efficiency"] == pytest.approx(4.0 / 2.5 / 2)
    assert summary.loc[("processes", 4), "speedup"] == pytest.approx(4.0)
    assert summary.loc[("processes", 4), "cpu_utilisation"] == pytest.approx(4.0)
    assert (summary["flags"] == "").all()


def test_a_fast_wrong_answer_is_not_a_timing():
    table = trials([("serial", 1, 4.0, True)] * 3 + [("threads", 2, 0.001, False), ("threads", 2, 4.0, True), ("threads", 2, 4.0, True)])
    row = summarize(table, SETTINGS).set_index(["method", "workers"]).loc[("threads", 2)]
    assert row["median_seconds"] == 4.0
    assert row["wrong_trials"] == 1 and row["correct_trials"] == 2
    assert "1 wrong answer" in row["flags"]


def test_warmup_rounds_are_left_out():
    table = trials([("serial", 1, 100.0, True), ("serial", 1, 1.0, True), ("serial", 1, 1.0, True)])
    table.loc[0, ["warmup", "repeat"]] = [True, None]
    row = summarize(table, SETTINGS).iloc[0]
    assert row["trials"] == 2 and row["median_seconds"] == 1.0


def test_spread_out_points_are_flagged():
    table = trials([("serial", 1, s, True) for s in (1.0, 2.0, 3.0, 4.0, 5.0)])
    assert "wide interval" in summarize(table, SETTINGS).iloc[0]["flags"]


def test_overlapping_trials_are_found():
    table = trials([("serial", 1, 1.0, True)] * 4)
    assert overlapping_trials(table).empty
    table.loc[2, "started_at"] = table.loc[1, "ended_at"] - 0.5
    clashes = overlapping_trials(table)
    assert list(clashes["round"]) == [2]


def test_karp_flatt_serial_fraction():
    from report.analysis import karp_flatt

    assert karp_flatt(4.0, 4) == pytest.approx(0.0)  # perfect division
    assert karp_flatt(1.0, 4) == pytest.approx(1.0)  # nothing divided
    # Amdahl with a 10% serial part on 4 workers: S = 1 / (0.1 + 0.9 / 4)
    assert karp_flatt(1 / (0.1 + 0.9 / 4), 4) == pytest.approx(0.1)


def test_serial_fraction_is_reported_for_parallel_points():
    table = trials([("serial", 1, 4.0, True)] * 3 + [("processes", 2, 2.5, True)] * 3)
    summary = summarize(table, SETTINGS).set_index(["method", "workers"])
    assert summary.loc[("processes", 2), "serial_fraction"] == pytest.approx((2.5 / 4.0 - 0.5) / 0.5)
    assert np.isnan(summary.loc[("serial", 1), "serial_fraction"])


def test_steadily_rising_times_are_flagged_as_drift():
    rising = trials([("serial", 1, s, True) for s in (1.00, 1.01, 1.02, 1.03, 1.04, 1.05)])
    flat = trials([("serial", 1, s, True) for s in (1.00, 1.03, 1.01, 1.04, 1.02, 1.03)])
    assert "drift: times rise" in summarize(rising, SETTINGS).iloc[0]["flags"]
    assert "drift" not in summarize(flat, SETTINGS).iloc[0]["flags"]
