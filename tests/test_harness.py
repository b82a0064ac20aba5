"""The timing harness, with fake clocks and small real processes."""

from __future__ import annotations

import itertools
import multiprocessing
import time

import numpy as np
import pytest

from experiments.disturbance import MachineTicks
from experiments.harness import Clocks, TrialContext, process_tree_cpu_seconds, run_trials, time_trial
from experiments.spec import Column, Experiment, Method, Point, grid_points


def fake_clocks(foreign=lambda: 0.0) -> Clocks:
    """Each reading one second after the last; CPU time advances half as fast. The machine's
    busy time is the tree's plus ``foreign()``, the outside load so far (none: a quiet machine)."""
    ticks = itertools.count()
    cpu = [0.0]

    def tree_cpu(exclude=()):
        cpu[0] += 0.5
        return cpu[0]

    return Clocks(interval=lambda: float(next(ticks)), wall=lambda: 1e9 + next(ticks), cpu=tree_cpu,
                  machine=lambda: MachineTicks(busy=cpu[0] + foreign(), steal=0.0))


def _answer(*, workers, start_method, size):
    return size * workers


def _boom(*, workers, start_method, size):
    raise RuntimeError("worker died")


SIZE = Column("size", "count", "", "units of work per worker")


def toy_experiment(*methods: Method, shuffle: bool = True) -> Experiment:
    return Experiment(
        name="toy",
        family="tests",
        title="toy",
        methods=methods,
        points=lambda settings: grid_points(settings, ("size",), methods),
        verify=lambda point, answer: answer == point.params["size"] * point.workers,
        parameters=(SIZE,),
        shuffle_rounds=shuffle,
    )


SETTINGS = {"methods": ["a", "b", "serial"], "workers": [1, 2, 4], "size": 3, "repeats": 3, "warmup": 1}
METHODS = (Method("a", "A", _answer), Method("b", "B", _answer), Method("serial", "S", _answer, parallel=False))


def collect(experiment, settings=SETTINGS, clocks=None):
    rows = []
    outcome = run_trials(
        experiment, settings, start_method=None, on_trial=rows.append,
        clocks=clocks or fake_clocks(), memory_interval=None, progress=open("/dev/null", "w"),
    )
    return rows, outcome.failures


def test_grid_measures_serial_methods_once_per_round():
    points = grid_points(SETTINGS, ("size",), METHODS)
    assert sorted((p.method, p.workers) for p in points) == [
        ("a", 1), ("a", 2), ("a", 4), ("b", 1), ("b", 2), ("b", 4), ("serial", 1)]


def test_every_round_measures_every_point_once_and_warmups_are_flagged():
    rows, failures = collect(toy_experiment(*METHODS))
    assert failures == 0
    assert len(rows) == 4 * 7
    for round_index in range(4):
        in_round = [r for r in rows if r["round"] == round_index]
        assert sorted((r["method"], r["workers"]) for r in in_round) == sorted(
            (p.method, p.workers) for p in grid_points(SETTINGS, ("size",), METHODS))
        assert all(r["warmup"] == (round_index == 0) for r in in_round)
        assert all(r["repeat"] == (None if round_index == 0 else round_index - 1) for r in in_round)
    # rounds are interleaved: no round starts before the previous one ended
    ends = [max(r["ended_at"] for r in rows if r["round"] == i) for i in range(4)]
    starts = [min(r["started_at"] for r in rows if r["round"] == i) for i in range(4)]
    assert all(starts[i + 1] > ends[i] for i in range(3))


def test_order_is_shuffled_per_round_unless_the_experiment_forbids_it():
    shuffled, _ = collect(toy_experiment(*METHODS))
    fixed, _ = collect(toy_experiment(*METHODS, shuffle=False))

    def orders(rows):
        return [tuple((r["method"], r["workers"]) for r in rows if r["round"] == i) for i in range(4)]

    assert len(set(orders(shuffled))) > 1
    assert len(set(orders(fixed))) == 1


def test_trial_records_clock_differences_answer_and_check():
    experiment = toy_experiment(*METHODS)
    row, _ = time_trial(experiment, Point("a", 2, {"size": 3}), TrialContext(clocks=fake_clocks()))
    assert row["seconds"] == 1.0  # one tick of the fake interval clock
    assert row["cpu_seconds"] == 0.5
    assert row["result"] == 6 and row["correct"] and row["error"] == ""
    assert row["ended_at"] > row["started_at"]


def test_a_failing_method_is_a_failed_trial_not_a_crash():
    experiment = toy_experiment(Method("a", "A", _answer), Method("boom", "B", _boom))
    rows, failures = collect(experiment, {**SETTINGS, "methods": ["a", "boom"]})
    broken = [r for r in rows if r["method"] == "boom"]
    assert broken and all(not r["correct"] and "RuntimeError: worker died" in r["error"] for r in broken)
    assert all(r["correct"] for r in rows if r["method"] == "a")
    assert failures == len(broken)


def test_a_wrong_answer_is_recorded_as_incorrect():
    experiment = Experiment(name="toy", family="tests", title="toy", methods=METHODS, parameters=(SIZE,),
                            points=lambda s: [Point("a", 1, {"size": 1})], verify=lambda point, answer: False)
    row, _ = time_trial(experiment, Point("a", 1, {"size": 1}), TrialContext(clocks=fake_clocks()))
    assert row["correct"] is False and row["error"] == ""


def _burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_time_includes_worker_processes():
    before = process_tree_cpu_seconds()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_burn_cpu, [0.3, 0.3])
    used = process_tree_cpu_seconds() - before
    # each worker burnt 0.3 s of its own CPU time; the parent barely any
    assert used >= 0.55


def test_start_method_axis_applies_to_methods_that_use_one_and_is_recorded_per_trial():
    given = []

    def run(*, workers, start_method, size):
        given.append(start_method)
        return size * workers

    methods = (Method("pool", "P", run, uses_start_method=True), Method("threads", "T", run),
               Method("serial", "S", run, parallel=False))
    settings = {**SETTINGS, "methods": ["pool", "threads", "serial"], "workers": [2], "start_methods": ["spawn", "forkserver"]}
    rows, failures = collect(toy_experiment(*methods), settings)
    assert failures == 0
    calls = [(row["method"], row["start_method"], start_method) for row, start_method in zip(rows, given, strict=True)]
    job_default = multiprocessing.get_all_start_methods()[0]
    assert {call for call in calls if call[0] == "pool"} == {("pool", "spawn", "spawn"), ("pool", "forkserver", "forkserver")}
    # the others run under the job's start method (None: Python's default), which their rows name
    assert {call[1:] for call in calls if call[0] != "pool"} == {(job_default, None)}
    assert len(rows) == (settings["repeats"] + settings["warmup"]) * 4
