"""The book's numbers: copied faithfully, and set beside ours on the same footing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import REPO
from report.book import OURS, book_metadata, compare_with_book
from report.book.pi import compare, load_book

SHARED = REPO.parent / "shared" / "reference" / "book_published_timings.json"
SECTIONS = {"pi_python": "pi_lists_seconds", "pi_numpy": "pi_numpy_seconds"}


def test_copied_numbers_match_the_shared_reference():
    shared = json.loads(SHARED.read_text())
    ours = json.loads((REPO / "report" / "reference" / "book_pi.json").read_text())
    for experiment, section in SECTIONS.items():
        assert ours[experiment] == shared[section]


def test_book_rows_cover_every_published_number():
    book, meta = load_book(), book_metadata()
    raw = json.loads((REPO / "report" / "reference" / "book_pi.json").read_text())
    for experiment in SECTIONS:
        for edition, table in raw[experiment].items():
            rows = book[(book["experiment"] == experiment) & (book["source"] == edition)]
            assert len(rows) == 1 + 2 * len(table["workers"])
            processes = rows[rows["method"] == "processes"].set_index("workers")["seconds"]
            assert list(processes) == table["processes"]
    assert set(meta["hardware"]) == {"ed1", "ed2", "ed3"}


def test_comparison_scales_to_1e8_darts_and_computes_speedup_per_source():
    summary = pd.DataFrame([
        {"experiment": "pi_python", "method": "serial", "workers": 1, "median_seconds": 2.0, "samples": 10**7, "speedup": 1.0},
        {"experiment": "pi_python", "method": "processes", "workers": 2, "median_seconds": 1.0, "samples": 10**7, "speedup": 2.0},
        {"experiment": "pi_python", "method": "joblib", "workers": 2, "median_seconds": 1.0, "samples": 10**7, "speedup": 2.0},
    ])
    table = compare_with_book(summary)
    assert table.equals(compare(summary))  # the π family is the only one with these experiments
    ours = table[table["source"] == OURS].set_index("method")
    assert "joblib" not in ours.index  # the book has no joblib numbers to set beside
    assert ours.loc["serial", "seconds_per_1e8"] == pytest.approx(20.0)
    ed2 = table[(table["source"] == "ed2") & (table["experiment"] == "pi_python")].set_index(["method", "workers"])
    raw = json.loads((REPO / "report" / "reference" / "book_pi.json").read_text())["pi_python"]["ed2"]
    four = raw["workers"].index(4)
    assert ed2.loc[("processes", 4), "speedup"] == pytest.approx(raw["serial"] / raw["processes"][four])
