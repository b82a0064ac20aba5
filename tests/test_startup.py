"""Starting pools under every start method: real worker processes, checked answers."""

from __future__ import annotations

import multiprocessing

import pytest

from experiments.registry import EXPERIMENTS
from experiments.spec import Point

STARTUP = EXPERIMENTS["pool_startup"]


def test_every_available_start_method_is_a_method():
    available = {m for m in multiprocessing.get_all_start_methods() if m in ("fork", "spawn", "forkserver")}
    assert set(STARTUP.method_names) == available


@pytest.mark.parametrize("method", STARTUP.method_names)
def test_each_start_method_runs_the_tasks_in_pool_workers(method):
    answer = STARTUP.method(method).run(workers=2, start_method=None)
    assert STARTUP.verify(Point(method, 2, {}), answer)


def test_an_answer_from_the_parent_process_is_refused():
    assert not STARTUP.verify(Point("fork", 2, {}), 0)
    assert not STARTUP.verify(Point("fork", 2, {}), 3)
