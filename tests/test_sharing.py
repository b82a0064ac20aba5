"""The sharing family: every method's checks under every start method, memory as measured,
no leftovers in /dev/shm, and the too-large-array error."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from conftest import REPO
from experiments import sharing, workers
from experiments.harness import TrialContext, time_trial
from experiments.spec import Point

START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
SMALL = {"rows": 60, "columns": 500}


def _fork_context() -> TrialContext:
    """A job's trial context under fork, sparing the processes already there (a forkserver of earlier tests)."""
    spare = tuple(child.pid for child in psutil.Process().children(recursive=True))
    return TrialContext(start_method="fork", memory_interval=None, spare=spare)
CASES = [(sharing.NUMPY_SHARING, method.name, {**SMALL, "hold_seconds": 0.0}) for method in sharing.NUMPY_SHARING.methods]
CASES += [(sharing.RANDOM_FILL, method.name, SMALL) for method in sharing.RANDOM_FILL.methods]


def _heap_files() -> list[Path]:
    """Files multiprocessing's shared heap (Array, RawArray) made in /dev/shm for this process."""
    return list(Path(sharing.SHM_DIR).glob(f"pym-{os.getpid()}-*"))


@pytest.fixture
def created_segments(monkeypatch) -> list[str]:
    """Names of the shared-memory segments created in this process during the test."""
    names = []
    original = sharing.shared_memory.SharedMemory

    def recording(*args, **kwargs):
        segment = original(*args, **kwargs)
        if kwargs.get("create"):
            names.append(segment.name)
        return segment

    monkeypatch.setattr(sharing.shared_memory, "SharedMemory", recording)
    return names


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("experiment, method, params", CASES, ids=[f"{e.name}-{m}" for e, m, _ in CASES])
def test_every_method_passes_its_checks_under_every_start_method(experiment, method, params, start_method):
    workers_ = 3 if experiment.method(method).parallel else 1
    answer = experiment.method(method).run(workers=workers_, start_method=start_method, **params)
    assert experiment.verify(Point(method, workers_, params), answer), answer
    assert answer["unwritten_cells"] == 0
    assert answer["array_bytes"] == SMALL["rows"] * SMALL["columns"] * 8
    if experiment is sharing.NUMPY_SHARING:
        assert answer["result"] == workers_  # distinct writers
    else:
        assert answer["duplicated_streams"] == 0
        assert answer["fill_seconds"] > 0


@pytest.mark.parametrize("method", [m.name for m in sharing.NUMPY_SHARING.methods])
def test_fewer_rows_than_workers_is_a_correct_run(method):
    params = {"rows": 2, "columns": 50, "hold_seconds": 0.0}
    answer = sharing.NUMPY_SHARING.method(method).run(workers=3, start_method="fork", **params)
    assert answer["result"] == 2  # the third worker was given no rows
    assert sharing.NUMPY_SHARING.verify(Point(method, 3, params), answer), answer


def test_the_fill_check_rejects_workers_that_repeat_one_stream(monkeypatch):
    seed = sharing.np.random.SeedSequence(7)

    class OneSeed:
        """Hands every worker the same seed: all cells filled, mean ½, but one stream three times."""

        def spawn(self, n):
            return [seed] * n

    monkeypatch.setattr(sharing.np.random, "SeedSequence", OneSeed)
    answer = sharing.RANDOM_FILL.method("processes").run(workers=3, start_method="fork", **SMALL)
    assert answer["unwritten_cells"] == 0
    assert answer["duplicated_streams"] == 2
    assert not sharing.RANDOM_FILL.verify(Point("processes", 3, SMALL), answer)


def test_fill_time_spans_the_fills_alone():
    answer = sharing.random_answer(sharing.np.full((2, 2), 0.5), [(1.0, 2.0), (1.5, 3.0)], [0.1, 0.2])
    assert answer["fill_seconds"] == 2.0
    assert answer["duplicated_streams"] == 0


def test_checks_reject_a_missing_writer_and_unwritten_cells():
    point = Point("rawarray", 3, SMALL)
    assert not sharing.NUMPY_SHARING.verify(point, {"result": 2, "unwritten_cells": 0})
    assert not sharing.NUMPY_SHARING.verify(point, {"result": 3, "unwritten_cells": 1})
    array = sharing.np.full((4, 5), sharing.FILL_VALUE)
    array[:2], array[2:3] = 11, 12
    assert sharing.writers_answer(array, [11, 12, 13]) == {"result": 2, "unwritten_cells": 5, "array_bytes": 160}


