"""The chapter's conclusions about handing out prime tests (chunk sizes, numbers of chunks, queues), as tests on our data.

The chunk experiments compare points of one method that differ by a parameter
(``chunksize``, ``chunks``), so this module picks trials by parameter as well
(:func:`_times`). "The best chunk size" is the measured point with the fastest
median; because it is the fastest of many noisy points, a ratio to it is a
little above 1 by selection alone, which is why the thresholds below keep a
margin above 1.
"""

from __future__ import annotations

import pandas as pd

from experiments.primes import chunk_count, pool_default_chunksize
from report.book.primes import load_book
from report.claims.common import Claim, Evidence, Measurements, MissingPoint, above, below

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
    w = _sweep_workers(m, "primes_chunksize", "ordered")
    sizes = [s for s in _medians(m, "primes_chunksize", "ordered", w, "chunksize").index if s > 0]
    count = int(m.rows("primes_chunksize", "ordered", w)["count"].iloc[0])
    default = pool_default_chunksize(count, w)
    largest = int(max(sizes))
    if largest <= default:
        raise MissingPoint(f"the largest chunk size measured ({largest:,}) is not above Pool.map's default ({default:,})")
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


def chunk_minima_at_worker_multiples(m: Measurements) -> Evidence:
    w = _sweep_workers(m, "primes_chunks", "ordered")
    if w < 2:
        raise MissingPoint("primes_chunks was not measured with two or more workers")
    value, low, high = m.ratio(m.times("primes_chunks", "ordered", w, chunks=w),
                               m.times("primes_chunks", "ordered", w, chunks=w + 1))
    book = _book_chunk("primes_chunks")
    parts = []
    for edition in CHUNK_EDITIONS:
        rows = book[book["source"] == edition]
        if rows.empty:
            continue
        bw = int(rows["workers"].iloc[0])
        at = rows.set_index("chunks")["seconds"]
        parts.append(f"{at[bw] / at[bw + 1]:.2f}× ({edition}, {bw} vs {bw + 1} chunks)")
    return Evidence(below(1.0, value, low, high),
                    f"time with {w} chunks over {w + 1} chunks, {w} workers, numbers in order "
                    f"(below 1×? an even split predicts {(w + 1) / (2 * w):.2f}×)",
                    value, low, high, "; ".join(parts))


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
    Claim("chunk-minima-at-worker-multiples", "primes_chunks", "primes_chunks",
          "Cutting the work into as many chunks as workers beats one chunk more, which leaves a last round that only some workers run.",
          chunk_minima_at_worker_multiples),
)
