"""Load from outside the measured tree, caught per trial: a real CPU burner beside a real run."""

from __future__ import annotations

import io
import os
import signal
import statistics
import subprocess
import sys
import time

import pytest

from experiments.disturbance import MachineTicks, disturbance, is_disturbed, machine_ticks
from experiments.harness import run_trials
from experiments.machine import usable_cpus
from experiments.sampler import Sampler
from experiments.spec import Experiment, Method, Point

LIMITS = {"max_foreign_share": 0.1, "min_foreign_seconds": 0.05}


def test_foreign_time_is_the_machines_busy_time_that_was_not_ours():
    before, after = MachineTicks(busy=10.0, steal=1.0), MachineTicks(busy=12.5, steal=1.25)
    assert disturbance(before, after, own_cpu_seconds=2.0) == (0.5, 0.25)
    assert disturbance(before, after, own_cpu_seconds=3.0) == (0.0, 0.25)  # tick rounding never goes negative


def test_disturbed_means_more_than_the_share_of_the_trials_capacity():
    assert not is_disturbed(0.15, 0.0, seconds=1.0, cpus=2, limits=LIMITS)  # 7.5 % of 2 CPU-seconds
    assert is_disturbed(0.25, 0.0, seconds=1.0, cpus=2, limits=LIMITS)
    assert is_disturbed(0.0, 0.25, seconds=1.0, cpus=2, limits=LIMITS)  # steal counts the same
    assert not is_disturbed(0.04, 0.0, seconds=0.01, cpus=2, limits=LIMITS)  # below the floor of a few ticks


def test_proc_stat_is_read_in_seconds():
    first = machine_ticks()
    _spin(0.2)
    second = machine_ticks()
    assert second.busy - first.busy >= 0.15


def _spin(seconds: float) -> int:
    end, count = time.process_time() + seconds, 0
    while time.process_time() < end:
        count += 1
    return count


def _serial(*, workers, start_method):
    return _spin(0.15)


BURN = "import time; end = time.time() + {seconds}; all(iter(lambda: time.time() < end, False))"


def start_burners_outside_the_tree(seconds: float) -> list[int]:
    """CPU burners on every CPU, started through a shell that exits at once, so that they
    are no descendants of this process (the measured tree)."""
    # their output goes nowhere: a burner holding the pipe would keep subprocess.run waiting until it ends
    line = " ".join(f"{sys.executable} -c {BURN.format(seconds=seconds)!r} >/dev/null 2>&1 & echo $!;"
                    for _ in range(usable_cpus()))
    done = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=10, check=True)
    return [int(pid) for pid in done.stdout.split()]


def measure(*, burn_after: float | None) -> list[dict]:
    method = Method("serial", "serial", _serial, parallel=False)
    experiment = Experiment(name="toy", family="tests", title="toy", methods=(method,),
                            points=lambda settings: [Point("serial", 1)], verify=lambda point, answer: answer > 0)
    settings = {"repeats": 10, "warmup": 1, "max_rounds": 10, "precision": 1.0,
                "disturbance": {**LIMITS, "max_remeasures": 8}}
    rows: list[dict] = []
    burners: list[int] = []

    def keep(row):
        rows.append(row)
        if burn_after is not None and not burners and row["round"] >= 3:
            burners.extend(start_burners_outside_the_tree(burn_after))

    try:
        with Sampler() as sampler:
            run_trials(experiment, settings, start_method=None, on_trial=keep, progress=io.StringIO(),
                       memory_interval=None, sampler=sampler)
    finally:
        for pid in burners:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return rows


def good_median(rows):
    return statistics.median(row["seconds"] for row in rows if not row["warmup"] and not row["disturbed"])


def test_trials_beside_a_cpu_burner_are_set_aside_and_measured_again():
    quiet = measure(burn_after=None)
    loaded = measure(burn_after=0.8)
    disturbed = [row for row in loaded if row["disturbed"]]
    assert disturbed, "the burners' CPU time was not seen"
    assert all(row["foreign_cpu_seconds"] > 0.05 for row in disturbed)
    # each disturbed trial was measured again in its round, until a quiet try
    for row in disturbed:
        again = [r for r in loaded if r["round"] == row["round"] and r["started_at"] > row["started_at"]]
        assert again
    assert all(sum(not r["disturbed"] for r in loaded if r["round"] == i) == 1 for i in range(11))
    assert not any(row["disturbed"] for row in quiet) or len([r for r in quiet if r["disturbed"]]) <= 2
    assert good_median(loaded) == pytest.approx(good_median(quiet), rel=0.10)
