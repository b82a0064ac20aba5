"""The book's random-fill timings beside ours.

The book published times for filling one large array with random numbers,
serially and by four processes sharing it. Absolute seconds depend on the
machine and the array, so the comparison also carries seconds per GB and the
speedup over the same source's serial time.
"""

from __future__ import annotations

import pandas as pd

from report.book.common import OURS, load_reference

COLUMNS = ["source", "experiment", "method", "workers", "rows", "columns", "seconds", "seconds_per_gb", "speedup"]

BYTES_PER_CELL = 8


def load_book() -> pd.DataFrame:
    """The book's random-fill times as rows (source, method, workers, rows, columns, seconds, speedup)."""
    rows = []
    for edition, points in load_reference("sharing")["random_fill"].items():
        for point in points:
            shape = {"source": edition, "experiment": "random_fill", "rows": point["rows"], "columns": point["columns"]}
            speedup = point["serial"] / point["processes"]
            rows.append({**shape, "method": "serial", "workers": 1, "seconds": point["serial"], "speedup": 1.0})
            rows.append({**shape, "method": "processes", "workers": point["workers"], "seconds": point["processes"],
                         "speedup": speedup})
    return pd.DataFrame(rows)


def compare(summary: pd.DataFrame, book: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our random-fill medians (every shape and worker count) and the book's, in one long table."""
    ours = summary[summary["experiment"] == "random_fill"]
    if ours.empty:
        return pd.DataFrame(columns=COLUMNS)
    ours = pd.DataFrame({
        "source": OURS, "experiment": "random_fill", "method": ours["method"], "workers": ours["workers"],
        "rows": ours["rows"], "columns": ours["columns"], "seconds": ours["median_seconds"], "speedup": ours["speedup"],
    })
    table = pd.concat([ours, load_book() if book is None else book], ignore_index=True)
    table["seconds_per_gb"] = table["seconds"] / (table["rows"] * table["columns"] * BYTES_PER_CELL / 1e9)
    return table[COLUMNS]
