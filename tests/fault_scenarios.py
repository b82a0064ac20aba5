"""Faults injected into real trials, each run as ``python tests/fault_scenarios.py NAME`` in its own
process (so that a hang is caught by the caller's timeout, not by the test runner).

Each scenario prints one JSON line: the trial's error and the pids of the processes it left alive.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import threading
import time

import psutil

from experiments.faults import guarded
from experiments.harness import TrialContext, time_trial
from experiments.spec import Experiment, Method, Point
from experiments.workers import run_workers


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _pool_with_a_lost_worker(sig: int):
    def run(*, workers, start_method):
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(_sleep, [5.0] * workers)
            time.sleep(0.5)
            os.kill(pool._pool[0].pid, sig)  # a pool worker, killed or stopped mid-task
            return pending.get()
    return run


def _hanging_pool(*, workers, start_method):
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_sleep, [3600.0] * workers)


def _report_and_wait(index: int, *, report) -> None:
    report(os.getpid())


def _kill_a_worker_after_it_reported(sig: int):
    def run(*, workers, start_method):
        def kill_later():
            time.sleep(1.0)
            os.kill(psutil.Process().children()[0].pid, sig)
        threading.Thread(target=kill_later, daemon=True).start()
        return run_workers(_report_and_wait, [(i,) for i in range(workers)], start_method="fork", hold_seconds=3.0)
    return run


def _square(number: int) -> int:
    return number * number


def _forkserver_pool(*, workers, start_method, fail: bool = False, hang: bool = False):
    with multiprocessing.get_context("forkserver").Pool(workers) as pool:
        if hang:
            pool.map(_sleep, [3600.0] * workers)
        squares = pool.map(_square, range(8))
        if fail:
            raise ValueError("the method failed after its pool had started")
        return squares


def forkserver_after_faults() -> None:
    """A hung and a failed forkserver trial, then one more: the forkserver they started must serve it."""
    experiment = Experiment(name="faults", family="tests", title="faults", methods=(
        Method("hang", "hang", lambda **kwargs: _forkserver_pool(hang=True, **kwargs)),
        Method("fail", "fail", lambda **kwargs: _forkserver_pool(fail=True, **kwargs)),
        Method("works", "works", _forkserver_pool),
    ), points=lambda settings: [], verify=lambda point, answer: answer == [n * n for n in range(8)])
    rows = [time_trial(experiment, Point(name, 2), TrialContext(), deadline=3)[0] for name in ("hang", "fail", "works")]
    print(json.dumps({row["method"]: {"error": row["error"], "correct": row["correct"]} for row in rows}))


SCENARIOS = {
    "pool-sigkill": (_pool_with_a_lost_worker(signal.SIGKILL), 120),
    "pool-sigstop": (_pool_with_a_lost_worker(signal.SIGSTOP), 120),
    "pool-hang": (_hanging_pool, 3),
    "workers-sigkill": (_kill_a_worker_after_it_reported(signal.SIGKILL), 120),
    "workers-sigstop": (_kill_a_worker_after_it_reported(signal.SIGSTOP), 120),
}


def main(name: str) -> None:
    if name == "forkserver-after-faults":
        return forkserver_after_faults()
    run, deadline = SCENARIOS[name]
    experiment = Experiment(name="faults", family="tests", title="faults", methods=(Method("m", "m", run),),
                            points=lambda settings: [Point("m", 2)], verify=lambda point, answer: True)
    started = time.monotonic()
    row, _ = time_trial(experiment, Point("m", 2), TrialContext(), deadline=deadline)
    left = [child.pid for child in psutil.Process().children(recursive=True)]
    print(json.dumps({"error": row["error"], "correct": row["correct"], "left": left,
                      "seconds": time.monotonic() - started, "deadline": row["deadline_seconds"]}))


if __name__ == "__main__":
    assert guarded  # the mechanism under test
    main(sys.argv[1])
