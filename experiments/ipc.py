"""Verifying primes with interprocess communication: is one large number prime?

The candidate factors 3, 5, 7, ... up to √n are split into one contiguous range
per worker. For a prime every worker must search its whole range; for a
non-prime the worker that finds a factor could tell the others to stop. The
methods differ in whether and how they share that "stop" flag:

``serial``
    One loop over every candidate, no pool.
``naive_pool``
    The ranges go to a pool; each worker stops at a factor in its own range,
    but the others search theirs to the end.
``less_naive_pool``
    A cheap serial check of the candidates below :data:`SERIAL_CUTOFF` first
    (most non-primes have such a factor), then the naive pool.
``manager``, ``redis``, ``rawvalue``, ``mmap``, ``event``, ``shared_memory``
    The serial check, then a pool whose workers read a shared flag (see
    :mod:`experiments.flags`) every ``check_every`` candidates and set it when they
    find a factor.
``mmap_lookahead``, ``mmap_redux``, ``mmap_redux_local``
    The mmap flag with cheaper loops: one comparison against the next
    candidate at which to read the flag instead of a countdown, or an inner
    loop over a block of candidates with no flag code at all; and that block
    loop with its look-ups bound to local names (the 1st edition's ``mmap4``).
    As in the book's versions of these loops, the mark and the blocks advance
    by ``check_every`` numbers, so they read the flag every ``check_every / 2``
    candidates (the odd ones), twice as often as the countdown loops.

Two experiments: ``ipc_flags`` runs every method over a set of numbers;
``ipc_contexts`` runs them under each start method (fork, spawn, forkserver),
the point parameter ``context``. Pools and managers are started inside the
trial, since a user pays for them.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from experiments.flags import Flag, Handle, open_flag
from experiments.redis_server import RedisUnavailable, redis_session
from experiments.spec import START_METHODS, Column, Experiment, Method, Point, grid_points

#: The book's five numbers: a non-prime with a tiny factor, two non-primes with
#: two large factors, and two primes.
BOOK_NUMBERS = (112272535095295, 100109100129100369, 100109100129101027, 100109100129100151, 100109100129162907)

#: The cheap serial check before a pool tries the odd candidates below this (the book's 21:
#: 3 to 19, enough for a non-prime with a tiny factor, like the book's first number).
SERIAL_CUTOFF = 21

#: Longest wait for a pool's answer (s); a pool that never answers becomes a failed trial.
POOL_TIMEOUT = 900.0

#: Bases that make Miller–Rabin exact for every n < 3.3 × 10^24.
_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def is_prime(n: int) -> bool:
    """Exact primality of ``n`` < 3.3 × 10^24 (deterministic Miller–Rabin), to check answers."""
    if n < 2:
        return False
    for p in _WITNESSES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _WITNESSES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


# --- the search, as each worker runs it --------------------------------------------------


class Outcome(NamedTuple):
    """How one search of a range ended."""

    factor: int | None
    candidates: int  # candidate factors tried
    flag_reads: int
    found_at: float | None  # time.monotonic() (system-wide on Linux) when the factor was found
    ended_at: float
    stopped: str  # "factor", "flag" (another worker found one) or "end" (range exhausted)


def _tried(start: int, last: int) -> int:
    return (last - start) // 2 + 1


def _found(flag: Flag | None, factor: int, start: int, reads: int) -> Outcome:
    found_at = time.monotonic()
    if flag is not None:
        flag.set()
    return Outcome(factor, _tried(start, factor), reads, found_at, time.monotonic(), "factor")


def _exhausted(start: int, stop: int, reads: int) -> Outcome:
    return Outcome(None, len(range(start, stop, 2)), reads, None, time.monotonic(), "end")


def search_plain(n: int, start: int, stop: int, flag: Flag | None = None, check_every: int = 0) -> Outcome:
    """Try the odd candidates in [start, stop); no flag."""
    for i in range(start, stop, 2):
        if n % i == 0:
            return _found(None, i, start, 0)
    return _exhausted(start, stop, 0)


def search_countdown(n: int, start: int, stop: int, flag: Flag, check_every: int) -> Outcome:
    """Read the flag every ``check_every`` candidates, counted down in the loop."""
    reads, countdown = 0, check_every
    for i in range(start, stop, 2):
        if n % i == 0:
            return _found(flag, i, start, reads)
        countdown -= 1
        if not countdown:
            reads += 1
            if flag.is_set():
                return Outcome(None, _tried(start, i), reads, None, time.monotonic(), "flag")
            countdown = check_every
    return _exhausted(start, stop, reads)


def search_lookahead(n: int, start: int, stop: int, flag: Flag, check_every: int) -> Outcome:
    """Read the flag when the candidate passes a precomputed mark: one comparison per candidate.

    The mark moves on by ``check_every`` numbers, ``check_every / 2`` odd candidates, as the book's has it.
    """
    reads, step = 0, check_every
    mark = start + step
    for i in range(start, stop, 2):
        if n % i == 0:
            return _found(flag, i, start, reads)
        if i >= mark:
            reads += 1
            if flag.is_set():
                return Outcome(None, _tried(start, i), reads, None, time.monotonic(), "flag")
            mark = i + step
    return _exhausted(start, stop, reads)


def search_blocks(n: int, start: int, stop: int, flag: Flag, check_every: int) -> Outcome:
    """An inner loop over blocks of ``check_every`` numbers (``check_every / 2`` odd candidates)
    with no flag code; the flag read between blocks, as the book's redux loop does."""
    reads, step = 0, check_every
    for block in range(start, stop, step):
        for i in range(block, min(block + step, stop), 2):
            if n % i == 0:
                return _found(flag, i, start, reads)
        reads += 1
        if flag.is_set():
            return Outcome(None, _tried(start, i), reads, None, time.monotonic(), "flag")
    return _exhausted(start, stop, reads)


