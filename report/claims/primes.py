"""The chapter's conclusions about handing out prime tests (chunk sizes, numbers of chunks, queues), as tests on our data.

The chunk experiments compare points of one method that differ by a parameter
(``chunksize``, ``chunks``), so this module picks trials by parameter as well
(:func:`_times`). "The best chunk size" is the measured point with the fastest
median; because it is the fastest of many noisy points, a ratio to it is a
little above 1 by selection alone, which is why the thresholds below keep a
margin above 1.
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.primes import chunk_count, pool_default_chunksize
from report.book.primes import load_book
from report.claims.common import Claim, Evidence, Measurements, MissingPoint, above, below, within

#: Trial division tries every odd divisor up to √n on a prime, so its time grows as n to this power.
SQUARE_ROOT = 0.5

#: How far the measured power may stray from √n and still count as growing like it.
POWER_TOLERANCE = 0.15

#: The book's chunk tables are its 1st and 3rd editions' (its 2nd edition printed no chunk timings).
CHUNK_EDITIONS = ("ed1", "ed3")


# --- our points ----------------------------------------------------------------------


def _sweep_workers(m: Measurements, experiment: str, method: str) -> int:
    """The worker count of a sweep closest to the physical cores from below (else the smallest measured)."""
    try:
        return m.workers_near(experiment, method, m.cores)
    except MissingPoint:
        return m.workers(experiment, method)[0]


def _medians(m: Measurements, experiment: str, method: str, workers: int, swept: str) -> pd.Series:
    """Median time per value of the swept parameter, fastest first."""
    rows = m.rows(experiment, method, workers)
    if rows.empty or swept not in rows:
        raise MissingPoint(f"{experiment}.{method} was not measured at {workers} workers")
    return rows.groupby(swept)["seconds"].median().sort_values()


def _ratio_to_best(m: Measurements, experiment: str, value: int) -> tuple[int, int, tuple[float, float, float]]:
    """Time at chunk size ``value`` over the time at the fastest measured chunk size, numbers in order."""
    w = _sweep_workers(m, experiment, "ordered")
    best = int(_medians(m, experiment, "ordered", w, "chunksize").index[0])
    ratio = m.ratio(m.times(experiment, "ordered", w, chunksize=value),
                    m.times(experiment, "ordered", w, chunksize=best))
    return w, best, ratio


def _workers(count: int) -> str:
    return f"{count} worker{'s' if count != 1 else ''}"


def _chunks(count: int) -> str:
    return f"{count} chunk{'s' if count != 1 else ''}"


def _size(chunksize: int) -> str:
    return "Pool.map's default" if chunksize == 0 else f"{chunksize:,}"


# --- the book's points ---------------------------------------------------------------


def _book_chunk(experiment: str) -> pd.DataFrame:
    book = load_book()
    return book[(book["experiment"] == experiment) & (book["method"] == "ordered")]


def _book_over_best(chunksize: int | None) -> str:
    """The book's time at a chunk size (None: its largest) over its fastest, per edition."""
    book = _book_chunk("primes_chunksize")
    parts = []
    for edition in CHUNK_EDITIONS:
        rows = book[book["source"] == edition]
        size = rows["chunksize"].max() if chunksize is None else chunksize
        at = rows[rows["chunksize"] == size]
        parts.append(f"{float(at['seconds'].iloc[0]) / rows['seconds'].min():.2f}× "
                     f"({edition}, {_workers(int(rows['workers'].iloc[0]))}"
                     f"{', chunk size ' + format(int(size), ',') if chunksize is None else ''})")
    return "; ".join(parts)


# --- the claims ----------------------------------------------------------------------


def chunk_of_one_is_slowest(m: Measurements) -> Evidence:
    w, best, (value, low, high) = _ratio_to_best(m, "primes_chunksize", 1)
    return Evidence(above(2.0, value, low, high),
                    f"time at chunk size 1 over the best chunk size ({_size(best)}), {w} workers, numbers in order "
                    "(above 2×: the cost per task at least equals the work?)",
                    value, low, high, _book_over_best(1))


