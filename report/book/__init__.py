"""The book's published numbers, set beside ours: one module per experiment family that the book
measured, named after it in experiments/registry.py, which finds it.

Each family module copies what it needs from the book into
``report/reference/book_<family>.json`` (with the source named) and offers
``compare(summary) -> DataFrame``: a long table with one row per (source,
experiment, method, ...) holding at least ``source``, ``experiment``,
``method``, ``seconds`` and the figures that transfer across machines (speedups,
ratios). :func:`compare_with_book` stacks them into ``book_comparison.csv``.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from experiments.registry import family_modules
from report.book.common import OURS, REFERENCE_DIR

FAMILIES = family_modules(__name__)

__all__ = ["OURS", "REFERENCE_DIR", "book_metadata", "compare_with_book"]


def compare_with_book(summary: pd.DataFrame) -> pd.DataFrame:
    """Every family's comparison, stacked (columns a family does not use stay empty)."""
    tables = [family.compare(summary) for family in FAMILIES]
    tables = [table for table in tables if not table.empty]
    if not tables:
        return pd.DataFrame(columns=["source", "experiment", "method", "seconds"])
    return pd.concat(tables, ignore_index=True)


def book_metadata() -> dict[str, Any]:
    """Where the book's numbers come from and on what hardware they were measured."""
    return json.loads((REFERENCE_DIR / "book_editions.json").read_text())