#: Three trials in a fresh interpreter, as the workflow runs them: forked from a test
#: process that has loaded the whole test suite, workers would carry its weight.
MEMORY_SCRIPT = """
import json, sys
from experiments.harness import TrialContext, time_trial
from experiments.sampler import Sampler
from experiments.sharing import NUMPY_SHARING
from experiments.spec import Point
rows = {}
with Sampler() as sampler:
    context = TrialContext(start_method="fork", sampler=sampler, memory_interval=0.02)
    for method in ("shared_memory", "rawarray", "copied"):
        point = Point(method, 3, {"rows": 1500, "columns": 10000, "hold_seconds": 0.25})
        rows[method], _ = time_trial(NUMPY_SHARING, point, context)
json.dump(rows, sys.stdout)
"""


def test_memory_shows_one_shared_array_and_a_copy_per_worker():
    size, count = 1500 * 10_000 * 8, 3  # 120 MB, well above an interpreter's own memory
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    peaks = json.loads(done.stdout)
    for method, row in peaks.items():
        assert row["correct"], (method, row["error"])
    for method in ("shared_memory", "rawarray"):
        assert size <= peaks[method]["peak_pss_bytes"] < count * size
        assert peaks[method]["peak_worker_uss_bytes"] < size / 4
    assert peaks["copied"]["peak_pss_bytes"] > count * size
    assert peaks["copied"]["peak_worker_uss_bytes"] > size


def _attach_and_raise(kind, handle, shape, start, stop, *, report):
    sharing.on_view(kind, handle, shape, lambda view: view.fill(1.0))
    raise RuntimeError(f"worker for rows {start}-{stop} fails on purpose")


@pytest.mark.parametrize("method", ["shared_memory", "array"])
def test_nothing_is_left_in_dev_shm_when_a_worker_raises(method, monkeypatch, created_segments):
    monkeypatch.setattr(sharing, "_write_pid_shared", _attach_and_raise)  # fork: the children see the patch
    point = Point(method, 2, {**SMALL, "hold_seconds": 0.0})
    row, _ = time_trial(sharing.NUMPY_SHARING, point, _fork_context())
    assert not row["correct"]
    assert "WorkerFailed: worker" in row["error"] and "fails on purpose" in row["error"]
    assert len(created_segments) == (method == "shared_memory")
    assert not any((Path(sharing.SHM_DIR) / name).exists() for name in created_segments)
    assert not _heap_files()


def _exit_at_once(*args, report):
    os._exit(3)


def test_a_worker_that_dies_fails_the_trial_at_once():
    with pytest.raises(workers.WorkerFailed, match="exit code 3 before reporting"):
        workers.run_workers(_exit_at_once, [(), ()], start_method="fork", timeout=30)


def _never_report(*args, report):
    pass


def test_a_worker_that_never_reports_fails_after_the_timeout():
    with pytest.raises(workers.WorkerFailed, match="ended with exit code 0 before reporting|did not report"):
        workers.run_workers(_never_report, [()], start_method="fork", timeout=1)


def test_an_array_too_large_for_memory_fails_its_trial_at_once_with_the_numbers():
    point = Point("copied", 2, {"rows": 1_000_000, "columns": 1_000_000, "hold_seconds": 0.0})  # 8 TB
    row, _ = time_trial(sharing.NUMPY_SHARING, point, _fork_context())
    assert not row["correct"]
    assert row["error"].startswith("ArrayTooLarge: a 1,000,000 × 1,000,000 float64 array (8000.00 GB) does not fit")
    assert "7 × 8000.00 GB = 56000.00 GB" in row["error"] and "is available" in row["error"]
    assert row["seconds"] < 1


def test_an_array_too_large_for_dev_shm_names_its_free_space(monkeypatch):
    usage = sharing.shutil.disk_usage(sharing.SHM_DIR)
    monkeypatch.setattr(sharing.shutil, "disk_usage", lambda path: usage._replace(free=1_000_000))
    with pytest.raises(sharing.ArrayTooLarge, match=r"\(0.01 GB\) does not fit in /dev/shm, which has 0.00 GB free"):
        sharing.RANDOM_FILL.method("processes").run(workers=2, start_method="fork", rows=100, columns=10_000)