def large_chunks_lose_balance(m: Measurements) -> Evidence:
    """The largest chunk size that still gives every worker a chunk, against the best.

    A chunk size that leaves fewer chunks than workers idles some workers by
    construction (one chunk is a serial run): it would prove nothing.
    """
    w = _sweep_workers(m, "primes_chunksize", "ordered")
    count = int(m.rows("primes_chunksize", "ordered", w)["count"].iloc[0])
    sizes = [s for s in _medians(m, "primes_chunksize", "ordered", w, "chunksize").index
             if s > 0 and chunk_count(count, int(s)) >= w]
    default = pool_default_chunksize(count, w)
    largest = int(max(sizes, default=0))
    if largest <= default:
        raise MissingPoint(f"no chunk size measured above Pool.map's default ({default:,}) gives each of {w} "
                           "workers a chunk")
    w, best, (value, low, high) = _ratio_to_best(m, "primes_chunksize", largest)
    return Evidence(above(1.1, value, low, high),
                    f"time at the largest chunk size ({largest:,}: {_chunks(chunk_count(count, largest))} for {w} workers) "
                    f"over the best ({_size(best)}), numbers in order (above 1.1×?)",
                    value, low, high, _book_over_best(None))


def default_chunksize_is_near_best(m: Measurements) -> Evidence:
    w, best, (value, low, high) = _ratio_to_best(m, "primes_chunksize", 0)
    return Evidence(below(1.15, value, low, high),
                    f"time with Pool.map's default chunk size over the best ({_size(best)}), {w} workers, "
                    "numbers in order (below 1.15×?)",
                    value, low, high, _book_over_best(0))


def _best_workers(m: Measurements, experiment: str, method: str) -> int:
    """The measured worker count where a method was fastest."""
    rows = m.rows(experiment, method)
    if rows.empty:
        raise MissingPoint(f"{experiment}.{method} was not measured")
    return int(rows.groupby("workers")["seconds"].median().idxmin())


def _queue_over_serial(m: Measurements, method: str, book: str) -> Evidence:
    w = _best_workers(m, "primes_queue", method)
    value, low, high = m.ratio(m.times("primes_queue", method, w), m.times("primes_queue", "serial"))
    return Evidence(above(1.0, value, low, high),
                    f"time of the queue at its best worker count ({w}) over the serial loop (above 1×?)",
                    value, low, high, book)


def _book_queue_over_serial() -> str:
    book = load_book()
    queue = book[(book["experiment"] == "primes_queue")]
    parts = []
    for edition, rows in queue.groupby("source"):
        serial = float(rows.loc[rows["method"] == "serial", "seconds"].iloc[0])
        manager = rows[rows["method"] == "manager_queue"]
        fastest = manager.loc[manager["seconds"].idxmin()]
        parts.append(f"{fastest['seconds'] / serial:.1f}× ({edition}, {_workers(int(fastest['workers']))})")
    return "; ".join(parts)


def manager_queue_is_slower_than_serial(m: Measurements) -> Evidence:
    return _queue_over_serial(m, "manager_queue", _book_queue_over_serial())


def plain_queue_is_slower_than_serial(m: Measurements) -> Evidence:
    return _queue_over_serial(m, "queue", "not timed in the book (its queues are Manager().Queue)")


def batched_queue_beats_serial(m: Measurements) -> Evidence:
    several = [w for w in m.workers("primes_queue", "queue_batched") if w >= 2]
    if not several:
        raise MissingPoint("primes_queue.queue_batched was not measured with two or more workers")
    w = max(m.workers_near("primes_queue", "queue_batched", m.cores), several[0])
    value, low, high = m.ratio(m.times("primes_queue", "queue_batched", w), m.times("primes_queue", "serial"))
    return Evidence(below(1.0, value, low, high),
                    f"time of a queue of batches with {w} workers over the serial loop (below 1×: the queue pays off?)",
                    value, low, high, "not timed in the book")


