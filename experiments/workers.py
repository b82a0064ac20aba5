"""A few worker processes, each with its own given task, all waited for with a deadline.

A pool hands tasks to whichever worker asks first, so a worker that starts late
may get none, and one that starts early may finish everything alone. The sharing
and locking experiments need N processes doing N given tasks at the same time:
:func:`run_workers` starts one process per task, lets them all begin together
(a barrier), collects one reply from each, and can keep them alive for a moment
after their work (``hold_seconds``) so that the harness's memory sampler sees
every worker at its fullest.

Every wait is bounded: a worker that raises, dies or hangs fails the trial with
a :class:`WorkerFailed` that says which worker and why; no process outlives the
call.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
from collections.abc import Callable, Sequence
from typing import Any

#: Longest wait (s) for any one step of a worker before the trial fails.
WAIT_SECONDS = 600.0

#: How often (s) the parent checks whether a silent worker has died.
POLL_SECONDS = 0.1


class WorkerFailed(RuntimeError):
    """A worker raised, died or did not answer in time."""


def _serve(index: int, work: Callable[..., None], args: tuple, start, done, release) -> None:
    """Worker process: wait for the others, do the work, report, wait for release."""

    def report(reply: Any = None) -> None:
        done.put((index, reply, ""))
        if not release.poll(WAIT_SECONDS):
            raise WorkerFailed(f"worker {index} was not released within {WAIT_SECONDS:.0f} s")

    try:
        start.wait(WAIT_SECONDS)
        work(*args, report=report)
    except BaseException as exc:
        done.put((index, None, f"{type(exc).__name__}: {exc}"))
        raise


def _stop(processes: list, timeout: float) -> None:
    """End every worker still alive: SIGTERM, then SIGKILL (a stopped worker ignores SIGTERM)."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(timeout)


def run_workers(
    work: Callable[..., None],
    tasks: Sequence[tuple],
    *,
    start_method: str | None,
    hold_seconds: float = 0.0,
    timeout: float = WAIT_SECONDS,
) -> list[Any]:
    """Run ``work(*task, report=report)`` in one process per task; return their replies.

    Parameters
    ----------
    work
        A top-level function (so that it pickles under spawn and forkserver). It
        must call ``report(reply)`` once, while it still holds whatever memory
        should be measured; ``report`` returns when all workers are released.
    tasks
        One argument tuple per worker.
    start_method
        The multiprocessing start method (None: the platform's default).
    hold_seconds
        How long every worker is kept alive, holding its memory, after the last
        one reported.
    timeout
        Longest wait for all replies, and for the workers to exit afterwards.

    Returns
    -------
    list
        The replies, in the order of ``tasks``.
    """
    ctx = multiprocessing.get_context(start_method)
    start, done = ctx.Barrier(len(tasks)), ctx.Queue()
    # one pipe per worker to release it: a write to a dead or stopped worker's pipe never
    # blocks, where Event.set() waits for every sleeper to wake, and a killed one never does
    releases = [ctx.Pipe(duplex=False) for _ in tasks]
    processes = [ctx.Process(target=_serve, args=(index, work, task, start, done, releases[index][0]), daemon=True)
                 for index, task in enumerate(tasks)]
    try:
        for process in processes:
            process.start()
        replies = _collect_replies(done, processes, time.monotonic() + timeout)
        time.sleep(hold_seconds)
        for _, sender in releases:
            with contextlib.suppress(OSError):
                sender.send(True)
        deadline = time.monotonic() + timeout
        for index, process in enumerate(processes):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode != 0:
                raise WorkerFailed(f"worker {index} (pid {process.pid}) ended with exit code {process.exitcode}")
        return replies
    finally:
        _stop(processes, POLL_SECONDS * 10)
        done.close()
        done.cancel_join_thread()  # a killed worker's half-written item must not hold up the exit


def _collect_replies(done, processes: list, deadline: float) -> list[Any]:
    """One reply per worker; fail at once when one raises or dies silently."""
    replies: dict[int, Any] = {}
    while len(replies) < len(processes):
        try:
            index, reply, error = done.get(timeout=POLL_SECONDS)
        except queue.Empty:
            for index, process in enumerate(processes):
                if index not in replies and process.exitcode is not None:
                    raise WorkerFailed(f"worker {index} (pid {process.pid}) ended with exit code"
                                       f" {process.exitcode} before reporting") from None
            if time.monotonic() > deadline:
                raise WorkerFailed(f"{len(processes) - len(replies)} worker(s) did not report in time") from None
            continue
        if error:
            raise WorkerFailed(f"worker {index} raised {error}")
        replies[index] = reply
    return [replies[index] for index in range(len(processes))]
