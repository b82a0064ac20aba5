"""Names shared by the book comparison modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

#: Label of our own rows in every comparison.
OURS = "this machine"


def our_seconds(ours, book_took_minima: bool):
    """Our time beside the book's: the fastest trial where the book published the fastest of its repeats, else the median."""
    return ours["min_seconds" if book_took_minima else "median_seconds"]


def load_reference(family: str) -> dict[str, Any]:
    """The book's numbers a family copied into ``report/reference/book_<family>.json``."""
    return json.loads((REFERENCE_DIR / f"book_{family}.json").read_text())
