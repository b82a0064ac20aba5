"""The π family: work splitting, the answer check, and every method's answer under every start method."""

from __future__ import annotations

import math
from conftest import START_METHODS
from pathlib import Path

import numpy as np
import pytest

from experiments import pi
from experiments.registry import EXPERIMENTS
from experiments.spec import Point



@pytest.mark.parametrize("total, parts", [(10, 3), (7, 7), (5, 8), (1_000_003, 4), (0, 2)])
def test_split_evenly_covers_everything_in_near_equal_shares(total, parts):
    shares = pi.split_evenly(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_split_evenly_rejects_no_parts():
    with pytest.raises(ValueError, match="at least 1"):
        pi.split_evenly(10, 0)


def test_an_estimate_passes_within_six_standard_errors_and_fails_beyond():
    n = 1_000_000
    standard_error = 4 * math.sqrt(math.pi / 4 * (1 - math.pi / 4) / n)  # ≈ 0.00164 for a binomial hit count
    assert pi.pi_is_close(math.pi, 100)
    assert pi.pi_is_close(math.pi - 5.5 * standard_error, n)
    assert pi.pi_is_close(math.pi + 5.5 * standard_error, n)
    assert not pi.pi_is_close(math.pi + 6.5 * standard_error, n)
    assert not pi.pi_is_close(3.0, n)  # 0.14 off: a method that lost a share of its darts


def test_worker_seeds_are_independent():
    tasks = pi.worker_tasks(1000, 4)
    states = {tuple(seed.generate_state(4)) for _, seed in tasks}
    assert len(states) == 4


def _run(experiment_name, method_name, workers, start_method, **params):
    experiment = EXPERIMENTS[experiment_name]
    method = experiment.method(method_name)
    answer = method.run(workers=workers, start_method=start_method, **params)
    return experiment, answer


#: Every method this interpreter can run (subinterpreters need 3.13 or newer: tests/test_interpreters.py
#: runs them there).
PI_CASES = [
    ("pi_python", method.name, {"samples": 20_000}) for method in EXPERIMENTS["pi_python"].methods
    if method.unavailable_reason() is None
] + [
    ("pi_numpy", method.name, {"samples": 200_000, "block_size": 30_000}) for method in EXPERIMENTS["pi_numpy"].methods
    if method.unavailable_reason() is None
]


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("experiment_name, method_name, params", PI_CASES)
def test_every_pi_method_estimates_pi_under_every_start_method(experiment_name, method_name, params, start_method):
    experiment, answer = _run(experiment_name, method_name, 2, start_method, **params)
    assert experiment.verify(Point(method_name, 2, params), answer), answer
    assert abs(answer - math.pi) < 0.2


def test_the_books_loop_and_the_local_binding_throw_the_same_darts():
    # they differ only in how the loop reaches uniform, not in what it draws
    assert pi.count_hits_python(5_000, 11) == pi.count_hits_python_local(5_000, 11)


def test_the_books_numpy_variant_draws_from_the_global_generator(monkeypatch):
    draws = []
    original = np.random.uniform
    monkeypatch.setattr(np.random, "uniform", lambda *args: draws.append(args) or original(*args))
    hits = pi.count_hits_numpy_global(25_000, 10_000)
    assert [args[2] for args in draws] == [10_000, 10_000, 10_000, 10_000, 5_000, 5_000]  # x and y per block
    assert pi.pi_is_close(pi.estimate_from_hits(hits, 25_000), 25_000)


def test_verification_rejects_a_wrong_estimate():
    experiment = EXPERIMENTS["pi_python"]
    assert not experiment.verify(Point("serial", 1, {"samples": 1_000_000}), 3.0)
    assert experiment.verify(Point("serial", 1, {"samples": 1_000_000}), math.pi)


def test_cache_answers_the_second_call_from_disk():
    experiment = EXPERIMENTS["pi_cache"]
    settings = {"samples": 20_000}
    with experiment.session(settings) as resources:
        cold, warm = experiment.method("cold"), experiment.method("warm")
        kwargs = {"workers": 2, "start_method": None, **settings, **resources}
        cold.setup(**kwargs)
        first = cold.run(**kwargs)
        cached_entries = list(Path(resources["memory"].location).rglob("output.pkl"))
        second = warm.run(**kwargs)
    assert first == second
    assert len(cached_entries) == 2  # one result per worker task
    assert second["duplicated_streams"] == 0
    assert experiment.verify(Point("warm", 2, settings), second)


def test_a_cached_worker_without_an_index_gives_every_worker_the_same_answer():
    experiment = EXPERIMENTS["pi_cache"]
    settings = {"samples": 20_000}
    method = experiment.method("no_index")
    with experiment.session(settings) as resources:
        kwargs = {"workers": 3, "start_method": None, **settings, **resources}
        method.setup(**kwargs)
        answer = method.run(**kwargs)
    assert method.known_wrong
    assert answer["duplicated_streams"] == 2  # three workers, one cached answer
    assert not experiment.verify(Point("no_index", 3, settings), answer)


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_workers_without_reseeding_repeat_each_others_draws(workers):
    experiment = EXPERIMENTS["seeding"]
    draws = 5_000
    answers = {
        method.name: method.run(workers=workers, start_method=None, draws_per_worker=draws)
        for method in experiment.methods
    }
    # every worker repeats the first worker's stream exactly
    assert answers["numpy_global_fork"]["duplicated_draws"] == (workers - 1) * draws
    assert not experiment.verify(Point("numpy_global_fork", workers, {}), answers["numpy_global_fork"])
    for method in ("python_random_fork", "seedsequence"):
        assert answers[method]["duplicated_draws"] == 0
        assert answers[method]["draws"] == workers * draws
    assert experiment.method("numpy_global_fork").known_wrong
