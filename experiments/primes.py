"""Counting the primes in a range of numbers by trial division, spread over processes.

The prime test is the book's: divide by 2, then by every odd number up to √n. It
is deliberately plain, so that the experiments compare ways of *distributing*
the work, not ways of testing a number.

Five experiments share this family:

``primes_pool``
    A serial loop against ``multiprocessing.Pool.map``, ``Pool.imap``,
    ``Pool.imap_unordered`` and ``concurrent.futures.ProcessPoolExecutor.map``
    over the worker grid.
``primes_chunksize``
    ``Pool.map`` with the book's list of chunk sizes plus the pool's own default,
    on the numbers in order and shuffled.
``primes_chunks``
    ``Pool.map`` with the work cut into 1 to ``max_chunks`` equal chunks.
``primes_queue``
    ``Process`` workers that read numbers from a job queue and write primes to a
    result queue, stopped by poison pills (module :mod:`experiments.workqueue`).
``primes_cost``
    What one test costs as the number grows: the book's graph of the time per
    check against n, which is why chunks of larger numbers take longer.

A range of numbers is named like ``1e8+1e5``: the 10^5 numbers from 10^8 on.
Every answer (the number of primes found, and their sum, so that a method that
loses one prime and repeats another does not pass) is checked against an
independent segmented sieve of Eratosthenes.
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import multiprocessing
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from experiments import subinterpreters, workqueue
from experiments.spec import Column, Experiment, Method, Point, grid_points

#: Names of number ranges: ``1e<a>+1e<b>`` is the 10^b numbers from 10^a on.
NUMBERS_PATTERN = re.compile(r"^1e(\d+)\+1e(\d+)$")

#: Seed of the shuffled input, fixed so that every trial checks the same order.
SHUFFLE_SEED = 2014

# The columns this family's experiments add to the tidy table.
FIRST = Column("first", "count", "", "first candidate number of the range")
COUNT = Column("count", "count", "", "how many consecutive numbers are tested, from first on")
CHECKS = Column("checks", "count", "", "how many numbers each trial tests, from first on: primes, or consecutive numbers")
CHUNKSIZE = Column("chunksize", "count", "",
                   "chunk size given to Pool.map; 0 means none, so Pool.map picks its default")
CHUNKS = Column("chunks", "count", "", "number of equal chunks the numbers are cut into")
BATCH_SIZE = Column("batch_size", "count", "", "numbers per queue item in the batched queue variant")
PRIME_SUM = Column("prime_sum", "count", "", "sum of the primes found, checked with their count against the sieve's")
CHUNKSIZE_USED = Column("chunksize_used", "count", "", "numbers per task that the pool actually used",
                        label="chunk size used")
QUEUE_ITEMS = Column("queue_items", "count", "", "job items that went through the queue")


# --- the numbers and the prime test ------------------------------------------------


def number_range(name: str) -> dict[str, int]:
    """``{"first": 10**a, "count": 10**b}`` for a range named ``1e<a>+1e<b>``."""
    match = NUMBERS_PATTERN.match(name)
    if match is None:
        raise ValueError(f"a range of numbers is named like '1e8+1e5', got {name!r}")
    return {"first": 10 ** int(match[1]), "count": 10 ** int(match[2])}


def is_prime(n: int) -> bool:
    """Trial division by 2, then by every odd number up to √n."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for divisor in range(3, math.isqrt(n) + 1, 2):
        if n % divisor == 0:
            return False
    return True


def candidates(first: int, count: int, *, shuffled: bool = False) -> list[int]:
    """The numbers ``first`` to ``first + count - 1``, in order or shuffled (seeded)."""
    numbers = list(range(first, first + count))
    if shuffled:
        random.Random(SHUFFLE_SEED).shuffle(numbers)
    return numbers


