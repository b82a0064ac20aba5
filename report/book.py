"""The book's published timings, as a tidy table, set beside ours.

Absolute seconds depend on the machine and the sample count, so the comparison
also carries the figures that transfer across machines: seconds scaled to 10^8
darts, and speedup over the same source's serial time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

BOOK_TIMINGS = Path(__file__).resolve().parent / "reference" / "book_timings.json"

#: Label of our own rows in the comparison.
OURS = "this machine"

#: The book's methods, named as ours.
BOOK_METHODS = ("serial", "threads", "processes")


def load_book(path: Path = BOOK_TIMINGS) -> tuple[pd.DataFrame, dict]:
    """The book's π timings as rows (source, experiment, method, workers, seconds, samples), and its metadata."""
    data = json.loads(Path(path).read_text())
    rows = []
    for experiment in ("pi_python", "pi_numpy"):
        for edition, table in data[experiment].items():
            common = {"source": edition, "experiment": experiment, "samples": table["samples"]}
            rows.append({**common, "method": "serial", "workers": 1, "seconds": table["serial"]})
            for method in ("threads", "processes"):
                for workers, seconds in zip(table["workers"], table[method], strict=True):
                    rows.append({**common, "method": method, "workers": workers, "seconds": seconds})
    meta = {key: data[key] for key in ("source", "repositories", "hardware", "physical_cores")}
    return pd.DataFrame(rows), meta


def compare_with_book(summary: pd.DataFrame, book: pd.DataFrame) -> pd.DataFrame:
    """Our medians and the book's numbers in one table.

    Columns: source, experiment, method, workers, seconds, samples,
    seconds_per_1e8 (seconds scaled linearly to 10^8 darts), speedup (over the
    same source's serial time; ours over the experiment's baseline).
    """
    experiments = set(book["experiment"])
    ours = summary[summary["experiment"].isin(experiments) & summary["method"].isin(BOOK_METHODS)]
    ours = pd.DataFrame({
        "source": OURS,
        "experiment": ours["experiment"],
        "method": ours["method"],
        "workers": ours["workers"],
        "seconds": ours["median_seconds"],
        "samples": ours["samples"],
        "speedup": ours["speedup"],
    })
    theirs = book.copy()
    serial = theirs[theirs["method"] == "serial"].set_index(["source", "experiment"])["seconds"]
    theirs["speedup"] = [serial[(s, e)] / t for s, e, t in zip(theirs["source"], theirs["experiment"], theirs["seconds"])]
    table = pd.concat([ours, theirs], ignore_index=True)
    table["seconds_per_1e8"] = table["seconds"] * 1e8 / table["samples"]
    return table[["source", "experiment", "method", "workers", "seconds", "samples", "seconds_per_1e8", "speedup"]]
