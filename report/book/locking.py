"""The book's counter timings beside ours.

The book ran 4 processes × 1,000 increments, timing the start, the counting and
the join of the processes under fork. Beside the seconds, the comparison carries
what transfers across machines: each method's time relative to the same source's
unlocked time, and the updates lost.
"""

from __future__ import annotations

import pandas as pd

from report.book.common import OURS, load_reference

COLUMNS = ["source", "experiment", "method", "workers", "increments", "seconds", "ratio_to_no_lock", "lost_updates"]

EXPERIMENTS = ("file_counter", "value_counter")

#: Our names for the book's methods where the copied table names them otherwise: its locked ``Value``
#: (``ex2_lock.py``, copied as ``get_lock``) takes a separate ``Lock``, which is our ``value_lock``.
RENAMED = {"get_lock": "value_lock"}


def book_reference() -> dict:
    """The copied numbers (``report/reference/book_locking.json``) with the book's methods named as ours."""
    data = load_reference("locking")
    for experiment in EXPERIMENTS:
        data[experiment] = {edition: {RENAMED.get(method, method): numbers for method, numbers in methods.items()}
                            for edition, methods in data[experiment].items()}
    return data


def load_book() -> pd.DataFrame:
    """The book's counter times as rows (source, experiment, method, workers, increments, seconds, lost_updates)."""
    data = book_reference()
    expected = data["workers"] * data["increments"]
    rows = []
    for experiment in EXPERIMENTS:
        for edition, methods in data[experiment].items():
            for method, numbers in methods.items():
                final = numbers.get("final_count")
                rows.append({"source": edition, "experiment": experiment, "method": method, "workers": data["workers"],
                             "increments": data["increments"], "seconds": numbers["seconds"],
                             "lost_updates": None if final is None else expected - final})
    return pd.DataFrame(rows)


def compare(summary: pd.DataFrame, book: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our medians (whole trials, as the book timed them) and the book's numbers in one long table."""
    ours = summary[summary["experiment"].isin(EXPERIMENTS)]
    if ours.empty:
        return pd.DataFrame(columns=COLUMNS)
    ours = pd.DataFrame({
        "source": OURS, "experiment": ours["experiment"], "method": ours["method"], "workers": ours["workers"],
        "increments": ours["increments"], "seconds": ours["median_seconds"], "lost_updates": ours["median_lost_updates"],
    })
    table = pd.concat([ours, load_book() if book is None else book], ignore_index=True)
    unlocked = table[table["method"] == "no_lock"].set_index(["source", "experiment", "workers"])["seconds"]
    keys = zip(table["source"], table["experiment"], table["workers"])
    table["ratio_to_no_lock"] = [t / unlocked.get(key, float("nan")) for t, key in zip(table["seconds"], keys)]
    return table[COLUMNS]
