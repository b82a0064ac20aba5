"""The book's numbers: copied faithfully, and set beside ours on the same footing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import REPO
from report.book import OURS, book_metadata, compare_with_book
from report.book.pi import compare, load_book
from report.book.primes import load_book as load_primes_book

#: The experiments whose published tables give one time per worker count.
SCALING = ("pi_python", "pi_numpy")


def test_the_copied_numbers_cite_the_book_and_every_table_is_whole():
    """The numbers were copied once, from the book's example repositories that ``source`` names."""
    ours = json.loads((REPO / "report" / "reference" / "book_pi.json").read_text())
    assert "High Performance Python" in ours["source"]
    assert all(ours[experiment] for experiment in ours["copied_from"])
    for experiment in SCALING:
        for edition, table in ours[experiment].items():
            for method in ("threads", "processes"):
                assert len(table[method]) == len(table["workers"]), (experiment, edition, method)


def test_book_rows_cover_every_published_number():
    book, meta = load_book(), book_metadata()
    raw = json.loads((REPO / "report" / "reference" / "book_pi.json").read_text())
    for experiment in SCALING:
        for edition, table in raw[experiment].items():
            rows = book[(book["experiment"] == experiment) & (book["source"] == edition)]
            assert len(rows) == 1 + 2 * len(table["workers"])
            processes = rows[rows["method"] == "processes"].set_index("workers")["seconds"]
            assert list(processes) == table["processes"]
    assert set(meta["hardware"]) == {"ed1", "ed2", "ed3"}


def test_the_books_numpy_threads_are_compared_with_ours_on_the_shared_generator():
    summary = pd.DataFrame([
        {"experiment": "pi_numpy", "method": method, "workers": workers, "median_seconds": seconds, "samples": 10**7,
         "speedup": speedup}
        for method, workers, seconds, speedup in (("serial_blocks", 1, 1.0, 1.0), ("threads", 2, 0.5, 2.0),
                                                  ("serial_global", 1, 1.2, 0.8), ("threads_global", 2, 1.0, 1.0))
    ])
    ours = compare(summary).query("source == @OURS").set_index(["method", "workers"])
    assert ours.loc[("threads", 2), "seconds"] == 1.0  # the shared-generator threads, under the book's name
    assert ours.loc[("threads", 2), "speedup"] == pytest.approx(1.2)  # over the same generator serially
    assert "threads_global" not in ours.index.get_level_values("method")


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


def test_the_books_second_chunk_sweep_fills_in_the_powers_of_two():
    book = load_primes_book()
    ordered = book[(book["experiment"] == "primes_chunksize") & (book["method"] == "ordered") & (book["source"] == "ed1")]
    sizes = list(ordered["chunksize"])
    assert len(sizes) == len(set(sizes))  # the sizes both sweeps measured come from the first only
    assert {16, 32, 64} <= set(sizes)
    assert ordered.set_index("chunksize").loc[64, "seconds"] == 0.6823


def test_beside_the_books_fastest_stop_flag_repeats_stands_our_fastest_trial():
    from report.book.ipc import compare as compare_ipc

    summary = pd.DataFrame([
        {"experiment": "ipc_flags", "method": method, "workers": workers, "number": 144000000000001,
         "median_result": 1, "median_factor": float("nan"), "median_seconds": median, "min_seconds": fastest}
        for method, workers, median, fastest in (("serial", 1, 2.0, 1.5), ("mmap", 2, 1.0, 0.5))
    ])
    ours = compare_ipc(summary).query("source == @OURS").set_index("method")
    assert ours.loc["mmap", "seconds"] == 0.5
    assert ours.loc["mmap", "ratio_to_serial"] == pytest.approx(0.5 / 1.5)
