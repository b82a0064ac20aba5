"""The chapter's conclusions about sharing a numpy array between processes, as tests on our data.

Memory is judged at the largest array a run measured: there the interpreters
(each process with numpy loaded) weigh least beside the array, which is what the
book's 6.4 GB array shows. Every memory figure is in arrays: a peak in bytes
over the array's size.
"""

from __future__ import annotations

import pandas as pd

from report.book.sharing import load_book
from report.claims.common import Claim, Evidence, Measurements, MissingPoint, above, below

#: The edition whose random-fill numbers stand beside ours (4 processes, as in the π claims).
EDITION = "ed2"

#: The methods of numpy_sharing that share one array (the other, ``copied``, pickles one per worker).
SHARED = ("array", "rawarray", "shared_memory")


def _point(m: Measurements, experiment: str, method: str, workers: int) -> pd.DataFrame:
    """Timed, correct trials of a point, at every array size."""
    rows = m.rows(experiment, method, workers)
    if rows.empty:
        raise MissingPoint(f"no timed trial of {experiment}.{method} at {workers} workers")
    return rows


def _largest_array(m: Measurements, experiment: str, method: str, workers: int) -> pd.DataFrame:
    """Timed, correct trials of a point at the largest array (rows × columns) it was measured with."""
    rows = _point(m, experiment, method, workers)
    cells = rows["rows"].astype(float) * rows["columns"].astype(float)
    return rows[cells == cells.max()]


def _most_workers(m: Measurements, experiment: str, method: str) -> int:
    """The largest worker count of a method, which must share the array among at least two workers."""
    workers = m.workers(experiment, method)[-1]
    if workers < 2:
        raise MissingPoint(f"{experiment}.{method} was not measured with two or more workers")
    return workers


def _in_arrays(m: Measurements, column: str, method: str, workers: int) -> tuple[float, float, float, int]:
    """A sampled memory peak over the array's size at the largest array: median ratio, interval, array bytes."""
    rows = _largest_array(m, "numpy_sharing", method, workers)
    rows = rows[rows[column].notna() & rows["array_bytes"].notna()]
    if rows.empty:
        raise MissingPoint(f"memory was not sampled for numpy_sharing.{method} (memory_interval is null)")
    size = rows["array_bytes"].to_numpy(dtype=float)
    return (*m.ratio(rows[column].to_numpy(dtype=float), size), int(size[0]))


def _mib(nbytes: int) -> str:
    """Bytes in MiB, the unit the report's tables use for the same arrays."""
    return f"{nbytes / 2**20:,.0f} MiB"


def _worst_shared(m: Measurements, column: str) -> tuple[str, int, tuple[float, float, float, int]]:
    """The shared method with the largest median peak (in arrays) at its most workers."""
    measured = []
    for method in SHARED:
        try:
            workers = _most_workers(m, "numpy_sharing", method)
            measured.append((method, workers, _in_arrays(m, column, method, workers)))
        except MissingPoint:
            continue
    if not measured:
        raise MissingPoint("no method sharing the array was measured with two or more workers and memory sampling")
    return max(measured, key=lambda item: item[2][0])


def shared_array_is_one_array(m: Measurements) -> Evidence:
    method, w, (value, low, high, size) = _worst_shared(m, "peak_pss_bytes")
    return Evidence(below(2.0, value, low, high),
                    f"peak total PSS of parent and {w} workers over the array's size, {_mib(size)} array, "
                    f"{method} (the largest of the sharing methods; below 2 arrays? a copy per worker would be {w + 1})",
                    value, low, high, "one array, whatever the workers (described, no figure)")


def shared_workers_hold_no_copy(m: Measurements) -> Evidence:
    method, w, (value, low, high, size) = _worst_shared(m, "peak_worker_uss_bytes")
    return Evidence(below(0.25, value, low, high),
                    f"peak USS of the largest of {w} workers over the array's size, {_mib(size)} array, "
                    f"{method} (the largest of the sharing methods; below a quarter of an array?)",
                    value, low, high, "no copy in any worker (described, no figure)")


def copied_array_per_worker(m: Measurements) -> Evidence:
    w = _most_workers(m, "numpy_sharing", "copied")
    value, low, high, size = _in_arrays(m, "peak_worker_uss_bytes", "copied", w)
    return Evidence(above(0.75, value, low, high),
                    f"peak USS of the largest of {w} workers over the array's size, {_mib(size)} array, pickled copy "
                    "per worker (above three quarters of an array?)",
                    value, low, high, "a copy of the array in every worker (described, no figure)")


def parallel_fill_is_faster(m: Measurements) -> Evidence:
    several = [w for w in m.workers("random_fill", "processes") if w >= 2]
    if not several:
        raise MissingPoint("random_fill.processes was not measured with two or more workers")
    w = max(m.workers_near("random_fill", "processes", m.cores), several[0])
    parallel = _largest_array(m, "random_fill", "processes", w)
    serial = _point(m, "random_fill", "serial", 1)
    shape = (int(parallel["rows"].iloc[0]), int(parallel["columns"].iloc[0]))
    serial = serial[(serial["rows"] == shape[0]) & (serial["columns"] == shape[1])]
    if serial.empty:
        raise MissingPoint(f"random_fill.serial was not measured on the {shape[0]:,} × {shape[1]:,} array")
    # the fill alone, as the book timed it: making, marking, checking and unlinking the
    # segment are the same work in both methods and would dilute the ratio
    if "fill_seconds" not in parallel or parallel["fill_seconds"].isna().all() or serial["fill_seconds"].isna().all():
        raise MissingPoint("random_fill recorded no fill_seconds (a run from before the fill was timed alone)")
    value, low, high = m.ratio(serial["fill_seconds"].dropna().to_numpy(dtype=float),
                               parallel["fill_seconds"].dropna().to_numpy(dtype=float))
    book = load_book()
    book = book[(book["source"] == EDITION) & (book["method"] == "processes")].iloc[0]
    return Evidence(above(1.2, value, low, high),
                    f"speedup of the fill alone, {w} processes over one, on a {shape[0]:,} × {shape[1]:,} array "
                    "(above 1.2×?)",
                    value, low, high, f"{book['speedup']:.2f}× with {book['workers']} processes ({EDITION}, "
                    f"{book['rows'] * book['columns'] * 8 / 1e9:.1f} GB)")


CLAIMS = (
    Claim("shared-array-one-copy", "numpy_sharing", "sharing_memory",
          "Workers that share a numpy array add no copies of it: the whole process tree holds about one array, however many workers write to it.",
          shared_array_is_one_array),
    Claim("shared-workers-no-copy", "numpy_sharing", "sharing_memory",
          "A worker writing into a shared array holds almost none of it as its own memory.",
          shared_workers_hold_no_copy),
    Claim("copy-per-worker", "numpy_sharing", "sharing_memory",
          "Passing the array to workers as an argument costs a whole array in every worker, since each gets its own pickled copy.",
          copied_array_per_worker),
    Claim("parallel-fill-faster", "random_fill", "random_fill",
          "Workers filling their own rows of a shared array with random numbers finish faster than one process filling it all.",
          parallel_fill_is_faster),
)