@functools.lru_cache(maxsize=64)
def sieve_primes(first: int, count: int) -> np.ndarray:
    """The primes in ``[first, first + count)``, by a segmented sieve of Eratosthenes.

    Independent of :func:`is_prime`: it crosses out the multiples of every prime
    up to √(last number) in a boolean array covering the range.
    """
    end = first + count
    limit = math.isqrt(end - 1) if end > 1 else 0
    small = np.ones(limit + 1, dtype=bool)
    small[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if small[p]:
            small[p * p :: p] = False
    segment = np.ones(count, dtype=bool)
    segment[: max(0, min(2 - first, count))] = False  # 0 and 1 are not prime
    for p in np.flatnonzero(small):
        p = int(p)
        start = max(p * p, -(-first // p) * p)
        segment[start - first :: p] = False
    return first + np.flatnonzero(segment)


def sieve_count(first: int, count: int) -> int:
    """Number of primes in ``[first, first + count)`` (:func:`sieve_primes`)."""
    return int(sieve_primes(first, count).size)


def sieve_sum(first: int, count: int) -> int:
    """Sum of the primes in ``[first, first + count)`` (:func:`sieve_primes`), as an exact integer."""
    return sum(int(p) for p in sieve_primes(first, count))


def found_answer(primes: Iterable[int], **extra: int) -> dict[str, int]:
    """A method's answer from the primes it found: how many (the result) and their sum."""
    primes = list(primes)
    return {"result": len(primes), "prime_sum": sum(primes), **extra}


def verify_count(point: Point, answer: Mapping[str, Any]) -> bool:
    """The method found exactly the sieve's primes: as many, with the same sum."""
    first, count = point.params["first"], point.params["count"]
    return answer["result"] == sieve_count(first, count) and answer["prime_sum"] == sieve_sum(first, count)


# --- chunking ----------------------------------------------------------------------


def pool_default_chunksize(items: int, workers: int) -> int:
    """The chunk size ``Pool.map`` picks when given none: items / (4 × workers), rounded up.

    Mirrors CPython's ``Pool._map_async`` (the tests compare it with the pool's own choice).
    """
    chunksize, extra = divmod(items, workers * 4)
    return chunksize + 1 if extra else chunksize


def chunksize_for(items: int, chunks: int) -> int:
    """The chunk size that cuts ``items`` into ``chunks`` chunks (the last may be shorter)."""
    return -(-items // chunks)


def chunk_count(items: int, chunksize: int) -> int:
    """How many chunks of ``chunksize`` cover ``items``."""
    return -(-items // chunksize)


# --- pools -------------------------------------------------------------------------


def prime_or_none(n: int) -> int | None:
    """``n`` if it is prime: what the workers send back, so that the parent knows which
    numbers were prime even when the answers come back out of order."""
    return n if is_prime(n) else None


def primes_on_pool(numbers: Sequence[int], *, kind: str, workers: int, start_method: str | None,
                   chunksize: int | None) -> list[int]:
    """The primes among ``numbers``: serially, with ``Pool.map``, ``Pool.imap``,
    ``Pool.imap_unordered`` or ``ProcessPoolExecutor.map``.

    The pool's start-up and shut-down are part of the work. ``chunksize`` None
    leaves ``Pool.map`` its default.
    """
    if kind == "serial":
        answers = list(map(prime_or_none, numbers))
    elif kind == "executor":
        context = multiprocessing.get_context(start_method)
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as executor:
            answers = list(executor.map(prime_or_none, numbers, chunksize=chunksize or 1))
    elif kind in ("pool", "imap", "imap_unordered"):
        with multiprocessing.get_context(start_method).Pool(workers) as pool:
            if kind == "pool":
                answers = pool.map(prime_or_none, numbers, chunksize=chunksize)
            else:  # the iterators have no default chunk size of their own but 1
                answers = list(getattr(pool, kind)(prime_or_none, numbers, chunksize=chunksize or 1))
    else:
        raise ValueError(f"unknown kind of pool: {kind!r}")
    return [n for n in answers if n is not None]


def _pool_method(kind: str):
    def run(*, workers: int, start_method: str | None, first: int, count: int, **_: int) -> dict[str, int]:
        # Other parameters of an experiment (a queue's batch size) do not apply.
        # Every pool gets the chunk size Pool.map would pick: the default of the
        # executor and of imap is 1, whose cost primes_chunksize shows separately.
        chunksize = pool_default_chunksize(count, workers)
        found = primes_on_pool(candidates(first, count), kind=kind, workers=workers, start_method=start_method,
                               chunksize=None if kind == "pool" else chunksize)
        return found_answer(found, chunksize_used=chunksize if kind != "serial" else count)

    run.__name__ = f"primes_{kind}"
    return run


def range_points(settings: Mapping[str, Any], methods: tuple[Method, ...]) -> list[Point]:
    """Every selected method at every worker count, on the configured range of numbers."""
    return grid_points({**settings, **number_range(settings["numbers"])}, ("first", "count"), methods)


def _primes_subinterpreters(*, workers: int, start_method: str | None, first: int, count: int) -> dict[str, int]:
    """The range's numbers dealt out in turn to one subinterpreter per worker
    (:mod:`experiments.subinterpreters`), each testing its share with ``is_prime``.

    Dealt out in turn, each worker gets as many numbers and as large ones as the
    others, the balance that the pools' chunks give.
    """
    numbers = candidates(first, count)
    flags = subinterpreters.map_in_interpreters(is_prime, [(n,) for n in numbers], workers=workers)
    return found_answer((n for n, prime in zip(numbers, flags) if prime), chunksize_used=chunk_count(count, workers))


PRIMES_POOL = Experiment(
    name="primes_pool",
    family="primes",
    title="Finding primes with a process pool",
    methods=(
        Method("serial", "serial loop", _pool_method("serial"), parallel=False),
        Method("pool_map", "Pool.map", _pool_method("pool"), uses_start_method=True),
        # the iterators under the job's start method only: what they add to map is
        # the same under every start method, and the grid stays small
        Method("pool_imap", "Pool.imap", _pool_method("imap")),
        Method("pool_imap_unordered", "Pool.imap_unordered", _pool_method("imap_unordered")),
        Method("executor_map", "ProcessPoolExecutor.map", _pool_method("executor"), uses_start_method=True),
        Method("subinterpreters", "subinterpreters", _primes_subinterpreters, unavailable=subinterpreters.unavailable),
    ),
    points=lambda settings: range_points(settings, PRIMES_POOL.methods),
    verify=verify_count,
    parameters=(FIRST, COUNT),
    measurements=(PRIME_SUM, CHUNKSIZE_USED),
    baseline="serial",
)


# --- chunk sizes and numbers of chunks ---------------------------------------------


def _chunked_method(*, shuffled: bool, by_chunks: bool):
    """``Pool.map`` over the range, in order or shuffled, with a chunk size or a number of chunks.

    A chunk size of 0 stands for ``Pool.map``'s own default (``chunksize=None``).
    """

    def run(*, workers: int, start_method: str | None, first: int, count: int, **grain: int) -> dict[str, int]:
        if by_chunks:
            requested = chunksize = chunksize_for(count, grain["chunks"])
        else:
            requested = grain["chunksize"] or None
            chunksize = requested or pool_default_chunksize(count, workers)
        found = primes_on_pool(candidates(first, count, shuffled=shuffled), kind="pool", workers=workers,
                               start_method=start_method, chunksize=requested)
        return found_answer(found, chunksize_used=chunksize)

    run.__name__ = f"primes_{'chunks' if by_chunks else 'chunksize'}_{'shuffled' if shuffled else 'ordered'}"
    return run


def _swept_points(settings: Mapping[str, Any], methods: tuple[Method, ...], name: str,
                  values: Iterable[int]) -> list[Point]:
    """Every selected method at every worker count and every value of the swept parameter."""
    values = list(values)
    return [Point(p.method, p.workers, {**p.params, name: value})
            for p in range_points(settings, methods) for value in values]


def _sweep_experiment(name: str, title: str, swept: Column,
                      values: Callable[[Mapping[str, Any]], Iterable[int]]) -> Experiment:
    """A ``Pool.map`` sweep over ``swept`` (:data:`CHUNKSIZE` or :data:`CHUNKS`), numbers in order and shuffled."""
    by_chunks = swept is CHUNKS
    methods = (
        Method("ordered", "numbers in order", _chunked_method(shuffled=False, by_chunks=by_chunks)),
        Method("shuffled", "numbers shuffled", _chunked_method(shuffled=True, by_chunks=by_chunks)),
    )
    return Experiment(
        name=name,
        family="primes",
        title=title,
        methods=methods,
        points=lambda settings: _swept_points(settings, methods, swept.name, values(settings)),
        verify=verify_count,
        parameters=(FIRST, COUNT, swept),
        measurements=(PRIME_SUM, CHUNKSIZE_USED),
        # a chunk size given is not always the one used (the last chunk is smaller)
        shown=("chunksize_used",) if swept is CHUNKSIZE else (),
        swept=swept.name,
    )


# chunk size 0: none given, so Pool.map picks its default
PRIMES_CHUNKSIZE = _sweep_experiment("primes_chunksize", "Chunk sizes of Pool.map", CHUNKSIZE,
                                     lambda settings: [*settings["chunksizes"], 0])
PRIMES_CHUNKS = _sweep_experiment("primes_chunks", "Numbers of chunks for Pool.map", CHUNKS,
                                  lambda settings: range(1, settings["max_chunks"] + 1))


# --- queues of work ----------------------------------------------------------------


def primes_in(batch: list[int]) -> list[int]:
    """The primes of a batch of numbers."""
    return [n for n in batch if is_prime(n)]


def odd_candidates(first: int, count: int) -> list[int]:
    """The numbers of the range that can be prime by parity: 2 if it is in range, then the odd ones."""
    end = first + count
    return ([2] if first <= 2 < end else []) + list(range(max(first, 3) | 1, end, 2))


def batches(numbers: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive batches of ``size`` numbers (the last may be shorter)."""
    return [list(numbers[start : start + size]) for start in range(0, len(numbers), size)]


#: Jobs waiting in the bounded queue of the asynchronous variant, per worker.
FEEDER_QUEUE_PER_WORKER = 100


def _queue_method(*, kind: str = "pipe", odd_only: bool = False, asynchronous: bool = False,
                  batched: bool = False):
    def run(*, workers: int, start_method: str | None, first: int, count: int, batch_size: int) -> dict[str, int]:
        numbers = odd_candidates(first, count) if odd_only else candidates(first, count)
        jobs = batches(numbers, batch_size) if batched else numbers
        found = workqueue.run_on_queue(
            primes_in if batched else prime_or_none, jobs, workers=workers, start_method=start_method, kind=kind,
            asynchronous=asynchronous, maxsize=FEEDER_QUEUE_PER_WORKER * workers if asynchronous else 0,
        )
        primes = [n for batch in found for n in batch] if batched else found
        return found_answer(primes, queue_items=len(jobs))

    run.__name__ = f"primes_queue_{kind}{'_odd' if odd_only else ''}{'_async' if asynchronous else ''}"
    return run


PRIMES_QUEUE = Experiment(
    name="primes_queue",
    family="primes",
    title="Queues of work",
    methods=(
        Method("serial", "serial loop", _pool_method("serial"), parallel=False),
        Method("pool_map", "Pool.map", _pool_method("pool")),
        Method("manager_queue", "Manager().Queue, one number per item", _queue_method(kind="manager")),
        Method("manager_queue_odd", "Manager().Queue, odd numbers only", _queue_method(kind="manager", odd_only=True)),
        Method("queue", "multiprocessing.Queue, one number per item", _queue_method()),
        Method("queue_async", "multiprocessing.Queue, fed by a thread", _queue_method(asynchronous=True)),
        Method("queue_batched", "multiprocessing.Queue, batches of numbers", _queue_method(batched=True)),
    ),
    points=lambda settings: grid_points({**settings, **number_range(settings["numbers"])},
                                        PRIMES_QUEUE.params, PRIMES_QUEUE.methods),
    verify=verify_count,
    parameters=(FIRST, COUNT, BATCH_SIZE),
    # its serial loop and Pool.map are primes_pool's, which report their chunk size
    measurements=(PRIME_SUM, CHUNKSIZE_USED, QUEUE_ITEMS),
    baseline="serial",
    shown=("queue_items",),
)

# --- what one test costs as n grows ------------------------------------------------


def next_primes(first: int, how_many: int) -> list[int]:
    """The ``how_many`` smallest primes at or above ``first``, by :func:`is_prime`."""
    found, n = [], first
    while len(found) < how_many:
        if is_prime(n):
            found.append(n)
        n += 1
    return found


#: The primes each point tests, found by the untimed setup.
_PRIMES_TO_TEST: dict[tuple[int, int], list[int]] = {}


def _find_primes(*, first: int, checks: int, **_: Any) -> None:
    """The method's setup: find the primes to test once, before the clock starts."""
    _PRIMES_TO_TEST.setdefault((first, checks), next_primes(first, checks))


def _test_primes(*, workers: int, start_method: str | None, first: int, checks: int) -> dict[str, int]:
    """Test ``checks`` primes from ``first`` on: the worst case, every odd divisor up to √n tried.

    Only the tests are timed: the primes were found by :func:`_find_primes`.
    """
    numbers = _PRIMES_TO_TEST[(first, checks)]
    return found_answer(n for n in numbers if is_prime(n))


def _test_consecutive(*, workers: int, start_method: str | None, first: int, checks: int) -> dict[str, int]:
    """Test ``checks`` consecutive numbers from ``first`` on: what a chunk of them costs on average."""
    return found_answer(n for n in range(first, first + checks) if is_prime(n))


def _verify_cost(point: Point, answer: Mapping[str, Any]) -> bool:
    """Every number tested got the right verdict: the primes' count and sum match the sieve's (or the next primes')."""
    first, checks = point.params["first"], point.params["checks"]
    if point.method == "primes":
        # independent of is_prime: the sieve over the span that holds the next `checks` primes
        expected = _PRIMES_TO_TEST.get((first, checks)) or next_primes(first, checks)
        span = expected[-1] + 1 - first
        return (answer["result"] == checks == sieve_count(first, span)
                and answer["prime_sum"] == sieve_sum(first, span))
    return answer["result"] == sieve_count(first, checks) and answer["prime_sum"] == sieve_sum(first, checks)


def _cost_points(settings: Mapping[str, Any]) -> list[Point]:
    """Both methods from 10^k on, for every k of ``settings["magnitudes"]``."""
    points = []
    for magnitude in settings["magnitudes"]:
        points += grid_points({**settings, "first": 10 ** magnitude}, PRIMES_COST.params, PRIMES_COST.methods)
    return points


PRIMES_COST = Experiment(
    name="primes_cost",
    family="primes",
    title="What testing a number costs as it grows",
    methods=(
        Method("primes", "primes (every divisor tried)", _test_primes, parallel=False, setup=_find_primes),
        Method("consecutive", "consecutive numbers", _test_consecutive, parallel=False),
    ),
    points=_cost_points,
    verify=_verify_cost,
    parameters=(FIRST, CHECKS),
    measurements=(PRIME_SUM,),
)

EXPERIMENTS = (PRIMES_POOL, PRIMES_CHUNKSIZE, PRIMES_CHUNKS, PRIMES_QUEUE, PRIMES_COST)
