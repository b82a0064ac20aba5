"""What a start method costs: the time to start a pool of workers, give each one
task and shut the pool down, under fork, spawn and forkserver.

``fork`` copies the parent process; ``spawn`` starts a fresh interpreter that
imports the modules it needs; ``forkserver`` forks workers from a small server
process started once (its first start is part of the first trial of each
round's order, which the warm-up round absorbs). ``subinterpreters`` starts no
process: it creates an interpreter per worker in this one (where the Python
has an interpreters module, see :mod:`experiments.subinterpreters`).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from experiments import subinterpreters
from experiments.spec import Experiment, Method, Point, grid_points


def worker_pid(_: int) -> int:
    return os.getpid()


def _start_pool(context: str):
    def run(*, workers: int, start_method: str | None = None) -> int:
        # the method's own start method, whatever the job's: that is the comparison
        with multiprocessing.get_context(context).Pool(workers) as pool:
            pids = set(pool.map(worker_pid, range(workers), chunksize=1))
        return 0 if os.getpid() in pids else len(pids)

    run.__name__ = f"start_pool_{context}"
    return run


def _start_subinterpreters(*, workers: int, start_method: str | None = None) -> int:
    """The same for a subinterpreter per worker: create each, give it one task, destroy it.

    The answer counts the distinct interpreters that ran a task, 0 if this
    (the main) interpreter ran one, as the pools' count worker processes.
    """
    ids = set(subinterpreters.map_in_interpreters(subinterpreters.interpreter_id, [()] * workers, workers=workers))
    return 0 if subinterpreters.interpreter_id() in ids else len(ids)


def _verify_started(point: Point, answer: Any) -> bool:
    """Every task ran in one of the pool's worker processes, none in the parent."""
    return 1 <= answer <= point.workers


POOL_STARTUP = Experiment(
    name="pool_startup",
    family="startup",
    title="Starting a pool: fork, spawn, forkserver",
    methods=tuple(
        Method(name, name, _start_pool(name)) for name in multiprocessing.get_all_start_methods()
        if name in ("fork", "spawn", "forkserver")
    ) + (Method("subinterpreters", "subinterpreters", _start_subinterpreters, unavailable=subinterpreters.unavailable),),
    points=lambda settings: grid_points(settings, POOL_STARTUP.params, POOL_STARTUP.methods),
    verify=_verify_started,
    baseline="fork",
)

EXPERIMENTS = (POOL_STARTUP,)
