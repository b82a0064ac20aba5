"""Queues of work: ``Process`` workers take jobs from one queue and put results on another.

Each worker stops at a poison pill (``None``), one per worker, and answers it
with a pill of its own, so the parent knows when every result is in. Every wait
is bounded: a worker that raises sends its error back and the parent raises it;
a worker that dies without a word, or a run that takes longer than ``timeout``,
fails with a clear message instead of blocking forever; and no worker outlives
the call (stragglers are terminated, and that is an error too).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

#: The poison pill: a job that tells a worker to stop, and its answer.
PILL = None

#: Seconds between checks of the workers and the deadline while waiting on a queue.
POLL_SECONDS = 0.2

#: Longest a worker waits for its next job before it gives up (its parent is gone).
WORKER_IDLE_SECONDS = 120.0

#: Longest the parent waits for a worker to exit after its pill.
JOIN_SECONDS = 10.0

#: Kinds of queue: a manager process serving ``queue.Queue``, or ``multiprocessing.Queue`` (a pipe).
QUEUE_KINDS = ("manager", "pipe")


class QueueWorkError(RuntimeError):
    """A queue run that could not finish: a worker failed, or it ran out of time."""


@dataclass(frozen=True)
class WorkerFailed:
    """What a worker sends back instead of its pill when its function raised."""

    message: str


def queue_worker(function: Callable[[Any], Any], jobs: Any, results: Any) -> None:
    """Apply ``function`` to every job up to the pill; put each result that is not None, then a pill."""
    try:
        while (job := jobs.get(timeout=WORKER_IDLE_SECONDS)) is not PILL:
            result = function(job)
            if result is not None:
                results.put(result)
    except Exception as exc:
        results.put(WorkerFailed(f"{type(exc).__name__}: {exc}"))
        raise
    results.put(PILL)


@contextlib.contextmanager
def job_queues(context: Any, *, kind: str, maxsize: int = 0) -> Iterator[tuple[Any, Any]]:
    """A job queue (at most ``maxsize`` items; 0: unbounded) and a result queue of one ``kind``."""
    if kind == "manager":
        with context.Manager() as manager:
            yield manager.Queue(maxsize), manager.Queue()
    elif kind == "pipe":
        jobs, results = context.Queue(maxsize), context.Queue()
        try:
            yield jobs, results
        finally:
            for channel in (jobs, results):
                # after a failure, jobs may be left unread: do not wait at exit to flush them
                channel.cancel_join_thread()
                channel.close()
    else:
        raise ValueError(f"unknown kind of queue {kind!r}; known: {', '.join(QUEUE_KINDS)}")


def feed(jobs: Any, items: Iterable[Any], *, pills: int, deadline: float,
         stop: threading.Event | None = None) -> None:
    """Put every item, then ``pills`` pills, waiting while the queue is full, until ``deadline``."""
    for item in itertools.chain(items, [PILL] * pills):
        while True:
            if stop is not None and stop.is_set():
                return
            try:
                jobs.put(item, timeout=POLL_SECONDS)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    raise QueueWorkError("timed out while adding jobs to a full queue") from None


def collect(results: Any, workers: list[BaseProcess], *, deadline: float) -> list[Any]:
    """Every result up to one pill per worker; raises if a worker fails or time runs out."""
    found, pills = [], 0
    while pills < len(workers):
        try:
            item = results.get(timeout=POLL_SECONDS)
        except queue.Empty:
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise QueueWorkError(f"a queue worker exited with code {dead[0].exitcode} before its pill") from None
            if time.monotonic() > deadline:
                raise QueueWorkError(f"timed out waiting for results ({pills} of {len(workers)} workers done)") from None
            continue
        if isinstance(item, WorkerFailed):
            raise QueueWorkError(f"a queue worker raised {item.message}")
        if item is PILL:
            pills += 1
        else:
            found.append(item)
    return found


def reap(workers: list[BaseProcess]) -> int:
    """Join every worker, terminating those still alive after ``JOIN_SECONDS``; returns how many were."""
    terminated = 0
    for worker in workers:
        worker.join(JOIN_SECONDS)
        if worker.is_alive():
            worker.terminate()
            worker.join(JOIN_SECONDS)
            terminated += 1
    return terminated


class _Feeder(threading.Thread):
    """:func:`feed` in a thread that keeps its error for the caller."""

    def __init__(self, **arguments: Any):
        super().__init__(name="queue-feeder", daemon=True)
        self.arguments = arguments
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            feed(**self.arguments)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc


def run_on_queue(function: Callable[[Any], Any], items: Iterable[Any], *, workers: int, start_method: str | None,
                 kind: str = "pipe", asynchronous: bool = False, maxsize: int = 0,
                 timeout: float = 600.0) -> list[Any]:
    """Results of ``function`` over ``items`` (those not None), computed by ``workers`` processes.

    Parameters
    ----------
    function
        A top-level function (it is pickled to the workers).
    items
        The jobs, one per queue item.
    kind
        ``"manager"`` (``Manager().Queue``) or ``"pipe"`` (``multiprocessing.Queue``).
    asynchronous
        Add jobs from a feeder thread while the parent already collects results.
    maxsize
        Largest number of jobs waiting in the queue (0: unbounded).
    timeout
        Seconds the whole run may take before it fails.
    """
    context = multiprocessing.get_context(start_method)
    deadline = time.monotonic() + timeout
    with job_queues(context, kind=kind, maxsize=maxsize) as (jobs, results):
        processes = [context.Process(target=queue_worker, args=(function, jobs, results), daemon=True)
                     for _ in range(workers)]
        for process in processes:
            process.start()
        stop = threading.Event()
        feeder = _Feeder(jobs=jobs, items=items, pills=workers, deadline=deadline, stop=stop) if asynchronous else None
        try:
            if feeder is not None:
                feeder.start()
            else:
                feed(jobs, items, pills=workers, deadline=deadline)
            found = collect(results, processes, deadline=deadline)
        finally:
            stop.set()
            if feeder is not None:
                feeder.join()
            stragglers = reap(processes)
        if feeder is not None and feeder.error is not None:
            raise feeder.error
        if stragglers:
            raise QueueWorkError(f"{stragglers} queue worker(s) did not exit after their pill and were terminated")
    return found
