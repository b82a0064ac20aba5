"""Several processes incrementing one counter, with and without locks.

Two experiments:

``file_counter``
    The counter is a number in a text file: read it, add one, write it back.
    Without a lock, with a file lock (fasteners) around each increment, and with
    the lock around each worker's whole loop (which serializes the workers).
    Without a lock in two ways: ours re-reads a file it finds empty (another
    worker is between truncating and writing it); the book's counts on from 0,
    which is why it loses most updates. And the book's one-process baseline:
    one worker alone, without a lock.
``value_counter``
    The counter is a shared integer: ``Value`` incremented with ``+=`` and no
    lock, ``Value`` under its own lock (``get_lock()``), ``Value`` under a
    separate ``Lock`` (the book's first locked version), ``RawValue`` under a
    separate ``Lock``, and ``INCR`` on the workflow's private redis-server.

All workers start together (a barrier), each adds ``increments``. A locked
method must end exactly at workers × increments. Unlocked, an update is lost
when two workers read the same value and both write it back plus one, so a
shared integer ends at or below the expected count; a file can even run ahead
(see :func:`count_check`). Every trial records its final count, the lost
updates and the counting time.
Files and locks live in a private temporary folder per trial (in memory, see
:data:`COUNTER_PARENT`), removed after it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import fasteners

from experiments.owned import folder_prefix
from experiments.redis_server import RedisUnavailable, connect, redis_session
from experiments.spec import Column, Experiment, Method, Point, grid_points
from experiments.workers import WAIT_SECONDS, WorkerFailed, run_workers

#: Methods that increment without any lock; all others must be exact.
UNLOCKED = ("no_lock", "no_lock_reset")

#: Where each trial's private folder (counter file and lock file) goes: memory
#: (tmpfs) where there is one. On a disk, ext4 flushes a file that is truncated
#: and rewritten when it is closed, which costs a millisecond per increment and
#: would drown what the locks cost.
COUNTER_PARENT = "/dev/shm" if os.path.isdir("/dev/shm") else None

#: How often a reader may find the file empty (another worker between
#: truncating and writing it) before the trial fails.
EMPTY_READS = 100_000


@contextlib.contextmanager
def held(lock: Any) -> Iterator[None]:
    """Hold ``lock`` (a multiprocessing or fasteners lock), waiting a bounded time for it."""
    if not lock.acquire(timeout=WAIT_SECONDS):
        raise WorkerFailed(f"could not take the lock within {WAIT_SECONDS:.0f} s")
    try:
        yield
    finally:
        lock.release()


# The columns this family's experiments add to the tidy table.
INCREMENTS = Column("increments", "count", "", "increments each worker adds to the counter")
COUNTER_MEASUREMENTS = (
    Column("lost_updates", "integer", "",
           "expected count minus the final count; negative when a file counter ran ahead"),
    Column("count_seconds", "number", "s",
           "from the first worker's start of counting to the last one's end, without process start-up",
           label="counting time"),
)
#: What a counter section's table shows: whether the count held, and what counting took.
COUNTER_SHOWN = ("lost_updates", "count_seconds")


def counter_answer(final: int, spans: list[tuple[float, float]], *, workers: int, increments: int) -> dict[str, float]:
    """The final count (the trial's result), the updates lost on the way, and the
    counting time: from the first worker's start to the last one's end (the
    workers' ``perf_counter`` clock is system-wide on Linux), without process
    start-up, which would hide the locks' cost under spawn."""
    return {
        "result": final,
        "lost_updates": workers * increments - final,
        "count_seconds": max(end for _, end in spans) - min(start for start, _ in spans),
    }


def count_check(*, unlocked_bound: bool):
    """``verify`` for a counter: a locked method must end exactly at workers × increments.

    An unlocked method must end at a positive count, and, when ``unlocked_bound``,
    at most the expected one. A shared integer can only lose updates; a file can
    also run ahead: a worker that writes a stale, shorter number over a longer
    one leaves the longer one's last digits behind ("99" over "1000" reads 9900).
    """

    def verify(point: Point, answer: Mapping[str, float]) -> bool:
        expected = point.workers * point.params["increments"]
        if point.method not in UNLOCKED:
            return answer["result"] == expected
        return 0 < answer["result"] and (answer["result"] <= expected or not unlocked_bound)

    verify.__doc__ = (
        "A locked counter ends exactly at workers × increments; an unlocked one above zero"
        + (" and at most there." if unlocked_bound else " (a file can also run ahead).")
    )
    return verify


# --- file_counter --------------------------------------------------------------------------


def read_count(path: Path) -> int:
    """The number in the file; an empty file means another worker is rewriting it, so read again."""
    for _ in range(EMPTY_READS):
        text = path.read_text()
        if text:
            return int(text)
    raise WorkerFailed(f"{path} was empty {EMPTY_READS:,} times in a row")


def read_count_or_zero(path: Path) -> int:
    """The number in the file, or 0 when it is empty: the book's unlocked reader, which
    restarts the count whenever it catches another worker between truncating and writing."""
    text = path.read_text()
    return int(text) if text.strip() else 0


def increment_file(path: Path, read=read_count) -> None:
    """Read the counter, add one, write it back (three steps another worker can interleave with)."""
    count = read(path)
    path.write_text(str(count + 1))


def _count_in_file(folder: str, increments: int, lock_scope: str, *, report) -> None:
    path = Path(folder) / "counter.txt"
    lock = fasteners.InterProcessLock(str(Path(folder) / "counter.lock"))
    started = time.perf_counter()
    if lock_scope == "loop":
        with held(lock):
            for _ in range(increments):
                increment_file(path)
    elif lock_scope == "reset":
        for _ in range(increments):
            increment_file(path, read_count_or_zero)
    else:
        for _ in range(increments):
            with held(lock) if lock_scope == "each" else contextlib.nullcontext():
                increment_file(path)
    report((started, time.perf_counter()))


def _file_method(lock_scope: str):
    def run(*, workers: int, start_method: str | None, increments: int) -> dict[str, int]:
        with tempfile.TemporaryDirectory(prefix=folder_prefix("counter"), dir=COUNTER_PARENT) as folder:
            (Path(folder) / "counter.txt").write_text("0")
            spans = run_workers(_count_in_file, [(folder, increments, lock_scope)] * workers, start_method=start_method)
            final = read_count(Path(folder) / "counter.txt")
        return counter_answer(final, spans, workers=workers, increments=increments)

    run.__name__ = f"file_counter_lock_{lock_scope}"
    return run


FILE_COUNTER = Experiment(
    name="file_counter",
    family="locking",
    title="A counter in a file",
    methods=(
        Method("no_lock", "no lock, empty read retried", _file_method("none")),
        Method("no_lock_reset", "no lock, empty read counts from 0 (book)", _file_method("reset")),
        # the book's baseline: one process alone, which nobody can interleave with
        Method("one_process", "one process, no lock", _file_method("none"), parallel=False),
        Method("lock_each", "file lock per increment", _file_method("each")),
        Method("lock_loop", "file lock around the loop", _file_method("loop")),
    ),
    points=lambda settings: grid_points(settings, FILE_COUNTER.params, FILE_COUNTER.methods),
    verify=count_check(unlocked_bound=False),
    parameters=(INCREMENTS,),
    measurements=COUNTER_MEASUREMENTS,
    baseline="lock_each",
    shown=COUNTER_SHOWN,
)


# --- value_counter ---------------------------------------------------------------------------


def _count_in_value(counter: Any, lock: Any, increments: int, *, report) -> None:
    started = time.perf_counter()
    if lock is None:
        for _ in range(increments):
            counter.value += 1  # a read and a write, each under the Value's lock, but not together
    else:
        for _ in range(increments):
            with held(lock):
                counter.value += 1
    report((started, time.perf_counter()))


def _count_in_redis(redis_socket: str, key: str, increments: int, *, report) -> None:
    client = connect(redis_socket)  # one client per process
    client.ping()  # connect before the clock starts, as the other methods are set up before
    started = time.perf_counter()
    for _ in range(increments):
        client.incr(key)
    report((started, time.perf_counter()))


def _value_method(kind: str):
    def run(*, workers: int, start_method: str | None, increments: int, **_resources: Any) -> dict[str, int]:
        ctx = multiprocessing.get_context(start_method)
        if kind == "rawvalue":
            counter, lock = ctx.RawValue("q", 0), ctx.Lock()
        elif kind == "value_lock":
            counter, lock = ctx.Value("q", 0), ctx.Lock()  # its own lock stays, taken by each read and write
        else:
            counter = ctx.Value("q", 0)
            lock = counter.get_lock() if kind == "get_lock" else None
        spans = run_workers(_count_in_value, [(counter, lock, increments)] * workers, start_method=start_method)
        return counter_answer(counter.value, spans, workers=workers, increments=increments)

    run.__name__ = f"value_counter_{kind}"
    return run


def _redis_incr(*, workers: int, start_method: str | None, increments: int, redis_socket: str | None,
                redis_problem: str) -> dict[str, int]:
    if redis_socket is None:
        raise RedisUnavailable(redis_problem)
    key = f"counter-{uuid.uuid4().hex}"
    client = connect(redis_socket)
    try:
        spans = run_workers(_count_in_redis, [(redis_socket, key, increments)] * workers, start_method=start_method)
        final = int(client.get(key) or 0)
    finally:
        client.delete(key)
        client.close()
    return counter_answer(final, spans, workers=workers, increments=increments)


VALUE_COUNTER = Experiment(
    name="value_counter",
    family="locking",
    title="A shared integer",
    methods=(
        Method("no_lock", "Value, += without its lock", _value_method("no_lock")),
        Method("get_lock", "Value with get_lock()", _value_method("get_lock")),
        Method("value_lock", "Value with a separate Lock", _value_method("value_lock")),
        Method("rawvalue_lock", "RawValue with a Lock", _value_method("rawvalue")),
        Method("redis_incr", "Redis INCR", _redis_incr),
    ),
    points=lambda settings: grid_points(settings, VALUE_COUNTER.params, VALUE_COUNTER.methods),
    verify=count_check(unlocked_bound=True),
    parameters=(INCREMENTS,),
    measurements=COUNTER_MEASUREMENTS,
    session=redis_session("redis_incr"),
    baseline="get_lock",
    shown=COUNTER_SHOWN,
)

EXPERIMENTS = (FILE_COUNTER, VALUE_COUNTER)
