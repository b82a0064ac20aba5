"""Statistics on small hand-made trial tables whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from report.analysis import AnalysisSettings, karp_flatt, overlapping_trials, summarize

SETTINGS = AnalysisSettings()


def trials(points, rounds=None):
    """A tidy table of pi_python trials: ``points`` maps (method, workers) to one time per round
    (or one time for every round), with ``correct`` True unless a time is negative."""
    records, clock = [], 0.0
    rounds = rounds or max(len(times) if isinstance(times, list) else 1 for times in points.values())
    for round_index in range(rounds):
        for order, ((method, workers), times) in enumerate(points.items()):
            seconds = times[round_index] if isinstance(times, list) else times
            if seconds is None:
                continue
            records.append({
                "interpreter": "main", "experiment": "pi_python", "start_method": "fork", "job_start_method": "fork",
                "method": method, "workers": workers, "samples": 1000, "round": round_index, "warmup": False,
                "repeat": round_index, "order": order, "seconds": abs(seconds), "cpu_seconds": abs(seconds) * workers,
                "peak_pss_bytes": 1e6, "peak_uss_bytes": 1e6, "memory_samples": 1, "disturbed": False,
                "result": 3.14, "correct": seconds > 0, "error": "", "started_at": clock, "ended_at": clock + abs(seconds),
            })
            clock += abs(seconds) + 0.01
    return pd.DataFrame(records)


def by_point(table, **options):
    return summarize(table, SETTINGS, **options).set_index(["method", "workers"])


def test_medians_speedup_and_efficiency_per_point():
    summary = by_point(trials({("serial", 1): 4.0, ("processes", 2): 2.5, ("processes", 4): 1.0}, rounds=6),
                       usable_cpus=4)
    assert summary.loc[("serial", 1), "median_seconds"] == 4.0
    assert summary.loc[("processes", 2), "speedup"] == pytest.approx(4.0 / 2.5)
    assert summary.loc[("processes", 2), "efficiency"] == pytest.approx(4.0 / 2.5 / 2)
    assert summary.loc[("processes", 4), "speedup"] == pytest.approx(4.0)
    assert summary.loc[("processes", 4), "cpu_utilisation"] == pytest.approx(4.0)
    assert (summary["flags"] == "").all() and (summary["implausible"] == "").all()
    assert summary["converged"].all() and (summary["interval_level"] == 0.95).all()


def test_speedups_pair_the_rounds_so_a_drift_of_every_method_cancels():
    drift = [1.0, 1.3, 0.8, 1.6, 1.1, 0.9, 1.4]
    summary = by_point(trials({("serial", 1): [4.0 * d for d in drift], ("processes", 2): [2.0 * d for d in drift]}))
    row = summary.loc[("processes", 2)]
    assert row["speedup"] == pytest.approx(2.0)
    assert (row["speedup_low"], row["speedup_high"]) == pytest.approx((2.0, 2.0))
    assert row["relative_width"] > 0.3  # while each point's own interval is wide


def test_efficiency_and_serial_fraction_count_only_the_workers_that_can_run_at_once():
    summary = by_point(trials({("serial", 1): 4.0, ("processes", 4): 2.5}, rounds=6), usable_cpus=2)
    row = summary.loc[("processes", 4)]
    assert row["efficiency"] == pytest.approx(4.0 / 2.5 / 2)
    assert row["serial_fraction"] == pytest.approx(karp_flatt(4.0 / 2.5, 2))


def test_speedups_beyond_the_cpus_or_at_one_worker_are_implausible():
    summary = by_point(trials({("serial", 1): 4.0, ("processes", 1): 3.0, ("processes", 2): 2.2,
                               ("processes", 4): 1.3}, rounds=6), usable_cpus=2)
    assert "one worker" in summary.loc[("processes", 1), "implausible"]
    assert summary.loc[("processes", 2), "implausible"] == ""
    assert "above the 2 usable CPUs" in summary.loc[("processes", 4), "implausible"]


def test_a_fast_wrong_answer_is_not_a_timing():
    row = by_point(trials({("serial", 1): 4.0, ("threads", 2): [-0.001, 4.0, 4.0]})).loc[("threads", 2)]
    assert row["median_seconds"] == 4.0
    assert row["wrong_trials"] == 1 and row["correct_trials"] == 2
    assert "1 wrong answer" in row["flags"]


def test_disturbed_trials_are_counted_and_left_out():
    table = trials({("serial", 1): [9.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    table.loc[0, "disturbed"] = True
    row = by_point(table).loc[("serial", 1)]
    assert row["disturbed_trials"] == 1 and row["median_seconds"] == 1.0


def test_a_point_whose_every_trial_failed_is_a_row_that_says_why():
    table = trials({("serial", 1): 4.0, ("processes", 2): -1.0}, rounds=6)
    failed = table["method"] == "processes"
    table.loc[failed, "error"] = "RedisUnavailable: redis-server is not installed"
    table.loc[failed, "result"] = None
    table["result"] = table["result"].astype(object)
    row = by_point(table).loc[("processes", 2)]
    assert np.isnan(row["median_seconds"]) and np.isnan(row["speedup"]) and np.isnan(row["median_result"])
    assert "failed: RedisUnavailable: redis-server is not installed" in row["flags"]


def test_too_few_trials_say_the_level_their_interval_reaches():
    row = by_point(trials({("serial", 1): [1.0, 1.1, 1.2]})).loc[("serial", 1)]
    assert row["interval_level"] == pytest.approx(0.75)
    assert "the interval reaches only 75%" in row["flags"]
    assert not row["converged"]


def test_warmup_rounds_are_left_out():
    table = trials({("serial", 1): [100.0, 1.0, 1.0]})
    table.loc[0, ["warmup", "repeat"]] = [True, None]
    row = summarize(table, SETTINGS).iloc[0]
    assert row["trials"] == 2 and row["median_seconds"] == 1.0


def test_spread_out_points_are_flagged():
    table = trials({("serial", 1): [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    assert "wide interval" in summarize(table, SETTINGS).iloc[0]["flags"]


def test_overlapping_trials_are_found():
    table = trials({("serial", 1): 1.0}, rounds=4)
    assert overlapping_trials(table).empty
    table.loc[2, "started_at"] = table.loc[1, "ended_at"] - 0.5
    clashes = overlapping_trials(table)
    assert list(clashes["round"]) == [2]


def test_karp_flatt_serial_fraction():
    assert karp_flatt(4.0, 4) == pytest.approx(0.0)  # perfect division
    assert karp_flatt(1.0, 4) == pytest.approx(1.0)  # nothing divided
    # Amdahl with a 10% serial part on 4 workers: S = 1 / (0.1 + 0.9 / 4)
    assert karp_flatt(1 / (0.1 + 0.9 / 4), 4) == pytest.approx(0.1)


def test_steadily_rising_times_are_flagged_as_drift():
    rising = trials({("serial", 1): [1.00, 1.01, 1.02, 1.03, 1.04, 1.05]})
    flat = trials({("serial", 1): [1.00, 1.03, 1.01, 1.04, 1.02, 1.03]})
    assert "drift: times rise" in summarize(rising, SETTINGS).iloc[0]["flags"]
    assert "drift" not in summarize(flat, SETTINGS).iloc[0]["flags"]


def test_the_disturbance_record_counts_set_aside_trials_and_the_outside_load_per_experiment():
    from report.analysis import disturbance_record

    table = trials({("serial", 1): 1.0}, rounds=4)
    table["foreign_cpu_seconds"] = [0.0, 0.0, 1.0, 0.2]
    table["steal_seconds"] = 0.0
    table.loc[2, "disturbed"] = True
    record = disturbance_record(table, usable_cpus=2)["pi_python"]
    assert record["trials"] == 4 and record["disturbed"] == 1
    assert record["foreign_share"] == pytest.approx(1.2 / (4 * 1.0 * 2))
    assert disturbance_record(table.drop(columns="disturbed"), usable_cpus=2) == {}


def test_the_convergence_record_says_how_each_jobs_rounds_ended():
    from report.analysis import convergence_record

    run = {"jobs": {"pi_python@main": {"rounds": 9, "stop_reason": "time budget (20 s) spent",
                                       "unconverged": ["threads workers=2 samples=1000"]},
                    "pi_python@absent": {"skipped": "not found"}}}
    assert convergence_record(run) == {"pi_python@main": {"rounds": 9, "stop_reason": "time budget (20 s) spent",
                                                          "unconverged": ["threads workers=2 samples=1000"]}}


def test_points_on_the_start_method_axis_get_their_ratio_to_fork_paired_by_round():
    drift = [1.0, 1.2, 0.9, 1.3, 1.1, 1.0]
    table = trials({("serial", 1): [2.0 * d for d in drift], ("processes", 2): [1.0 * d for d in drift]})
    forkserver = table[table["method"] == "processes"].assign(start_method="forkserver",
                                                              seconds=lambda t: t["seconds"] * 1.5)
    summary = summarize(pd.concat([table, forkserver], ignore_index=True), SETTINGS)
    row = summary[(summary["method"] == "processes") & (summary["start_method"] == "forkserver")].iloc[0]
    assert row["vs_fork"] == pytest.approx(1.5)
    assert (row["vs_fork_low"], row["vs_fork_high"]) == pytest.approx((1.5, 1.5))
    assert summary.loc[summary["start_method"] == "fork", "vs_fork"].isna().all()  # the job's own: not on the axis
