"""Names shared by the book comparison modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

#: Label of our own rows in every comparison.
OURS = "this machine"


def load_reference(family: str) -> dict[str, Any]:
    """The book's numbers a family copied into ``report/reference/book_<family>.json``."""
    return json.loads((REFERENCE_DIR / f"book_{family}.json").read_text())
