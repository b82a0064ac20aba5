"""Raw trials and provenance → the tidy table and the run record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from report.load import EXTRA_COLUMNS, TIDY_COLUMNS, read_run, read_trials


def write_job(folder, experiment, machine_id, rows):
    trials = folder / f"{experiment}.csv"
    pd.DataFrame(rows).to_csv(trials, index=False)
    provenance = folder / f"{experiment}.json"
    provenance.write_text(json.dumps({"experiment": experiment, "machine_id": machine_id, "machine": {"cpu": "x"},
                                      "start_method": "fork"}))
    return trials, provenance


ROW = {"experiment": "pi_python", "method": "serial", "workers": 1, "samples": 1000, "round": 0, "warmup": False,
       "repeat": 0, "order": 0, "seconds": 1.0, "cpu_seconds": 1.0, "peak_pss_bytes": 1, "peak_uss_bytes": 1, "peak_worker_uss_bytes": 1,
       "memory_samples": 1, "result": 3.1, "correct": True, "error": None, "started_at": 0.0, "ended_at": 1.0}


def test_trials_get_machine_and_start_method_and_documented_column_order(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW])
    tidy = read_trials([trials], [provenance])
    assert list(tidy.columns) == [c for c in TIDY_COLUMNS] + ["samples"]
    assert tidy.loc[0, "machine_id"] == "m-1" and tidy.loc[0, "start_method"] == "fork"
    assert tidy.loc[0, "error"] == ""
    assert "samples" in EXTRA_COLUMNS


def test_an_undocumented_column_is_refused(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [{**ROW, "mystery": 1}])
    with pytest.raises(ValueError, match="mystery"):
        read_trials([trials], [provenance])


def test_one_run_never_mixes_machines(tmp_path):
    _, first = write_job(tmp_path, "pi_python", "node-a", [ROW])
    _, second = write_job(tmp_path, "pi_numpy", "node-b", [ROW])
    with pytest.raises(ValueError, match="run once per node type"):
        read_run([first, second])
    assert read_run([first])["machine_id"] == "node-a"
