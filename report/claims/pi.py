"""The chapter's conclusions about the π experiments, as tests on our data."""

from __future__ import annotations

from functools import partial

from report.book.common import load_reference
from report.book.pi import load_book
from report.claims.common import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Evidence,
    Measurements,
    MissingPoint,
    above,
    below,
    within,
)

#: The edition whose numbers stand beside ours in the claims table (4 physical cores, CPython 3).
EDITION = "ed2"
EDITION_CORES = 4


def _book_seconds(experiment: str, method: str, workers: int) -> float:
    book = load_book()
    row = book[(book["source"] == EDITION) & (book["experiment"] == experiment) & (book["method"] == method)
               & (book["workers"] == workers)]
    return float(row["seconds"].iloc[0])


def _parallel_workers(m: Measurements, experiment: str, method: str) -> int:
    """The worker count that fills the physical cores (at least two workers)."""
    several = [w for w in m.workers(experiment, method) if w >= 2]
    if not several:
        raise MissingPoint(f"{experiment}.{method} was not measured with two or more workers")
    return max(m.workers_near(experiment, method, m.cores), several[0])


def _thread_speedup(m: Measurements, experiment: str, baseline: str, test, wording: str) -> Evidence:
    """Speedup of a thread pool filling the cores over the serial method, against the book's at its cores."""
    w = _parallel_workers(m, experiment, "threads")
    value, low, high = m.ratio(m.times(experiment, baseline), m.times(experiment, "threads", w))
    book = _book_seconds(experiment, "serial", 1) / _book_seconds(experiment, "threads", EDITION_CORES)
    return Evidence(test(value, low, high), f"speedup of a thread pool of {w} over serial{wording}",
                    value, low, high, f"{book:.2f}× with {EDITION_CORES} threads ({EDITION})")


#: A thread pool's speedup over serial below this counts as no gain from threads.
THREAD_GAIN = 1.2


def threads_do_not_help(m: Measurements) -> Evidence:
    return _thread_speedup(m, "pi_python", "serial", partial(below, THREAD_GAIN), f" (below {THREAD_GAIN}×?)")


def processes_scale_to_the_cores(m: Measurements) -> Evidence:
    w = _parallel_workers(m, "pi_python", "processes")
    value, low, high = (x / w for x in m.ratio(m.times("pi_python", "serial"), m.times("pi_python", "processes", w)))
    book = _book_seconds("pi_python", "serial", 1) / _book_seconds("pi_python", "processes", EDITION_CORES) / EDITION_CORES
    return Evidence(above(0.8, value, low, high), f"parallel efficiency of a process pool of {w} (above 80%?)",
                    value, low, high, f"{book:.0%} with {EDITION_CORES} processes ({EDITION})")


def no_gain_beyond_the_cores(m: Measurements) -> Evidence:
    w = _parallel_workers(m, "pi_python", "processes")
    beyond = [x for x in m.workers("pi_python", "processes") if x >= 2 * w]
    if not beyond:
        return Evidence("not run", f"needs a process pool of at least {2 * w} workers")
    value, low, high = m.ratio(m.times("pi_python", "processes", w), m.times("pi_python", "processes", beyond[0]))
    book = _book_seconds("pi_python", "processes", EDITION_CORES) / _book_seconds("pi_python", "processes", 2 * EDITION_CORES)
    return Evidence(below(1.15, value, low, high), f"speedup of {beyond[0]} processes over {w} (below 1.15×?)",
                    value, low, high, f"{book:.2f}× for {2 * EDITION_CORES} over {EDITION_CORES} processes ({EDITION})")


def _numpy_speedup_per_dart(m: Measurements, numpy_method: str, wording: str) -> Evidence:
    """Time per dart of the pure-Python serial loop over that of a serial numpy method."""
    python_per_dart = m.times("pi_python", "serial") / m.column("samples", "pi_python", "serial")
    numpy_per_dart = m.times("pi_numpy", numpy_method) / m.column("samples", "pi_numpy", numpy_method)
    value, low, high = m.ratio(python_per_dart, numpy_per_dart)
    book = _book_seconds("pi_python", "serial", 1) / _book_seconds("pi_numpy", "serial", 1)
    return Evidence(above(10, value, low, high), f"time per dart, pure Python over numpy {wording} (above 10×?)",
                    value, low, high, f"{book:.0f}× ({EDITION}, one array, same number of darts)")


def numpy_is_an_order_of_magnitude_faster(m: Measurements) -> Evidence:
    # the book's comparison: numpy draws the whole serial sample as one array
    return _numpy_speedup_per_dart(m, "serial", "in one array, serial")


def numpy_in_blocks_is_an_order_of_magnitude_faster(m: Measurements) -> Evidence:
    # the second measure: drawn in blocks, as our parallel methods draw
    return _numpy_speedup_per_dart(m, "serial_blocks", "in blocks, serial")


#: The smallest speedup of a numpy thread pool that counts as threads helping.
NUMPY_THREAD_GAIN = 1.05


