"""Rounds until precise, disturbed trials measured again, answers that may not overwrite columns:
the harness with a fake clock that each method advances by its own durations."""

from __future__ import annotations

import io
import random

import pytest

from experiments.disturbance import MachineTicks
from experiments.harness import Clocks, TrialContext, run_trials, time_trial
from experiments.spec import Experiment, Method, Point, grid_points


class FakeMachine:
    """A clock that only the methods move, a tree CPU clock that follows it, and outside load on demand."""

    def __init__(self):
        self.now = 0.0
        self.cpu = 0.0
        self.foreign = 0.0

    def advance(self, seconds: float, *, foreign: float = 0.0) -> None:
        self.now += seconds
        self.cpu += seconds
        self.foreign += foreign

    def clocks(self) -> Clocks:
        return Clocks(interval=lambda: self.now, wall=lambda: 1e9 + self.now, cpu=lambda exclude=(): self.cpu,
                      machine=lambda: MachineTicks(busy=self.cpu + self.foreign, steal=0.0))


def experiment_with(machine: FakeMachine, durations: dict, *, foreign=lambda method: 0.0) -> Experiment:
    """Methods that take ``durations[name]()`` fake seconds and answer ``workers``."""

    def method(name, parallel=True):
        def run(*, workers, start_method):
            machine.advance(durations[name](), foreign=foreign(name))
            return workers
        return Method(name, name, run, parallel=parallel)

    methods = (method("steady"), method("noisy"), method("serial", parallel=False))
    return Experiment(name="toy", family="tests", title="toy", methods=methods,
                      points=lambda settings: grid_points(settings, (), methods),
                      verify=lambda point, answer: answer == point.workers, baseline="serial")


SETTINGS = {"methods": ["steady", "noisy", "serial"], "workers": [2], "repeats": 6, "warmup": 1,
            "precision": 0.03, "max_rounds": 30, "time_budget_seconds": 1e6,
            "disturbance": {"max_foreign_share": 0.1, "min_foreign_seconds": 0.05, "max_remeasures": 3}}


def measure(experiment, machine, settings=SETTINGS):
    rows = []
    outcome = run_trials(experiment, settings, start_method=None, on_trial=rows.append, clocks=machine.clocks(),
                         memory_interval=None, progress=io.StringIO())
    return rows, outcome


def counts(rows):
    timed = [row for row in rows if not row["warmup"]]
    return {name: sum(row["method"] == name for row in timed) for name in ("steady", "noisy", "serial")}


def test_only_imprecise_points_and_their_baseline_get_more_rounds():
    machine, rng = FakeMachine(), random.Random(1)
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: rng.uniform(0.5, 1.5)}
    rows, outcome = measure(experiment_with(machine, durations), machine)
    seen = counts(rows)
    assert seen["steady"] == SETTINGS["repeats"]  # precise from the first rounds on
    assert seen["noisy"] > SETTINGS["repeats"] and seen["serial"] == seen["noisy"]  # the baseline goes along
    assert outcome.rounds == SETTINGS["warmup"] + seen["noisy"]
    # every extra round measured the noisy point and its baseline together, in one round each
    extra = [row for row in rows if row["round"] >= SETTINGS["warmup"] + SETTINGS["repeats"]]
    assert {row["method"] for row in extra} == {"noisy", "serial"}
    assert all(sum(r["round"] == row["round"] for r in extra) == 2 for row in extra)


def test_rounds_stop_at_max_rounds_or_when_the_budget_is_spent():
    machine, rng = FakeMachine(), random.Random(2)
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: rng.uniform(0.1, 3.0)}
    _, capped = measure(experiment_with(machine, durations), machine, {**SETTINGS, "max_rounds": 8})
    assert capped.rounds == 1 + 8 and "max_rounds" in capped.stop_reason
    assert capped.unconverged == ["noisy workers=2"]
    machine = FakeMachine()
    _, budget = measure(experiment_with(machine, durations), machine, {**SETTINGS, "time_budget_seconds": 40})
    assert "time budget" in budget.stop_reason
    assert budget.rounds < 1 + 30


def test_converged_runs_stop_with_that_reason():
    machine = FakeMachine()
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: 1.5}
    _, outcome = measure(experiment_with(machine, durations), machine)
    assert outcome.rounds == 1 + 6 and outcome.stop_reason == "every point met the precision target"
    assert outcome.unconverged == []


def test_a_disturbed_trial_is_kept_flagged_and_measured_again():
    machine = FakeMachine()
    disturbed_calls = iter([True, True] + [False] * 1000)
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: 1.5}
    # the first two trials of "steady" have another process use 0.5 CPU seconds per second beside them
    load = lambda method: 0.5 if method == "steady" and next(disturbed_calls) else 0.0  # noqa: E731
    rows, outcome = measure(experiment_with(machine, durations, foreign=load), machine)
    steady = [row for row in rows if row["method"] == "steady"]
    flagged = [row for row in steady if row["disturbed"]]
    assert len(flagged) == 2 and outcome.disturbed == 2
    assert all(row["foreign_cpu_seconds"] == pytest.approx(0.5) for row in flagged)
    # measured again in the same round: every round still has one undisturbed steady trial
    for round_index in {row["round"] for row in steady}:
        assert sum(not row["disturbed"] for row in steady if row["round"] == round_index) == 1


def test_remeasuring_is_bounded():
    machine = FakeMachine()
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: 1.5}
    load = lambda method: 0.5 if method == "steady" else 0.0  # noqa: E731 - a neighbour that never stops
    settings = {**SETTINGS, "repeats": 2, "max_rounds": 2, "disturbance": {**SETTINGS["disturbance"], "max_remeasures": 1}}
    rows, _ = measure(experiment_with(machine, durations, foreign=load), machine, settings)
    assert sum(row["method"] == "steady" for row in rows) == 3 * 2  # three rounds, two tries each


def test_an_answer_may_not_overwrite_a_column():
    def run(*, workers, start_method):
        return {"result": 1, "workers": 99}

    experiment = Experiment(name="toy", family="tests", title="toy", methods=(Method("a", "a", run),),
                            points=lambda settings: [Point("a", 2)], verify=lambda point, answer: True)
    with pytest.raises(ValueError, match="overwrite the column.*workers"):
        time_trial(experiment, Point("a", 2), TrialContext(clocks=FakeMachine().clocks()))


def test_a_point_with_too_few_quiet_trials_is_not_precise_and_gets_more_rounds():
    machine = FakeMachine()
    durations = {"steady": lambda: 1.0, "serial": lambda: 2.0, "noisy": lambda: 1.5}
    busy_rounds = iter([True] * 16 + [False] * 1000)  # every try of steady's first rounds is disturbed
    load = lambda method: 0.5 if method == "steady" and next(busy_rounds) else 0.0  # noqa: E731
    settings = {**SETTINGS, "disturbance": {**SETTINGS["disturbance"], "max_remeasures": 3}}
    rows, outcome = measure(experiment_with(machine, durations, foreign=load), machine, settings)
    quiet = [row for row in rows if row["method"] == "steady" and not row["warmup"] and not row["disturbed"]]
    # the four disturbed rounds left steady with too few quiet trials for a 95% interval: rounds went on
    assert len(quiet) >= 6
    assert outcome.stop_reason == "every point met the precision target"