def search_blocks_local(n: int, start: int, stop: int, flag: Flag, check_every: int) -> Outcome:
    """The block loop with the flag's read and the builtins it calls bound to local names.

    The 1st edition's last micro-optimisation (``mmap4``): a local name is found
    faster than an attribute or a global, in the loop that runs once per block.
    """
    reads, step, is_set, span = 0, check_every, flag.is_set, range
    for block in span(start, stop, step):
        for i in span(block, min(block + step, stop), 2):
            if n % i == 0:
                return _found(flag, i, start, reads)
        reads += 1
        if is_set():
            return Outcome(None, _tried(start, i), reads, None, time.monotonic(), "flag")
    return _exhausted(start, stop, reads)


LOOPS = {"plain": search_plain, "countdown": search_countdown, "lookahead": search_lookahead, "blocks": search_blocks,
         "blocks_local": search_blocks_local}

# The flag of this worker process, set by the pool's initializer (never inherited from the parent).
_flag: Flag | None = None
_attach_error: Exception | None = None


def _attach_flag(handle: Handle | None) -> None:
    # An initializer that raises makes the pool restart workers forever; keep
    # the error for the task to raise instead.
    global _flag, _attach_error
    try:
        _flag = None if handle is None else handle.attach()
    except Exception as exc:  # noqa: BLE001
        _attach_error = exc


def _search_task(task: tuple[str, int, int, int, int]) -> Outcome:
    loop, n, start, stop, check_every = task
    if _attach_error is not None:
        raise RuntimeError(f"the worker could not open its flag: {_attach_error!r}")
    return LOOPS[loop](n, start, stop, _flag, check_every)