def numpy_threads_help(m: Measurements) -> Evidence:
    """The book's variant: threads sharing numpy's global generator, against the same generator serially."""
    w = _parallel_workers(m, "pi_numpy", "threads_global")
    value, low, high = m.ratio(m.times("pi_numpy", "serial_global"), m.times("pi_numpy", "threads_global", w))
    book = _book_seconds("pi_numpy", "serial", 1) / _book_seconds("pi_numpy", "threads", EDITION_CORES)
    return Evidence(above(NUMPY_THREAD_GAIN, value, low, high),
                    f"speedup of {w} threads sharing numpy's global generator over it serially "
                    f"(above {NUMPY_THREAD_GAIN}×?)",
                    value, low, high, f"{book:.2f}× with {EDITION_CORES} threads ({EDITION})")


def numpy_threads_with_own_generators_help(m: Measurements) -> Evidence:
    return _thread_speedup(m, "pi_numpy", "serial_blocks", partial(above, NUMPY_THREAD_GAIN),
                           f" numpy, a generator per thread (above {NUMPY_THREAD_GAIN}×?)")


def joblib_matches_a_process_pool(m: Measurements) -> Evidence:
    w = _parallel_workers(m, "pi_python", "joblib")
    value, low, high = m.ratio(m.times("pi_python", "joblib", w), m.times("pi_python", "processes", w))
    return Evidence(within(0.8, 1.25, value, low, high), f"joblib time over process-pool time at {w} workers (0.8–1.25?)",
                    value, low, high, "no side-by-side figure")


def the_cache_answers_at_once(m: Measurements) -> Evidence:
    w = m.workers("pi_cache", "warm")[-1]
    value, low, high = m.ratio(m.times("pi_cache", "cold", w), m.times("pi_cache", "warm", w))
    book = load_reference("pi")["pi_cache"]
    ratio = book["cache_first_delta_s"] / book["cache_second_delta_s"]
    return Evidence(above(10, value, low, high), f"first call over second call, {w} workers (above 10×?)",
                    value, low, high, f"{ratio:.0f}× with {book['n_jobs']} jobs (ed2)")


def forked_workers_repeat_draws(m: Measurements) -> Evidence:
    w = m.workers("seeding", "seedsequence")[-1]
    duplicated = m.column("duplicated_draws", "seeding", "numpy_global_fork", w, correct_only=False)
    draws = m.column("draws", "seeding", "numpy_global_fork", w, correct_only=False)
    share = duplicated / draws
    low, high = float(share.min()), float(share.max())
    return Evidence(above(0.0, float(share.mean()), low, high), f"share of draws duplicated by {w} forked workers (above 0?)",
                    float(share.mean()), low, high, "described, no figure")


def cache_without_index_repeats(m: Measurements) -> Evidence:
    """Share of the workers, beyond the first, that got another worker's cached answer."""
    w = m.workers("pi_cache", "no_index")[-1]
    if w < 2:
        raise MissingPoint("pi_cache.no_index was not measured with two or more workers")
    share = m.column("duplicated_streams", "pi_cache", "no_index", w, correct_only=False) / (w - 1)
    low, high = float(share.min()), float(share.max())
    # every trial repeated an answer, none did, or some did: a count, not an estimate with an interval
    verdict = REPRODUCED if low > 0 else NOT_REPRODUCED if high == 0 else INCONCLUSIVE
    return Evidence(verdict,
                    f"share of {w - 1} workers beyond the first that got the first's cached answer, without an index "
                    "argument (above 0?)", float(share.mean()), low, high, "described, no figure")


CLAIMS = (
    Claim("threads-no-gain", "pi_python", "pi_python", "Threads do not speed up a pure-Python loop: the GIL lets one thread run Python code at a time.", threads_do_not_help),
    Claim("processes-linear", "pi_python", "pi_python", "Processes speed a pure-Python loop up close to linearly, up to the physical cores.", processes_scale_to_the_cores),
    Claim("no-gain-beyond-cores", "pi_python", "pi_python", "Beyond the physical cores, more processes bring no further speedup.", no_gain_beyond_the_cores),
    Claim("numpy-10x", "pi_numpy", "pi_numpy", "numpy estimates π more than an order of magnitude faster than pure Python.", numpy_is_an_order_of_magnitude_faster),
    Claim("numpy-10x-blocks", "pi_numpy", "pi_numpy", "The same, against numpy drawing in blocks (as our parallel numpy methods draw).", numpy_in_blocks_is_an_order_of_magnitude_faster),
    Claim("numpy-threads-help", "pi_numpy", "pi_numpy", "With numpy, threads do help, because numpy releases the GIL while it computes (threads sharing numpy's global generator, as in the book).", numpy_threads_help),
    Claim("numpy-own-generator-threads-help", "pi_numpy", "pi_numpy", "The same with a generator per thread, which no lock makes the threads share.", numpy_threads_with_own_generators_help),
    Claim("joblib-like-pool", "pi_python", "pi_python", "joblib's Parallel is a drop-in replacement for a process pool, at about the same speed.", joblib_matches_a_process_pool),
    Claim("cache-instant", "pi_cache", "pi_cache", "joblib's Memory answers a repeated call almost instantly.", the_cache_answers_at_once),
    Claim("cache-no-index-repeats", "pi_cache", "pi_cache", "A cached worker function whose arguments do not tell the workers apart (no index) hands every worker the same cached answer.", cache_without_index_repeats),
    Claim("unseeded-forks-repeat", "seeding", "seeding", "Forked workers that inherit a random state without reseeding draw the same numbers.", forked_workers_repeat_draws),
)
