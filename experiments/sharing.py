"""Sharing a large numpy array between processes, measured in memory as well as time.

Two experiments:

``numpy_sharing``
    A 2-D float64 array is filled with a marker, then each worker writes its
    process id into the rows it is given. Three ways share one array without
    copying it, each wrapped by numpy as a view: ``multiprocessing.Array`` (with
    its lock), ``RawArray`` and ``multiprocessing.shared_memory``. The baseline
    copies: every worker receives its own pickled copy of the whole array and
    sends its rows back. After every trial the parent checks the array: every
    cell holds the id of one of the workers, and every worker wrote.
``random_fill``
    A shared-memory array filled with random numbers, by one process or by
    workers that each fill their rows from their own generator. Besides the
    whole trial (making the segment, marking it, the checks, the unlink), each
    trial records ``fill_seconds``, the fill alone, which is what the book timed.

The workers reach the shared array through arguments (the shared object itself,
or the segment's name), never through globals inherited by fork, so every
method works under fork, spawn and forkserver. Before allocating, a method
checks that the array fits in the available memory and in ``/dev/shm``; if it
does not, the trial fails at once with the numbers. Segments in ``/dev/shm`` are
removed when the trial ends, also when a worker fails.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from multiprocessing import shared_memory
from typing import Any, TypeVar

import numpy as np
import psutil

from experiments.owned import segment_name
from experiments.pi import DUPLICATED_STREAMS, split_evenly
from experiments.spec import Column, Experiment, Method, Point, grid_points
from experiments.workers import run_workers

#: The value every cell holds before the workers write (never a process id, nor a random number in [0, 1)).
FILL_VALUE = -1.0

#: Where POSIX shared memory lives on Linux.
SHM_DIR = "/dev/shm"

#: Share of the available memory a trial may plan to use; the rest is left to the system.
MEMORY_HEADROOM = 0.8

#: Cells per slice when the parent scans the array (bounds the scan's temporary memory).
SCAN_CELLS = 1 << 22

#: How many standard errors the mean of the random fill may stray from 1/2.
TOLERANCE_STANDARD_ERRORS = 6.0

ITEM_BYTES = np.dtype(np.float64).itemsize

T = TypeVar("T")


class ArrayTooLarge(MemoryError):
    """The array, or the copies a method makes of it, would not fit."""


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.2f} GB"


def check_fits(rows: int, columns: int, *, copies: float, shared: bool) -> None:
    """Raise :class:`ArrayTooLarge` unless ``copies`` arrays fit in memory (and one in /dev/shm).

    Parameters
    ----------
    rows, columns
        Shape of the float64 array.
    copies
        How many arrays' worth of memory the method needs at its peak.
    shared
        Whether the array lives in ``/dev/shm``.
    """
    nbytes = rows * columns * ITEM_BYTES
    shape = f"a {rows:,} × {columns:,} float64 array ({_gb(nbytes)})"
    available = psutil.virtual_memory().available
    if copies * nbytes > MEMORY_HEADROOM * available:
        raise ArrayTooLarge(
            f"{shape} does not fit: this method needs about {copies:g} × {_gb(nbytes)} = {_gb(copies * nbytes)}"
            f" of memory, but only {_gb(available)} is available and at most {MEMORY_HEADROOM:.0%} of it is used"
        )
    if shared:
        free = shutil.disk_usage(SHM_DIR).free
        if nbytes > free:
            raise ArrayTooLarge(f"{shape} does not fit in {SHM_DIR}, which has {_gb(free)} free")


def row_blocks(rows: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive (start, stop) row ranges covering ``rows``."""
    bounds = np.cumsum([0, *split_evenly(rows, parts)])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


# --- one shared buffer, three kinds ------------------------------------------------------


@contextlib.contextmanager
def shared_buffer(kind: str, shape: tuple[int, int], start_method: str | None) -> Iterator[Any]:
    """A shared float64 buffer of ``shape``; yields the handle workers attach with.

    ``kind`` is ``"array"`` (``multiprocessing.Array``, with its lock),
    ``"rawarray"`` or ``"shared_memory"`` (yields the segment's name). The
    segment is unlinked on the way out whatever happened, so nothing is left in
    ``/dev/shm``. (``Array`` and ``RawArray`` live in a file that
    multiprocessing unlinks as soon as it is created.)
    """
    count = shape[0] * shape[1]
    if kind != "shared_memory":
        ctx = multiprocessing.get_context(start_method)
        yield ctx.Array("d", count) if kind == "array" else ctx.RawArray("d", count)
        return
    segment = shared_memory.SharedMemory(create=True, size=count * ITEM_BYTES, name=segment_name())
    try:
        yield segment.name
    finally:
        try:
            segment.close()
        finally:
            segment.unlink()


