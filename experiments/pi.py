"""Estimating π with the Monte Carlo method: throw darts at the unit square and
count those that land inside the quarter circle (x² + y² ≤ 1).

Five experiments share this family:

``pi_python``
    Pure-Python darts (``uniform`` in a loop, in the book's form), serial, in a
    thread pool, in a process pool and through joblib; and serially with
    ``uniform`` bound to a local name, an optimisation the book does not make.
``pi_numpy``
    The same estimate with numpy's vectorised generator, serial (one block, or the
    same work in blocks), in threads and in processes, each worker with a
    generator of its own; and, as the book has it, serial and in threads that
    share numpy's global generator.
``pi_cache``
    joblib's ``Memory`` cache: the same work computed (cold), then answered from
    the cache (warm); and the book's pitfall, a cached worker function whose
    arguments do not tell the workers apart, so that every worker gets the one
    cached answer.
``seeding``
    What forked workers draw when nobody reseeds them, against independent
    per-worker streams.
``cpu_usage``
    The pure-Python thread and process pools again, with every core's
    utilisation sampled during each trial.

Every worker gets its own independent stream from ``numpy.random.SeedSequence``
(but those of the book's global-generator variant, which share one stream); tasks are plain picklable arguments, so every method works under the fork, spawn
and forkserver start methods.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import random
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from multiprocessing.pool import ThreadPool
from typing import Any

import joblib
import numpy as np
# numpy loads numpy.random on first use. The seeding experiment's parent must have
# it (and so its global state) before it forks, as a program that used it would:
# otherwise each child loads it anew, seeds itself, and the shared stream is hidden.
import numpy.random  # noqa: F401

from experiments import subinterpreters
from experiments.owned import folder_prefix
from experiments.spec import Column, Experiment, Method, Point, grid_points

#: How many standard errors an estimate may stray from π before it counts as
#: wrong. At 6, a correct method fails about once in 500 million trials; at 4
#: it failed once in 16,000, which is one trial in every few runs of the default
#: grid (and once a flaky test). A method that loses or repeats a worker's share
#: is off by far more.
TOLERANCE_STANDARD_ERRORS = 6.0

# The columns this family's experiments add to the tidy table.
SAMPLES = Column("samples", "count", "", "darts per trial")
BLOCK_SIZE = Column("block_size", "count", "", "darts per vectorised block")
DRAWS_PER_WORKER = Column("draws_per_worker", "count", "", "random numbers each worker draws per coordinate")
DRAWS = Column("draws", "count", "", "random numbers drawn in total per coordinate")
DUPLICATED_DRAWS = Column("duplicated_draws", "count", "", "draws that repeat another draw of the same trial")
#: also random_fill's (experiments.sharing)
DUPLICATED_STREAMS = Column("duplicated_streams", "count", "",
                            "workers whose random stream repeats another's: the same seed, or the same first number")


def split_evenly(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` whole shares that differ by at most one."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def pi_tolerance(samples: int) -> float:
    """Largest acceptable |estimate − π| for an estimate from ``samples`` darts.

    The number of hits is binomial with p = π/4, so the estimate 4·hits/n has
    standard error 4·sqrt(p(1 − p)/n).
    """
    p = math.pi / 4
    return TOLERANCE_STANDARD_ERRORS * 4 * math.sqrt(p * (1 - p) / samples)


def pi_is_close(estimate: float, samples: int) -> bool:
    return abs(estimate - math.pi) <= pi_tolerance(samples)


def estimate_from_hits(hits: int, samples: int) -> float:
    return 4.0 * hits / samples


# --- the work each worker does -------------------------------------------------


def count_hits_python(samples: int, seed: int) -> int:
    """Throw ``samples`` darts one at a time, in the book's loop form; count hits.

    As the book writes it, every dart looks ``uniform`` up anew and adds the
    comparison's bool to the count. The one difference: the generator is a
    ``random.Random`` of this worker's own (seeded from its ``SeedSequence``),
    not the ``random`` module's shared one, so that the threads of a
    free-threaded CPython do not take turns on one generator's lock.
    """
    rng = random.Random(seed)
    hits = 0
    # uniform(0, 1) with integer bounds, as the book writes it. Float constants passed
    # as arguments are objects shared by every thread, whose reference counts the
    # threads of a free-threaded CPython 3.13 contend on: with uniform(0.0, 1.0), two
    # threads ran at 0.6-1.0x the serial speed here, with uniform(0, 1) at 1.6-2.2x
    # (small ints are immortal, so nothing is counted).
    for _ in range(int(samples)):
        x = rng.uniform(0, 1)
        y = rng.uniform(0, 1)
        is_in_unit_circle = x * x + y * y <= 1.0
        hits += is_in_unit_circle
    return int(hits)


def count_hits_python_local(samples: int, seed: int) -> int:
    """The same darts with ``uniform`` bound to a local name once, and an ``if``.

    Our earlier loop, kept as a method of its own: it saves the attribute look-up
    per dart, an optimisation the book does not make (about 5% here).
    """
    uniform = random.Random(seed).uniform
    hits = 0
    for _ in range(samples):
        x = uniform(0, 1)
        y = uniform(0, 1)
        if x * x + y * y <= 1.0:
            hits += 1
    return hits


def count_hits_numpy(samples: int, seed: np.random.SeedSequence, block_size: int) -> int:
    """Throw ``samples`` darts in vectorised blocks of at most ``block_size``."""
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, samples, block_size):
        n = min(block_size, samples - start)
        x, y = rng.random((2, n))
        hits += int(np.count_nonzero(x * x + y * y <= 1.0))
    return hits


def count_hits_numpy_global(samples: int, block_size: int) -> int:
    """The book's numpy darts: drawn from numpy's global generator, reseeded first.

    Every thread that calls this shares the one global ``RandomState``, whose
    lock lets one thread draw at a time; that is what held the book's numpy
    threads back. The book reseeds from the operating system at each call (so
    forked processes do not repeat each other); so do we.
    """
    np.random.seed()
    hits = 0
    for start in range(0, samples, block_size):
        n = min(block_size, samples - start)
        x = np.random.uniform(0, 1, n)
        y = np.random.uniform(0, 1, n)
        hits += int(np.count_nonzero(x * x + y * y <= 1.0))
    return hits


def _python_task(task: tuple[int, np.random.SeedSequence]) -> int:
    samples, seed = task
    return count_hits_python(samples, python_seed(seed))


def _python_local_task(task: tuple[int, np.random.SeedSequence]) -> int:
    samples, seed = task
    return count_hits_python_local(samples, python_seed(seed))


def _numpy_global_task(task: tuple[int, np.random.SeedSequence, int]) -> int:
    samples, _, block_size = task
    return count_hits_numpy_global(samples, block_size)


def _numpy_task(task: tuple[int, np.random.SeedSequence, int]) -> int:
    return count_hits_numpy(*task)


def python_seed(seed: np.random.SeedSequence) -> int:
    """A seed for ``random.Random`` drawn from a ``SeedSequence``."""
    return int(seed.generate_state(1, np.uint64)[0])


def worker_tasks(samples: int, workers: int, entropy: int | None = None) -> list[tuple[int, np.random.SeedSequence]]:
    """One (share of samples, independent seed) task per worker."""
    seeds = np.random.SeedSequence(entropy).spawn(workers)
    return list(zip(split_evenly(samples, workers), seeds))


def map_on_workers(function, tasks: Sequence[Any], *, kind: str, workers: int, start_method: str | None) -> list[Any]:
    """Run ``function`` over ``tasks`` serially, in threads, processes or joblib.

    The pool's start-up and shut-down are part of the work, as they are for a
    user who reaches for a pool to answer one question.
    """
    if kind == "serial":
        return [function(task) for task in tasks]
    if kind == "threads":
        with ThreadPool(workers) as pool:
            return pool.map(function, tasks)
    if kind == "processes":
        with multiprocessing.get_context(start_method).Pool(workers) as pool:
            return pool.map(function, tasks)
    if kind == "joblib":
        return joblib.Parallel(n_jobs=workers)(joblib.delayed(function)(task) for task in tasks)
    raise ValueError(f"unknown kind of worker pool: {kind!r}")


# --- pi_python ---------------------------------------------------------------------


def _pi_python_method(kind: str, task=_python_task):
    def run(*, workers: int, start_method: str | None, samples: int) -> float:
        tasks = worker_tasks(samples, workers)
        hits = map_on_workers(task, tasks, kind=kind, workers=workers, start_method=start_method)
        return estimate_from_hits(sum(hits), samples)

    run.__name__ = f"pi_python_{kind}{'' if task is _python_task else '_local'}"
    return run


def _verify_pi(point: Point, answer: Any) -> bool:
    """The estimate lies within six standard errors of π for its number of darts."""
    return pi_is_close(float(answer), point.params["samples"])


def _pi_python_subinterpreters(*, workers: int, start_method: str | None, samples: int) -> float:
    """Each worker's darts in a subinterpreter of its own (:mod:`experiments.subinterpreters`).

    The same dart loop as the other methods; its seed crosses as a plain int,
    since a ``SeedSequence`` (numpy) cannot enter a subinterpreter.
    """
    tasks = [(share, python_seed(seed)) for share, seed in worker_tasks(samples, workers)]
    hits = subinterpreters.map_in_interpreters(count_hits_python, tasks, workers=workers)
    return estimate_from_hits(sum(hits), samples)


PI_PYTHON = Experiment(
    name="pi_python",
    family="pi",
    title="π with pure-Python darts",
    methods=(
        Method("serial", "serial", _pi_python_method("serial"), parallel=False),
        Method("serial_local", "serial, uniform bound locally", _pi_python_method("serial", _python_local_task),
               parallel=False),
        Method("threads", "thread pool", _pi_python_method("threads")),
        Method("processes", "process pool", _pi_python_method("processes"), uses_start_method=True),
        Method("joblib", "joblib Parallel", _pi_python_method("joblib")),
        Method("subinterpreters", "subinterpreters", _pi_python_subinterpreters,
               unavailable=subinterpreters.unavailable),
    ),
    points=lambda settings: grid_points(settings, PI_PYTHON.params, PI_PYTHON.methods),
    verify=_verify_pi,
    parameters=(SAMPLES,),
    baseline="serial",
)


# --- pi_numpy ----------------------------------------------------------------------


def _pi_numpy_method(kind: str, *, one_block: bool = False, task=_numpy_task):
    def run(*, workers: int, start_method: str | None, samples: int, block_size: int) -> float:
        tasks = [
            (share, seed, share if one_block else block_size) for share, seed in worker_tasks(samples, workers)
        ]
        hits = map_on_workers(task, tasks, kind=kind, workers=workers, start_method=start_method)
        return estimate_from_hits(sum(hits), samples)

    suffix = ("_one_block" if one_block else "") + ("" if task is _numpy_task else "_global")
    run.__name__ = f"pi_numpy_{kind}{suffix}"
    return run


PI_NUMPY = Experiment(
    name="pi_numpy",
    family="pi",
    title="π with numpy",
    methods=(
        Method("serial", "serial, one block", _pi_numpy_method("serial", one_block=True), parallel=False),
        Method("serial_blocks", "serial, in blocks", _pi_numpy_method("serial"), parallel=False),
        Method("threads", "thread pool", _pi_numpy_method("threads")),
        Method("processes", "process pool", _pi_numpy_method("processes"), uses_start_method=True),
        # the book's variant: every worker draws from numpy's one global generator
        Method("serial_global", "serial, global generator", _pi_numpy_method("serial", task=_numpy_global_task),
               parallel=False),
        Method("threads_global", "thread pool, global generator",
               _pi_numpy_method("threads", task=_numpy_global_task)),
    ),
    points=lambda settings: grid_points(settings, PI_NUMPY.params, PI_NUMPY.methods),
    verify=_verify_pi,
    parameters=(SAMPLES, BLOCK_SIZE),
    # the parallel methods draw in blocks too, so the fair serial reference does
    baseline="serial_blocks",
)


# --- pi_cache ----------------------------------------------------------------------

#: Fixed entropy, so that the warm call asks for exactly what the cold one cached.
CACHE_ENTROPY = 20_140_601


@contextlib.contextmanager
def joblib_cache(settings: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A joblib ``Memory`` in a private folder that is removed afterwards."""
    folder = tempfile.mkdtemp(prefix=folder_prefix("joblib"))
    try:
        yield {"memory": joblib.Memory(folder, verbose=0)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _seeded_darts(task: tuple[int, np.random.SeedSequence]) -> tuple[int, int]:
    """A worker's hits and the seed it threw them with (which tells the workers' streams apart)."""
    samples, seed = task
    seed = python_seed(seed)
    return count_hits_python(samples, seed), seed


def _darts_without_index(samples: int) -> tuple[int, int]:
    """A worker's hits from a fresh seed of the operating system's, and that seed.

    Its only argument is the share of darts, the same for every worker, as in
    the book's example without an index: to joblib's cache, every call is the same call.
    """
    seed = random.SystemRandom().getrandbits(64)
    return count_hits_python(samples, seed), seed


def _cache_answer(answers: Sequence[tuple[int, int]], samples: int) -> dict[str, float]:
    """The estimate from every worker's hits, and how many workers' seeds repeat another's."""
    seeds = [seed for _, seed in answers]
    return {"result": estimate_from_hits(sum(hits for hits, _ in answers), samples),
            "duplicated_streams": len(seeds) - len(set(seeds))}


def _cached_estimate(*, workers: int, start_method: str | None, samples: int,
                     memory: joblib.Memory) -> dict[str, float]:
    cached_task = memory.cache(_seeded_darts)
    tasks = worker_tasks(samples, workers, entropy=CACHE_ENTROPY)
    answers = joblib.Parallel(n_jobs=workers)(joblib.delayed(cached_task)(task) for task in tasks)
    return _cache_answer(answers, samples)


def _cached_without_index(*, workers: int, start_method: str | None, samples: int,
                          memory: joblib.Memory) -> dict[str, float]:
    cached_task = memory.cache(_darts_without_index)
    share = samples // workers  # one share for all, as the book's, so that every call looks the same
    answers = joblib.Parallel(n_jobs=workers)(joblib.delayed(cached_task)(share) for _ in range(workers))
    return _cache_answer(answers, share * workers)


def _clear_cache(*, memory: joblib.Memory, **_: Any) -> None:
    memory.clear(warn=False)


def _fill_cache_without_index(*, memory: joblib.Memory, **kwargs: Any) -> None:
    """Clear the cache and call once, as a program's earlier run would have: the timed call is the repeat."""
    _clear_cache(memory=memory)
    _cached_without_index(memory=memory, **kwargs)


def _verify_cached(point: Point, answer: Mapping[str, float]) -> bool:
    """The estimate lies within six standard errors of π, and no two workers threw the same darts."""
    return answer["duplicated_streams"] == 0 and pi_is_close(answer["result"], point.params["samples"])


PI_CACHE = Experiment(
    name="pi_cache",
    family="pi",
    title="Caching results with joblib's Memory",
    methods=(
        Method("cold", "first call (computed)", _cached_estimate, setup=_clear_cache),
        Method("warm", "second call (from cache)", _cached_estimate),
        Method("no_index", "second call, no index argument (book's pitfall)", _cached_without_index,
               known_wrong=True, setup=_fill_cache_without_index),
    ),
    # cold then warm at each worker count (a stable sort keeps the method order):
    # the warm call must follow the cold call that filled the cache for its tasks
    points=lambda settings: sorted(grid_points(settings, PI_CACHE.params, PI_CACHE.methods), key=lambda p: p.workers),
    verify=_verify_cached,
    parameters=(SAMPLES,),
    measurements=(DUPLICATED_STREAMS,),
    session=joblib_cache,
    shuffle_rounds=False,
    baseline="cold",
)


# --- seeding -----------------------------------------------------------------------


def _draw_global_numpy(draws: int) -> np.ndarray:
    """Draw from numpy's legacy global state, which a forked child inherits as is."""
    return np.random.random((2, draws))


def _draw_global_python(draws: int) -> np.ndarray:
    """Draw from the ``random`` module, which CPython reseeds in a forked child."""
    return np.array([[random.random() for _ in range(draws)] for _ in range(2)])


def _draw_seeded(task: tuple[int, np.random.SeedSequence]) -> np.ndarray:
    draws, seed = task
    return np.random.default_rng(seed).random((2, draws))


def _seeding_answer(streams: list[np.ndarray]) -> dict[str, float]:
    xs = np.concatenate([stream[0] for stream in streams])
    ys = np.concatenate([stream[1] for stream in streams])
    hits = int(np.count_nonzero(xs * xs + ys * ys <= 1.0))
    return {
        "result": estimate_from_hits(hits, xs.size),
        "draws": int(xs.size),
        "duplicated_draws": int(xs.size - np.unique(xs).size),
    }


def _forked_draws(draw):
    def run(*, workers: int, start_method: str | None, draws_per_worker: int) -> dict[str, float]:
        # Always fork: the experiment shows what fork does to inherited state.
        # A fresh child per task, so no worker continues its own stream.
        with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool:
            streams = pool.map(draw, [draws_per_worker] * workers, chunksize=1)
        return _seeding_answer(streams)

    run.__name__ = f"forked_{draw.__name__}"
    return run


def _seeded_draws(*, workers: int, start_method: str | None, draws_per_worker: int) -> dict[str, float]:
    tasks = [(draws_per_worker, seed) for seed in np.random.SeedSequence().spawn(workers)]
    with multiprocessing.get_context(start_method).Pool(workers) as pool:
        streams = pool.map(_draw_seeded, tasks, chunksize=1)
    return _seeding_answer(streams)


def _verify_streams(point: Point, answer: Mapping[str, float]) -> bool:
    """No draw repeats another, and the estimate of π from all draws is within six standard errors."""
    return answer["duplicated_draws"] == 0 and pi_is_close(answer["result"], answer["draws"])


SEEDING = Experiment(
    name="seeding",
    family="pi",
    title="Random numbers in parallel workers",
    methods=(
        Method("numpy_global_fork", "numpy global state, forked", _forked_draws(_draw_global_numpy), known_wrong=True),
        Method("python_random_fork", "random module, forked", _forked_draws(_draw_global_python)),
        Method("seedsequence", "SeedSequence.spawn", _seeded_draws),
    ),
    points=lambda settings: grid_points(settings, SEEDING.params, SEEDING.methods),
    verify=_verify_streams,
    parameters=(DRAWS_PER_WORKER,),
    measurements=(DRAWS, DUPLICATED_DRAWS),
    shown=("duplicated_draws", "draws"),
)

# --- cpu_usage ---------------------------------------------------------------------

CPU_USAGE = Experiment(
    name="cpu_usage",
    family="pi",
    title="Where CPU time goes",
    # the pure-Python methods themselves, watched core by core
    methods=tuple(method for method in PI_PYTHON.methods if method.name in ("threads", "processes")),
    points=lambda settings: grid_points(settings, CPU_USAGE.params, CPU_USAGE.methods),
    verify=_verify_pi,
    parameters=(SAMPLES,),
    core_interval=0.1,
    shown=("cpu_utilisation",),
)

EXPERIMENTS = (PI_PYTHON, PI_NUMPY, PI_CACHE, SEEDING, CPU_USAGE)
