"""The book's prime-finding timings beside ours: chunk sizes, numbers of chunks, queues.

Machines and ranges differ, so besides the seconds the comparison carries one
ratio per row that transfers across machines (``relative``): for the chunk
experiments, time over the same source's fastest time for that method; for the
queues, time over the same source's serial loop.
"""

from __future__ import annotations

import pandas as pd

from report.book.common import OURS, load_reference, our_seconds

#: The book's table names (after the edition) for our methods.
CHUNK_TABLES = {
    "primes_chunksize": {"ordered": "primes_pool_plot_chunksize_type1",
                         "shuffled": "primes_pool_plot_chunksize_shuffled_type1"},
    "primes_chunks": {"ordered": "primes_pool_plot_chunksizetimes_by_nbrchunks",
                      "shuffled": "primes_pool_plot_chunksizetimes_by_nbrchunks_shuffled"},
}

#: The book's queue series, named as our methods (its queues are Manager().Queue).
QUEUE_SERIES = {"queue": "manager_queue", "queue_less_work_odd_only": "manager_queue_odd"}

#: The book's second chunk-size sweep (the powers of two from 1 to 64, numbers in order, the same
#: machine and numbers): its sizes that the first sweep lacks join our ``ordered`` rows.
SECOND_SWEEP = "primes_pool_plot_chunksize_type2"

COLUMNS = ["source", "experiment", "method", "workers", "chunksize", "chunks", "chunksize_used", "count",
           "seconds", "relative"]


def _chunk_rows(data: dict, counts: dict) -> list[dict]:
    rows = []
    for experiment, tables in CHUNK_TABLES.items():
        for key, table in data[experiment].items():
            edition, name = key.split("_", 1)
            method = next((m for m, n in tables.items() if n == name), None)
            if method is None:
                continue
            common = {"source": edition, "experiment": experiment, "method": method, "count": counts[experiment]}
            if experiment == "primes_chunksize":
                # Pool.map's default is count / (4 × workers): it tells the worker count
                workers = round(counts[experiment] / (4 * table["default_chunksize"]))
                rows += [{**common, "workers": workers, "chunksize": size, "chunksize_used": size, "seconds": s}
                         for size, s in zip(table["chunksizes"], table["seconds"], strict=True)]
                rows.append({**common, "workers": workers, "chunksize": 0,
                             "chunksize_used": table["default_chunksize"], "seconds": table["default_seconds"]})
            else:
                rows += [{**common, "workers": table["nbr_processes"], "chunks": chunks, "seconds": s}
                         for chunks, s in zip(table["nbr_chunks"], table["seconds"], strict=True)]
    return rows + _second_sweep_rows(data, counts, rows)


def _second_sweep_rows(data: dict, counts: dict, first: list[dict]) -> list[dict]:
    """The chunk sizes of the book's second sweep that its first did not measure, as ``ordered`` rows."""
    rows = []
    for key, table in data["primes_chunksize"].items():
        edition, name = key.split("_", 1)
        if name != SECOND_SWEEP:
            continue
        measured = {row["chunksize"] for row in first if row["source"] == edition and row["method"] == "ordered"
                    and row["experiment"] == "primes_chunksize"}
        workers = round(counts["primes_chunksize"] / (4 * table["default_chunksize"]))
        rows += [{"source": edition, "experiment": "primes_chunksize", "method": "ordered",
                  "count": counts["primes_chunksize"], "workers": workers, "chunksize": size, "chunksize_used": size,
                  "seconds": seconds}
                 for size, seconds in zip(table["chunksizes"], table["seconds"]) if size not in measured]
    return rows


def _queue_rows(data: dict, counts: dict) -> list[dict]:
    rows = []
    for edition, table in data["primes_queue"].items():
        common = {"source": edition, "experiment": "primes_queue", "count": counts["primes_queue"]}
        rows.append({**common, "method": "serial", "workers": 1, "seconds": table["no_queue_serial"]})
        for series, method in QUEUE_SERIES.items():
            rows += [{**common, "method": method, "workers": w, "seconds": s}
                     for w, s in zip(table["procs"], table.get(series, []))]
    return rows


def load_book() -> pd.DataFrame:
    """The book's numbers as rows with the columns of :data:`COLUMNS` (``relative`` empty)."""
    data = load_reference("primes")
    rows = _chunk_rows(data, data["counts"]) + _queue_rows(data, data["counts"])
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def add_relative(table: pd.DataFrame) -> pd.DataFrame:
    """``relative``: time over the source's fastest (chunk experiments) or serial time (queues)."""
    table = table.copy()
    queue = table["experiment"] == "primes_queue"
    serial = table[queue & (table["method"] == "serial")].set_index("source")["seconds"]
    table.loc[queue, "relative"] = table.loc[queue, "seconds"] / table.loc[queue, "source"].map(serial)
    fastest = table[~queue].groupby(["source", "experiment", "method", "workers"])["seconds"].transform("min")
    table.loc[~queue, "relative"] = table.loc[~queue, "seconds"] / fastest
    return table


def compare(summary: pd.DataFrame, book: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our times and the book's numbers in one long table (columns :data:`COLUMNS`); see :func:`our_seconds`."""
    book = load_book() if book is None else book
    ours = summary[summary["experiment"].isin(set(book["experiment"]))
                   & summary["method"].isin(set(book["method"]))]
    if ours.empty:
        return pd.DataFrame(columns=COLUMNS)
    ours = ours.reindex(columns=[*COLUMNS, "median_seconds", "min_seconds", "median_chunksize_used"])
    # the book's chunk sweeps are the fastest of its repeats, its queue timings single runs
    seconds = our_seconds(ours, book_took_minima=True).where(ours["experiment"].isin(set(CHUNK_TABLES)),
                                                             our_seconds(ours, book_took_minima=False))
    ours["source"], ours["seconds"], ours["chunksize_used"] = OURS, seconds, ours["median_chunksize_used"]
    theirs = book[book["experiment"].isin(set(ours["experiment"]))]
    table = pd.concat([ours[COLUMNS], theirs], ignore_index=True)
    table = add_relative(table)[COLUMNS]
    return table.astype({c: "Int64" for c in ("workers", "chunksize", "chunks", "chunksize_used", "count")})