def on_view(kind: str, handle: Any, shape: tuple[int, int], action: Callable[[np.ndarray], T]) -> T:
    """Call ``action`` with a numpy view of the shared buffer (no copy) and return its result.

    The view must not outlive the call: a shared-memory segment cannot be
    closed while a numpy array still points into it.
    """
    if kind != "shared_memory":
        return action(np.frombuffer(handle.get_obj() if kind == "array" else handle, dtype=np.float64).reshape(shape))
    segment = shared_memory.SharedMemory(name=handle)
    try:
        return action(np.ndarray(shape, dtype=np.float64, buffer=segment.buf))
    finally:
        with contextlib.suppress(BufferError):  # only when action raised: its traceback holds the view
            segment.close()


# --- the columns this family's experiments add to the tidy table -----------------------------

ARRAY_ROWS = Column("rows", "count", "", "rows of the float64 array")
ARRAY_COLUMNS = Column("columns", "count", "", "columns of the float64 array")
HOLD_SECONDS = Column("hold_seconds", "number", "s", "how long the workers keep their memory after writing, for the sampler")
ARRAY_BYTES = Column("array_bytes", "count", "bytes", "size of the array")
UNWRITTEN_CELLS = Column("unwritten_cells", "count", "",
                         "cells that do not hold what the workers wrote: a worker's id, or a random number")
FILL_SECONDS = Column("fill_seconds", "number", "s",
                      "from the first fill's start to the last one's end, the fill alone, as the book timed it",
                      label="fill alone")


# --- checks on the written array ------------------------------------------------------------


