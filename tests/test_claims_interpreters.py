"""Claims of the interpreter axis, on trial tables whose answers are known by construction."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from report.analysis import AnalysisSettings
from report.claims import FAMILIES, interpreters
from report.claims.common import NOT_REPRODUCED, REPRODUCED, Measurements, MissingPoint

MACHINE = {"physical_cores": 2, "logical_cpus": 2, "usable_cpus": 2}

#: Nine rounds of small, different noise: enough for a narrow interval of the median.
NOISE = (1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.015, 0.985, 1.005)


def trials(points: dict[tuple[str, str, str, int], float]) -> pd.DataFrame:
    """Timed trials of (interpreter, experiment, method, workers) → median seconds, nine rounds each."""
    clock = itertools.count()
    rows = []
    for (interpreter, experiment, method, workers), seconds in points.items():
        for repeat, factor in enumerate(NOISE):
            start = float(next(clock))
            rows.append({"experiment": experiment, "interpreter": interpreter, "method": method, "workers": workers,
                         "start_method": "fork", "job_start_method": "fork", "warmup": False, "round": repeat + 1,
                         "repeat": repeat, "seconds": seconds * factor, "correct": True,
                         "started_at": start, "ended_at": start + seconds})
    return pd.DataFrame(rows)


def verdict(claim_id: str, table: pd.DataFrame) -> str:
    claim = next(claim for claim in interpreters.CLAIMS if claim.id == claim_id)
    return claim.evaluate(Measurements(table, MACHINE, AnalysisSettings())).verdict


def pi(interpreter: str, **seconds: float) -> dict:
    """pi_python points on one interpreter: serial=..., threads=..., a parallel method at 2 workers."""
    return {(interpreter, "pi_python", method, 1 if method == "serial" else 2): value
            for method, value in seconds.items()}


def test_the_family_is_registered_and_asks_for_every_interpreter():
    assert interpreters in FAMILIES
    assert interpreters.ALL_INTERPRETERS


@pytest.mark.parametrize("threads, expected", [(1.05, REPRODUCED), (1.9, NOT_REPRODUCED)])
def test_free_threaded_threads_scale_when_two_threads_halve_the_time(threads, expected):
    table = trials(pi(interpreters.FREE_THREADED, serial=2.0, threads=threads))
    assert verdict("free-threaded-threads-scale", table) == expected


@pytest.mark.parametrize("threads, expected", [(2.0, REPRODUCED), (1.0, NOT_REPRODUCED)])
def test_the_gil_switched_on_takes_the_threads_gain_away(threads, expected):
    table = trials(pi(interpreters.GIL_SWITCHED_ON, serial=2.0, threads=threads))
    assert verdict("gil-on-no-gain", table) == expected


@pytest.mark.parametrize("free_threaded, expected", [(2.4, REPRODUCED), (1.6, NOT_REPRODUCED)])
def test_the_single_thread_cost_compares_both_builds_serially(free_threaded, expected):
    table = trials({**pi(interpreters.FREE_THREADED, serial=free_threaded), **pi(interpreters.GIL_BUILD, serial=2.0)})
    assert verdict("free-threading-single-thread-cost", table) == expected


@pytest.mark.parametrize("subinterpreters, expected", [(1.02, REPRODUCED), (2.0, NOT_REPRODUCED)])
def test_subinterpreters_scale_like_processes_on_the_gil_build(subinterpreters, expected):
    table = trials(pi(interpreters.GIL_BUILD, serial=2.0, subinterpreters=subinterpreters, processes=1.05))
    assert verdict("subinterpreters-scale", table) == expected


@pytest.mark.parametrize("subinterpreters, expected", [(0.03, REPRODUCED), (0.3, NOT_REPRODUCED)])
def test_subinterpreters_start_faster_than_spawned_workers(subinterpreters, expected):
    startup = {(interpreters.GIL_BUILD, "pool_startup", "spawn", 2): 0.15,
               (interpreters.GIL_BUILD, "pool_startup", "subinterpreters", 2): subinterpreters}
    assert verdict("subinterpreters-start-fast", trials(startup)) == expected


@pytest.mark.parametrize("pypy_serial, expected", [(0.2, REPRODUCED), (1.0, NOT_REPRODUCED)])
def test_pypy_serial_is_much_faster_than_the_workflows_cpython(pypy_serial, expected):
    table = trials({**pi("main", serial=1.5), **pi(interpreters.PYPY, serial=pypy_serial)})
    assert verdict("pypy-serial-fast", table) == expected


@pytest.mark.parametrize("processes, expected", [(0.11, REPRODUCED), (0.2, NOT_REPRODUCED)])
def test_pypys_process_pool_still_scales(processes, expected):
    table = trials(pi(interpreters.PYPY, serial=0.2, processes=processes))
    assert verdict("pypy-processes-scale", table) == expected


def test_a_claim_on_an_interpreter_the_run_lacks_is_missing_a_point():
    table = trials(pi("main", serial=1.5, threads=1.5))
    claim = next(claim for claim in interpreters.CLAIMS if claim.id == "free-threaded-threads-scale")
    with pytest.raises(MissingPoint, match=interpreters.FREE_THREADED):
        claim.evaluate(Measurements(table, MACHINE))
