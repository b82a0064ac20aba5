"""Starting pools under every start method: real worker processes, each method's own start method,
checked answers. The methods come from the registry: those this interpreter can run."""

from __future__ import annotations

import multiprocessing

import pytest

from conftest import START_METHODS
from experiments.registry import EXPERIMENTS
from experiments.spec import Point

STARTUP = EXPERIMENTS["pool_startup"]
RUNNABLE = [method.name for method in STARTUP.methods if method.unavailable_reason() is None]
POOLS = [name for name in RUNNABLE if name in START_METHODS]


def test_an_unavailable_method_says_why():
    for method in STARTUP.methods:
        reason = method.unavailable_reason()
        assert reason is None or (isinstance(reason, str) and reason), method.name


@pytest.mark.parametrize("method", RUNNABLE)
def test_each_method_runs_the_tasks_outside_the_parent(method):
    answer = STARTUP.method(method).run(workers=2, start_method=None)
    assert STARTUP.verify(Point(method, 2, {}), answer)


@pytest.mark.parametrize("method", POOLS)
def test_each_pool_starts_its_workers_with_its_own_start_method_whatever_the_jobs(method, monkeypatch):
    asked = []
    real = multiprocessing.get_context

    def recording(name=None):
        asked.append(name)
        return real(name)

    monkeypatch.setattr(multiprocessing, "get_context", recording)
    other = next(name for name in START_METHODS if name != method) if len(START_METHODS) > 1 else None
    answer = STARTUP.method(method).run(workers=2, start_method=other)
    assert asked == [method]
    assert STARTUP.verify(Point(method, 2, {}), answer)


def test_an_answer_from_the_parent_process_is_refused():
    assert not STARTUP.verify(Point(POOLS[0], 2, {}), 0)
    assert not STARTUP.verify(Point(POOLS[0], 2, {}), 3)
