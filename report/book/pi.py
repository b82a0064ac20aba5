"""The book's π timings beside ours.

Absolute seconds depend on the machine and the sample count, so the comparison
also carries the figures that transfer across machines: seconds scaled to 10^8
darts, and speedup over the same source's serial time.
"""

from __future__ import annotations

import pandas as pd

from experiments.registry import EXPERIMENTS
from report.book.common import OURS, load_reference

#: The book's methods, named as ours.
BOOK_METHODS = ("serial", "threads", "processes")

#: Where our method of the book's name measures something else, the method that measures what the
#: book's did, and the serial method its speedup is over: the book's numpy threads shared numpy's
#: global generator (our ``threads_global``), ours of that name a generator each.
BOOK_VARIANTS = {("pi_numpy", "threads"): ("threads_global", "serial_global")}


def book_variants(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each of :data:`BOOK_VARIANTS` standing in for our method of the book's name,
    its speedup over its own serial method (where the run measured the variant)."""
    for (experiment, method), (variant, serial) in BOOK_VARIANTS.items():
        rows = summary[(summary["experiment"] == experiment) & (summary["method"] == variant)]
        if rows.empty:
            continue
        base = summary.loc[(summary["experiment"] == experiment) & (summary["method"] == serial), "median_seconds"]
        rows = rows.assign(method=method,
                           speedup=float(base.iloc[0]) / rows["median_seconds"] if not base.empty else float("nan"))
        replaced = (summary["experiment"] == experiment) & (summary["method"].isin([method, variant]))
        summary = pd.concat([summary[~replaced], rows], ignore_index=True)
    return summary


def load_book() -> pd.DataFrame:
    """The book's π timings as rows (source, experiment, method, workers, seconds, samples)."""
    data = load_reference("pi")
    rows = []
    for experiment in ("pi_python", "pi_numpy"):
        for edition, table in data[experiment].items():
            common = {"source": edition, "experiment": experiment, "samples": table["samples"]}
            rows.append({**common, "method": "serial", "workers": 1, "seconds": table["serial"]})
            for method in ("threads", "processes"):
                for workers, seconds in zip(table["workers"], table[method], strict=True):
                    rows.append({**common, "method": method, "workers": workers, "seconds": seconds})
    return pd.DataFrame(rows)


def compare(summary: pd.DataFrame, book: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our medians and the book's numbers in one table.

    Columns: source, experiment, method, workers, seconds, samples,
    seconds_per_1e8 (seconds scaled linearly to 10^8 darts), speedup (over the
    same source's serial time; ours over the experiment's baseline, which is
    listed too).
    """
    book = load_book() if book is None else book
    summary = book_variants(summary)
    # our speedups are over each experiment's baseline, so it is shown even where the book has no such method
    baselines = summary["experiment"].map(lambda name: EXPERIMENTS[name].baseline)
    shown = summary["method"].isin(BOOK_METHODS) | (summary["method"] == baselines)
    ours = summary[summary["experiment"].isin(set(book["experiment"])) & shown]
    if ours.empty:
        return ours.iloc[0:0]
    ours = pd.DataFrame({
        "source": OURS,
        "experiment": ours["experiment"],
        "method": ours["method"],
        "workers": ours["workers"],
        "seconds": ours["median_seconds"],
        "samples": ours["samples"],
        "speedup": ours["speedup"],
    })
    theirs = book[book["experiment"].isin(set(ours["experiment"]))].copy()
    serial = theirs[theirs["method"] == "serial"].set_index(["source", "experiment"])["seconds"]
    theirs["speedup"] = [serial[(s, e)] / t for s, e, t in zip(theirs["source"], theirs["experiment"], theirs["seconds"])]
    table = pd.concat([ours, theirs], ignore_index=True)
    table["seconds_per_1e8"] = table["seconds"] * 1e8 / table["samples"]
    return table[["source", "experiment", "method", "workers", "seconds", "samples", "seconds_per_1e8", "speedup"]]