def _queue_workers(m: Measurements, method: str) -> tuple[int, int]:
    """The fewest and the most workers a queue method was measured with (two counts at least)."""
    counts = m.workers("primes_queue", method)
    if len(counts) < 2:
        raise MissingPoint(f"primes_queue.{method} was measured at one worker count only")
    return counts[0], counts[-1]


def queue_cost_rises_with_workers(m: Measurements) -> Evidence:
    few, many = _queue_workers(m, "manager_queue")
    value, low, high = m.ratio(m.times("primes_queue", "manager_queue", many), m.times("primes_queue", "manager_queue", few))
    book = load_book()
    manager = book[(book["experiment"] == "primes_queue") & (book["method"] == "manager_queue")]
    parts = []
    for edition, rows in manager.groupby("source"):
        at = rows.set_index("workers")["seconds"].sort_index()
        parts.append(f"{at.iloc[-1] / at.iloc[0]:.2f}× ({edition}, {at.index[-1]} over {at.index[0]} workers)")
    return Evidence(above(1.0, value, low, high),
                    f"time of the Manager().Queue with {many} workers over {few} (above 1×?)",
                    value, low, high, "; ".join(parts) or "no figure")


#: "Halves": sending the odd numbers only should take between these shares of the time of sending them all.
HALF = (0.4, 0.6)


def odd_numbers_halve_the_queue(m: Measurements) -> Evidence:
    w = max(set(m.workers("primes_queue", "manager_queue")) & set(m.workers("primes_queue", "manager_queue_odd")),
            default=None)
    if w is None:
        raise MissingPoint("primes_queue.manager_queue and manager_queue_odd share no worker count")
    value, low, high = m.ratio(m.times("primes_queue", "manager_queue_odd", w), m.times("primes_queue", "manager_queue", w))
    book = load_book()
    book = book[book["experiment"] == "primes_queue"]
    parts = []
    for edition, rows in book.groupby("source"):
        both = rows[rows["method"].isin(["manager_queue", "manager_queue_odd"])].pivot_table(
            index="workers", columns="method", values="seconds")
        if "manager_queue_odd" in both:  # the 1st edition's only
            both = both.dropna()
            at = both.iloc[-1]
            parts.append(f"{at['manager_queue_odd'] / at['manager_queue']:.2f}× ({edition}, {both.index[-1]} workers)")
    return Evidence(within(*HALF, value, low, high),
                    f"time of the Manager().Queue sent odd numbers only over sent every number, {w} workers "
                    f"({HALF[0]}–{HALF[1]}×?)",
                    value, low, high, "; ".join(parts) or "no figure")


def _tooth(m: Measurements, multiple: int) -> Evidence:
    """``multiple`` × workers chunks against one chunk more: an even split is faster (a tooth of the sawtooth)."""
    w = _sweep_workers(m, "primes_chunks", "ordered")
    if w < 2:
        raise MissingPoint("primes_chunks was not measured with two or more workers")
    even = multiple * w
    value, low, high = m.ratio(m.times("primes_chunks", "ordered", w, chunks=even),
                               m.times("primes_chunks", "ordered", w, chunks=even + 1))
    book = _book_chunk("primes_chunks")
    parts = []
    for edition in CHUNK_EDITIONS:
        rows = book[book["source"] == edition]
        if rows.empty:
            continue
        bw = int(rows["workers"].iloc[0])
        at = rows.set_index("chunks")["seconds"]
        if multiple * bw + 1 in at.index:
            parts.append(f"{at[multiple * bw] / at[multiple * bw + 1]:.2f}× ({edition}, {multiple * bw} vs"
                         f" {multiple * bw + 1} chunks)")
    prediction = f"; an even split predicts {(w + 1) / (2 * w):.2f}×" if multiple == 1 else ""
    return Evidence(below(1.0, value, low, high),
                    f"time with {even} chunks over {even + 1} chunks, {w} workers, numbers in order"
                    f" (below 1×?{prediction})", value, low, high, "; ".join(parts) or "no figure")