def split_odd_range(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """Split the odd numbers in [start, stop) (``start`` odd) into ``parts`` contiguous ranges."""
    base, extra = divmod(len(range(start, stop, 2)), parts)
    ranges = []
    for index in range(parts):
        count = base + (index < extra)
        ranges.append((start, start + 2 * count))
        start += 2 * count
    return ranges


# --- methods --------------------------------------------------------------------------------


def _answer(serial: list[Outcome], pooled: list[Outcome], pool_start: float | None = None) -> dict[str, Any]:
    """The verdict and the trial's extra measurements from every search that ran, and how long
    starting the pool (and its flag's store) took, where one was started."""
    outcomes = serial + pooled
    factors = [o.factor for o in outcomes if o.factor is not None]
    found = [o.found_at for o in pooled if o.factor is not None]
    parallel_find = bool(found) and len(pooled) > 1
    return {
        "result": 0 if factors else 1,  # 1: prime
        "factor": min(factors) if factors else None,
        "flag_reads": sum(o.flag_reads for o in outcomes),
        "candidates": sum(o.candidates for o in outcomes),
        "stop_latency": max(o.ended_at for o in pooled) - min(found) if parallel_find else None,
        "stopped_early": int(all(o.stopped != "end" for o in pooled)) if parallel_find else None,
        "pool_start_seconds": pool_start,
    }


def _search_method(*, loop: str = "plain", flag: str | None = None, precheck: bool = True, pool: bool = True):
    """A method's ``run``: optional serial check of small candidates, then a pool (or the serial loop)."""

    def run(*, workers: int, start_method: str | None, number: int, check_every: int, context: str | None = None,
            redis_socket: str | None = None, redis_problem: str | None = None) -> dict[str, Any]:
        if flag == "redis" and redis_socket is None:
            raise RedisUnavailable(redis_problem or "no redis-server was started for this job")
        n, stop = number, math.isqrt(number) + 1
        if n % 2 == 0:
            return _answer([Outcome(2, 1, 0, None, time.monotonic(), "factor")], [])
        # the serial pass: every candidate without a pool, the small ones before it, or none
        start = stop if not pool else (min(SERIAL_CUTOFF, stop) if precheck else 3)
        serial = [search_plain(n, 3, start)] if start > 3 else []
        if start >= stop or (serial and serial[0].factor is not None):
            return _answer(serial, [])
        ctx = multiprocessing.get_context(context or start_method)
        tasks = [(loop, n, a, b, check_every) for a, b in split_odd_range(start, stop, workers)]
        with contextlib.ExitStack() as stack:
            # the book's pool lived across its timed calls; ours is started in each trial, and timed apart
            started = time.perf_counter()
            handle = stack.enter_context(open_flag(flag, ctx, redis_socket=redis_socket)) if flag else None
            workers_pool = stack.enter_context(ctx.Pool(workers, initializer=_attach_flag, initargs=(handle,)))
            pool_start = time.perf_counter() - started
            pooled = workers_pool.map_async(_search_task, tasks, chunksize=1).get(POOL_TIMEOUT)
        return _answer(serial, pooled, pool_start)

    run.__name__ = f"primes_{flag or loop}{'_precheck' if precheck else ''}"
    return run


METHODS = (
    Method("serial", "serial", _search_method(pool=False), parallel=False),
    Method("naive_pool", "naive pool", _search_method(precheck=False)),
    Method("less_naive_pool", "less naive pool", _search_method()),
    Method("manager", "Manager().Value flag", _search_method(loop="countdown", flag="manager")),
    Method("redis", "Redis flag", _search_method(loop="countdown", flag="redis")),
    Method("rawvalue", "RawValue flag", _search_method(loop="countdown", flag="rawvalue")),
    Method("mmap", "mmap flag", _search_method(loop="countdown", flag="mmap")),
    Method("mmap_lookahead", "mmap flag, look-ahead", _search_method(loop="lookahead", flag="mmap")),
    Method("mmap_redux", "mmap flag, redux (blocks)", _search_method(loop="blocks", flag="mmap")),
    Method("mmap_redux_local", "mmap flag, redux, local names (mmap4)",
           _search_method(loop="blocks_local", flag="mmap")),
    Method("event", "Event flag", _search_method(loop="countdown", flag="event")),
    Method("shared_memory", "shared_memory flag", _search_method(loop="countdown", flag="shared_memory")),
)


# --- experiments -----------------------------------------------------------------------------


def numbers_of(settings: Mapping[str, Any]) -> list[int]:
    """The configured numbers; ``"book"`` stands for the book's five."""
    return list(BOOK_NUMBERS) if settings["numbers"] == "book" else list(settings["numbers"])


def _points(settings: Mapping[str, Any], experiment: Experiment, axes: Mapping[str, list[Any]]) -> list[Point]:
    """Every selected method at every combination of the axes' values."""
    points = []
    for values in itertools.product(*axes.values()):
        points += grid_points({**settings, **dict(zip(axes, values))}, experiment.params, experiment.methods)
    return points


def verify_verdict(point: Point, answer: Mapping[str, Any]) -> bool:
    """The verdict is right and, for a non-prime, the factor found divides n."""
    n = point.params["number"]
    prime = is_prime(n)
    if answer["result"] != int(prime):
        return False
    return prime or (1 < answer["factor"] < n and n % answer["factor"] == 0)


#: A private redis-server for the Redis flag, when that method is measured.
REDIS_SESSION = redis_session("redis")

# The columns this family's experiments add to the tidy table.
NUMBER = Column("number", "count", "", "the number checked for primality")
CHECK_EVERY = Column("check_every", "count", "", "candidate factors a worker tries between two reads of the stop flag")
CONTEXT = Column("context", "start method", "", "start method of the pools and managers of this point")
#: what every search method measures (see _answer)
SEARCH_MEASUREMENTS = (
    Column("factor", "count", "", "the factor found; empty for a prime"),
    Column("flag_reads", "count", "", "reads of the stop flag, all workers together"),
    Column("candidates", "count", "", "candidate factors tried, all workers together"),
    Column("stop_latency", "number", "s",
           "from a worker finding a factor to the last worker stopping; empty without a pool or a factor"),
    Column("stopped_early", "yes/no", "",
           "1 if every worker stopped before the end of its range, 0 if one searched on; empty as stop_latency"),
    Column("pool_start_seconds", "number", "s",
           "starting the pool and its flag's store, part of the trial's time; empty without a pool",
           label="pool start-up"),
)

IPC_FLAGS = Experiment(
    name="ipc_flags",
    family="ipc",
    title="Verifying primes: sharing a stop flag between processes",
    methods=METHODS,
    points=lambda settings: _points(settings, IPC_FLAGS, {"number": numbers_of(settings)}),
    verify=verify_verdict,
    parameters=(NUMBER, CHECK_EVERY),
    measurements=SEARCH_MEASUREMENTS,
    session=REDIS_SESSION,
    baseline="serial",
    shown=("pool_start_seconds",),
)

IPC_CONTEXTS = Experiment(
    name="ipc_contexts",
    family="ipc",
    title="Verifying primes under each start method",
    methods=METHODS,
    points=lambda settings: _points(
        settings, IPC_CONTEXTS, {"number": numbers_of(settings), "context": settings["contexts"]}
    ),
    verify=verify_verdict,
    parameters=(NUMBER, CHECK_EVERY, CONTEXT),
    measurements=SEARCH_MEASUREMENTS,
    session=REDIS_SESSION,
    baseline="serial",
)

EXPERIMENTS = (IPC_FLAGS, IPC_CONTEXTS)
