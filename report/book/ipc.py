"""The book's prime-verification timings beside ours.

Our numbers need not be the book's, so rows are matched by the *role* a number
plays in the set: a non-prime with a small factor, a non-prime with two large
factors (the first is the one with the smaller factor), or a prime (the first
is the smaller one). Absolute seconds depend on the machine and on the size of
the numbers; the ratio of each method's time to the same source's serial time
for the same role carries across.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from experiments.ipc import SERIAL_CUTOFF
from report.book.common import OURS, load_reference, our_seconds

#: The roles, in the order the book lists its numbers.
ROLE_ORDER = ("small factor", "large factors 1", "large factors 2", "prime 1", "prime 2")


def number_roles(numbers: Iterable[tuple[int, bool, float | None]]) -> dict[int, str]:
    """Each number's role, from (number, is prime, factor found) triples."""
    kinds: dict[str, list[tuple[float, int]]] = {}
    for number, prime, factor in numbers:
        kind = "prime" if prime else ("small factor" if factor < SERIAL_CUTOFF else "large factors")
        kinds.setdefault(kind, []).append((number if prime else factor, number))
    roles = {}
    for kind, members in kinds.items():
        for rank, (_, number) in enumerate(sorted(members), start=1):
            roles[number] = kind if kind == "small factor" and len(members) == 1 else f"{kind} {rank}"
    return roles


def in_role_order(roles: dict[int, str]) -> list[int]:
    """The numbers of ``roles`` in the book's order of roles (unknown roles last)."""
    rank = {role: index for index, role in enumerate(ROLE_ORDER)}
    return sorted(roles, key=lambda number: (rank.get(roles[number], len(rank)), roles[number]))


def roles_of(summary: pd.DataFrame) -> dict[int, str]:
    """The roles of the numbers of the ``ipc_flags`` rows of a summary."""
    verdicts = summary.dropna(subset=["median_result"]).groupby("number", sort=False)
    return number_roles(
        (int(n), bool(rows["median_result"].iloc[0] == 1), rows["median_factor"].median())
        for n, rows in verdicts
    )


def load_book() -> pd.DataFrame:
    """The book's timings as rows (source, experiment, method, role, number, workers, seconds)."""
    data = load_reference("ipc")
    rows = []
    for source, methods in data["seconds"].items():
        for method, times in methods.items():
            for role, number, seconds in zip(ROLE_ORDER, data["numbers"], times, strict=True):
                rows.append({"source": source, "experiment": "ipc_flags",
                             "method": data["method_names"].get(method, method), "role": role,
                             "number": int(number), "workers": data["processes"][source], "seconds": seconds})
    return pd.DataFrame(rows)


def compare(summary: pd.DataFrame, book: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our ``ipc_flags`` fastest trials and the book's (the fastest of its repeats) in one table.

    Columns: source, experiment, method, role, number, workers, seconds,
    ratio_to_serial (time over the same source's serial time for the same role).
    """
    ours = summary[summary["experiment"] == "ipc_flags"]
    if ours.empty:
        return ours.iloc[0:0]
    roles = roles_of(ours)
    ours = pd.DataFrame({
        "source": OURS,
        "experiment": "ipc_flags",
        "method": ours["method"],
        "role": [roles.get(int(n)) for n in ours["number"]],
        "number": ours["number"],
        "workers": ours["workers"],
        "seconds": our_seconds(ours, book_took_minima=True),
    }).dropna(subset=["role"])  # a number whose every trial failed has no role
    table = pd.concat([ours, load_book() if book is None else book], ignore_index=True)
    serial = table[table["method"] == "serial"].set_index(["source", "role"])["seconds"]
    table["ratio_to_serial"] = [
        seconds / serial.get((source, role), float("nan"))
        for source, role, seconds in zip(table["source"], table["role"], table["seconds"])
    ]
    table["number"] = table["number"].astype("Int64")
    return table