def chunk_minima_at_worker_multiples(m: Measurements) -> Evidence:
    return _tooth(m, 1)


def sawtooth_repeats(m: Measurements) -> Evidence:
    """The second tooth: twice as many chunks as workers against one chunk more."""
    return _tooth(m, 2)


def prime_tests_cost_grows_as_the_square_root(m: Measurements) -> Evidence:
    """The power of n that the time per prime test grows with, between the smallest and largest magnitudes."""
    rows = m.rows("primes_cost", "primes", 1)
    if rows.empty or rows["first"].nunique() < 2:
        raise MissingPoint("primes_cost.primes was not measured at two magnitudes")
    small, large = int(rows["first"].min()), int(rows["first"].max())
    # same number of checks at both magnitudes, paired by round: the ratio of times is the ratio per check
    ratio = m.ratio(m.times("primes_cost", "primes", 1, first=large), m.times("primes_cost", "primes", 1, first=small))
    value, low, high = (math.log(x) / math.log(large / small) for x in ratio)
    return Evidence(within(SQUARE_ROOT - POWER_TOLERANCE, SQUARE_ROOT + POWER_TOLERANCE, value, low, high),
                    f"power of n in the time per prime test, from {small:.0e} to {large:.0e} "
                    f"({SQUARE_ROOT - POWER_TOLERANCE:g}–{SQUARE_ROOT + POWER_TOLERANCE:g}: √n?)",
                    value, low, high, "a graph of time against n (no figure to compare)")


CLAIMS = (
    Claim("chunksize-one-slowest", "primes_chunksize", "primes_chunksize",
          "Handing Pool.map one number per task is the slowest choice: the fixed cost of each task outweighs the work in it.",
          chunk_of_one_is_slowest),
    Claim("large-chunks-unbalanced", "primes_chunksize", "primes_chunksize",
          "A very large chunk size is slower again: too few chunks leave some workers idle while others finish.",
          large_chunks_lose_balance),
    Claim("default-chunksize-near-best", "primes_chunksize", "primes_chunksize",
          "Pool.map's own default chunk size (about four chunks per worker) is close to the best one.",
          default_chunksize_is_near_best),
    Claim("manager-queue-slower-than-serial", "primes_queue", "primes_queue",
          "A Manager().Queue of single numbers is slower than the serial loop, whatever the number of workers.",
          manager_queue_is_slower_than_serial),
    Claim("queue-slower-than-serial", "primes_queue", "primes_queue",
          "A multiprocessing.Queue of single numbers is slower than the serial loop too: each item costs more to send than to test.",
          plain_queue_is_slower_than_serial),
    Claim("batched-queue-pays-off", "primes_queue", "primes_queue",
          "Putting batches of numbers on the queue instead of single numbers makes it faster than the serial loop.",
          batched_queue_beats_serial),
    Claim("queue-cost-rises-with-workers", "primes_queue", "primes_queue",
          "A Manager().Queue of single numbers gets slower, not faster, with more workers: they queue up at the manager.",
          queue_cost_rises_with_workers),
    Claim("odd-numbers-halve-the-queue", "primes_queue", "primes_queue",
          "Sending only the odd numbers through the Manager().Queue halves its time: the queue's cost is per item.",
          odd_numbers_halve_the_queue),
    Claim("sawtooth-repeats", "primes_chunks", "primes_chunks",
          "The sawtooth repeats: twice as many chunks as workers also beats one chunk more.",
          sawtooth_repeats),
    Claim("prime-test-cost-grows", "primes_cost", "primes_cost",
          "Testing a prime by trial division costs more as the prime grows, as √n: chunks of larger numbers take longer.",
          prime_tests_cost_grows_as_the_square_root),
    Claim("chunk-minima-at-worker-multiples", "primes_chunks", "primes_chunks",
          "Cutting the work into as many chunks as workers beats one chunk more, which leaves a last round that only some workers run.",
          chunk_minima_at_worker_multiples),
)