def _slices(array: np.ndarray) -> Iterator[np.ndarray]:
    rows = max(1, SCAN_CELLS // max(1, array.shape[1]))
    for start in range(0, array.shape[0], rows):
        yield array[start:start + rows]


def writers_answer(array: np.ndarray, pids: list[int]) -> dict[str, int]:
    """How many workers wrote, and how many cells hold no worker's id."""
    written = dict.fromkeys(pids, 0)
    for piece in _slices(array):
        for pid in pids:
            written[pid] += int(np.count_nonzero(piece == pid))
    return {
        "result": sum(1 for count in written.values() if count),
        "unwritten_cells": int(array.size - sum(written.values())),
        "array_bytes": int(array.nbytes),
    }


def random_answer(array: np.ndarray, spans: list[tuple[float, float]],
                  firsts: list[float]) -> dict[str, float]:
    """Mean of the filled array, how many cells still hold the fill value, the fill's time
    (first start to last end of the ``spans`` of the fills) and how many streams repeat another.

    A stream that repeats another (workers given the same seed) would still fill every
    cell with a mean of ½: the first number of each worker's rows (``firsts``) tells it.
    """
    unwritten = sum(int(np.count_nonzero(piece == FILL_VALUE)) for piece in _slices(array))
    return {
        "result": float(array.mean()),
        "unwritten_cells": unwritten,
        "array_bytes": int(array.nbytes),
        "fill_seconds": max(end for _, end in spans) - min(start for start, _ in spans),
        "duplicated_streams": len(firsts) - len(set(firsts)),
    }


# --- numpy_sharing -------------------------------------------------------------------------------


def _write_pid_shared(kind: str, handle: Any, shape: tuple[int, int], start: int, stop: int, *, report) -> None:
    def write(view: np.ndarray) -> None:
        view[start:stop] = os.getpid()
        report(os.getpid())  # still attached: the sampler sees the mapping

    on_view(kind, handle, shape, write)


def _write_pid_copy(payload: bytes, start: int, stop: int, *, report) -> None:
    own = pickle.loads(payload)  # this worker's private copy of the whole array
    own[start:stop] = os.getpid()
    report((os.getpid(), own[start:stop]))  # holds the copy until released


def _shared_method(kind: str):
    def run(*, workers: int, start_method: str | None, rows: int, columns: int, hold_seconds: float) -> dict[str, int]:
        check_fits(rows, columns, copies=1, shared=True)
        shape = (rows, columns)

        def write(view: np.ndarray, handle: Any) -> dict[str, int]:
            view[:] = FILL_VALUE
            tasks = [(kind, handle, shape, start, stop) for start, stop in row_blocks(rows, workers)]
            pids = run_workers(_write_pid_shared, tasks, start_method=start_method, hold_seconds=hold_seconds)
            return writers_answer(view, pids)

        with shared_buffer(kind, shape, start_method) as handle:
            # the parent keeps its view for the whole trial, as a program that
            # shares its array with workers would (and so its pages are counted)
            return on_view(kind, handle, shape, lambda view: write(view, handle))

    run.__name__ = f"write_pids_{kind}"
    return run


def _copied(*, workers: int, start_method: str | None, rows: int, columns: int, hold_seconds: float) -> dict[str, int]:
    # the parent's array, its pickle, the rows sent back, and per worker its
    # copy plus (under spawn) the pickle it was started with
    check_fits(rows, columns, copies=3 + 2 * workers, shared=False)
    array = np.full((rows, columns), FILL_VALUE)
    payload = pickle.dumps(array, protocol=pickle.HIGHEST_PROTOCOL)
    blocks = row_blocks(rows, workers)
    replies = run_workers(_write_pid_copy, [(payload, start, stop) for start, stop in blocks],
                          start_method=start_method, hold_seconds=hold_seconds)
    del payload
    for (start, stop), (_, rows_back) in zip(blocks, replies):
        array[start:stop] = rows_back
    return writers_answer(array, [pid for pid, _ in replies])


def _verify_writers(point: Point, answer: Mapping[str, int]) -> bool:
    """Every cell holds a worker's process id, and every worker given rows wrote."""
    # with fewer rows than workers, the workers beyond the rows are given none
    return answer["unwritten_cells"] == 0 and answer["result"] == min(point.workers, point.params["rows"])


def shape_points(settings: Mapping[str, Any], params: tuple[str, ...], methods: tuple[Method, ...]) -> list[Point]:
    """Every selected method at every worker count, for every array shape in ``settings["shapes"]``."""
    points = []
    for rows, columns in settings["shapes"]:
        points += grid_points({**settings, "rows": rows, "columns": columns}, params, methods)
    return points


NUMPY_SHARING = Experiment(
    name="numpy_sharing",
    family="sharing",
    title="Sharing a numpy array between processes",
    methods=(
        Method("array", "Array + frombuffer", _shared_method("array")),
        Method("rawarray", "RawArray + frombuffer", _shared_method("rawarray")),
        Method("shared_memory", "shared_memory", _shared_method("shared_memory")),
        Method("copied", "pickled copy per worker", _copied),
    ),
    points=lambda settings: shape_points(settings, NUMPY_SHARING.params, NUMPY_SHARING.methods),
    verify=_verify_writers,
    parameters=(ARRAY_ROWS, ARRAY_COLUMNS, HOLD_SECONDS),
    measurements=(UNWRITTEN_CELLS, ARRAY_BYTES),
    baseline="copied",
    # memory is the point here
    shown=("peak_pss_bytes", "peak_worker_uss_bytes"),
)


# --- random_fill ---------------------------------------------------------------------------------


def timed_fill(rows: np.ndarray, seed: np.random.SeedSequence) -> tuple[float, float]:
    """Fill ``rows`` from a generator of their own; the fill's start and end (``perf_counter``,
    system-wide on Linux, so the spans of several processes compare)."""
    started = time.perf_counter()
    np.random.default_rng(seed).random(out=rows)
    return started, time.perf_counter()


def _fill_rows(handle: str, shape: tuple[int, int], start: int, stop: int, seed: np.random.SeedSequence, *, report) -> None:
    report(on_view("shared_memory", handle, shape, lambda view: timed_fill(view[start:stop], seed)))


def _fill_method(*, parallel: bool):
    """Fill a shared-memory array with random numbers, in this process or by the workers.

    Both fill the same kind of array (tmpfs pages in /dev/shm), so the two
    differ only in who draws the numbers.
    """

    def run(*, workers: int, start_method: str | None, rows: int, columns: int) -> dict[str, float]:
        check_fits(rows, columns, copies=1, shared=True)
        shape = (rows, columns)
        seeds = np.random.SeedSequence().spawn(workers)

        def fill(view: np.ndarray, name: str) -> dict[str, float]:
            view[:] = FILL_VALUE
            blocks = row_blocks(rows, workers) if parallel else [(0, rows)]
            if parallel:
                spans = run_workers(_fill_rows, [(name, shape, *block, seed) for block, seed in zip(blocks, seeds)],
                                    start_method=start_method)
            else:
                spans = [timed_fill(view, seeds[0])]
            # a worker given no rows (fewer rows than workers) drew nothing to compare
            firsts = [float(view[start, 0]) for start, stop in blocks if stop > start]
            return random_answer(view, spans, firsts)

        with shared_buffer("shared_memory", shape, start_method) as name:
            return on_view("shared_memory", name, shape, lambda view: fill(view, name))

    run.__name__ = f"fill_random_{'parallel' if parallel else 'serial'}"
    return run


def _verify_fill(point: Point, answer: Mapping[str, float]) -> bool:
    """No cell is left unfilled, no worker's stream repeats another's, and the mean is ½ within six standard errors."""
    cells = point.params["rows"] * point.params["columns"]
    tolerance = TOLERANCE_STANDARD_ERRORS * math.sqrt(1 / 12 / cells)  # a uniform [0, 1) has variance 1/12
    return (answer["unwritten_cells"] == 0 and answer["duplicated_streams"] == 0
            and abs(answer["result"] - 0.5) <= tolerance)


RANDOM_FILL = Experiment(
    name="random_fill",
    family="sharing",
    title="Filling a shared array with random numbers",
    methods=(
        Method("serial", "serial", _fill_method(parallel=False), parallel=False),
        Method("processes", "processes", _fill_method(parallel=True)),
    ),
    points=lambda settings: shape_points(settings, RANDOM_FILL.params, RANDOM_FILL.methods),
    verify=_verify_fill,
    parameters=(ARRAY_ROWS, ARRAY_COLUMNS),
    measurements=(UNWRITTEN_CELLS, ARRAY_BYTES, FILL_SECONDS, DUPLICATED_STREAMS),
    baseline="serial",
    shown=("fill_seconds",),
)

EXPERIMENTS = (NUMPY_SHARING, RANDOM_FILL)
