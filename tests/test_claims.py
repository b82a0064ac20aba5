"""Claims: verdicts that can say "not sure", on trial tables whose answers are known by construction."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from report.analysis import AnalysisSettings
from report.claims import CLAIMS, evaluate_claims
from report.claims.common import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, above, below, within
from report.figures import FIGURES

MACHINE = {"physical_cores": 2, "logical_cpus": 2, "usable_cpus": 2}


@pytest.mark.parametrize("low, high, expected", [(1.3, 1.5, REPRODUCED), (0.8, 0.9, NOT_REPRODUCED), (0.9, 1.3, INCONCLUSIVE)])
def test_above_decides_only_when_the_interval_is_on_one_side(low, high, expected):
    assert above(1.0, (low + high) / 2, low, high) == expected


@pytest.mark.parametrize("low, high, expected", [(0.8, 0.9, REPRODUCED), (1.3, 1.5, NOT_REPRODUCED), (0.9, 1.3, INCONCLUSIVE)])
def test_below_decides_only_when_the_interval_is_on_one_side(low, high, expected):
    assert below(1.0, (low + high) / 2, low, high) == expected


@pytest.mark.parametrize("low, high, expected", [(0.9, 1.1, REPRODUCED), (1.3, 1.5, NOT_REPRODUCED), (0.7, 1.0, INCONCLUSIVE)])
def test_within_needs_the_whole_interval_inside(low, high, expected):
    assert within(0.8, 1.25, (low + high) / 2, low, high) == expected


def pi_python_trials(times: dict[tuple[str, int], list[float]], experiment: str = "pi_python",
                     samples: int = 10**6) -> pd.DataFrame:
    clock = itertools.count()
    rows = []
    for (method, workers), seconds in times.items():
        for repeat, value in enumerate(seconds):
            start = float(next(clock))
            rows.append({"experiment": experiment, "method": method, "workers": workers, "samples": samples,
                         "warmup": False, "repeat": repeat, "round": repeat, "seconds": value, "correct": True,
                         "started_at": start, "ended_at": start + value})
    return pd.DataFrame(rows)


def verdicts(trials):
    claims = evaluate_claims(trials, MACHINE, AnalysisSettings())
    return dict(zip(claims["claim"], claims["verdict"]))


def test_linear_processes_and_idle_threads_reproduce_the_book():
    trials = pi_python_trials({
        ("serial", 1): [4.0, 4.1, 3.9, 4.0, 4.05],
        ("threads", 2): [4.0, 4.1, 4.0, 3.95, 4.1],
        ("processes", 2): [2.0, 2.05, 1.98, 2.02, 2.0],
        ("processes", 4): [2.0, 2.1, 2.0, 1.95, 2.05],
    })
    result = verdicts(trials)
    assert result["threads-no-gain"] == REPRODUCED
    assert result["processes-linear"] == REPRODUCED
    assert result["no-gain-beyond-cores"] == REPRODUCED


def test_processes_that_do_not_scale_contradict_the_book():
    trials = pi_python_trials({
        ("serial", 1): [4.0, 4.0, 4.1, 3.9, 4.0],
        ("processes", 2): [3.9, 4.0, 4.1, 4.0, 3.95],
        ("threads", 2): [2.0, 2.0, 2.1, 1.9, 2.0],
    })
    result = verdicts(trials)
    assert result["processes-linear"] == NOT_REPRODUCED
    assert result["threads-no-gain"] == NOT_REPRODUCED


def test_claims_without_their_experiment_are_not_run():
    trials = pi_python_trials({("serial", 1): [1.0, 1.0, 1.0], ("processes", 2): [0.5, 0.5, 0.5], ("threads", 2): [1.0, 1.0, 1.0]})
    result = verdicts(trials)
    for claim in ("numpy-10x", "numpy-10x-blocks", "numpy-threads-help", "numpy-own-generator-threads-help", "cache-instant", "cache-no-index-repeats", "unseeded-forks-repeat", "joblib-like-pool", "no-gain-beyond-cores"):
        assert result[claim] == NOT_RUN, claim


def test_numpy_threads_are_judged_on_the_books_shared_generator_and_numpy_on_one_array():
    python = pi_python_trials({("serial", 1): [10.0, 10.1, 9.9, 10.0, 10.05]})
    numpy = pi_python_trials({
        ("serial", 1): [0.5, 0.51, 0.49, 0.5, 0.5],  # 20× faster per dart, in one array
        ("serial_blocks", 1): [1.25, 1.26, 1.24, 1.25, 1.25],  # 8×, in blocks
        ("threads", 2): [0.65, 0.66, 0.64, 0.65, 0.66],  # a generator per thread: about 1.9×
        ("serial_global", 1): [1.4, 1.41, 1.39, 1.4, 1.4],
        ("threads_global", 2): [1.4, 1.42, 1.41, 1.39, 1.4],  # the shared generator: the threads take turns
    }, experiment="pi_numpy")
    result = verdicts(pd.concat([python, numpy], ignore_index=True))
    assert result["numpy-10x"] == REPRODUCED
    assert result["numpy-10x-blocks"] == NOT_REPRODUCED
    assert result["numpy-threads-help"] == NOT_REPRODUCED
    assert result["numpy-own-generator-threads-help"] == REPRODUCED


def test_a_cache_without_an_index_is_caught_repeating_one_answer():
    rows = [{"experiment": "pi_cache", "method": "no_index", "workers": 2, "samples": 10**6, "warmup": False,
             "round": k, "seconds": 0.01, "correct": False, "duplicated_streams": 1, "started_at": float(k),
             "ended_at": k + 0.01} for k in range(3)]
    assert verdicts(pd.DataFrame(rows))["cache-no-index-repeats"] == REPRODUCED
    distinct = pd.DataFrame([dict(row, duplicated_streams=0) for row in rows])
    assert verdicts(distinct)["cache-no-index-repeats"] == NOT_REPRODUCED


def test_every_claim_points_at_an_existing_figure():
    names = {spec.name for spec in FIGURES}
    ids = [claim.id for claim in CLAIMS]
    assert len(ids) == len(set(ids))
    for claim in CLAIMS:
        assert claim.figure is None or claim.figure in names
