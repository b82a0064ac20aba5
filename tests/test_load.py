"""Raw trials and provenance → the tidy table and the run record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.harness import TRIAL_COLUMNS
from report.load import EXTRA_COLUMNS, TIDY_COLUMNS, primary, read_run, read_trials


def write_job(folder, experiment, machine_id, rows, interpreter="main", skipped=None):
    trials = folder / f"{experiment}@{interpreter}.csv"
    pd.DataFrame(rows, columns=list(TRIAL_COLUMNS) if not rows else None).to_csv(trials, index=False)
    provenance = folder / f"{experiment}@{interpreter}.json"
    provenance.write_text(json.dumps({"experiment": experiment, "machine_id": machine_id, "machine": {"cpu": "x"},
                                      "interpreter": {"name": interpreter, "version": "3.x"}, "skipped": skipped,
                                      "start_method": "fork"}))
    return trials, provenance


ROW = {"experiment": "pi_python", "start_method": "fork", "method": "serial", "workers": 1, "samples": 1000, "round": 0, "warmup": False,
       "repeat": 0, "order": 0, "seconds": 1.0, "cpu_seconds": 1.0, "peak_pss_bytes": 1, "peak_uss_bytes": 1, "peak_worker_uss_bytes": 1,
       "memory_samples": 1, "result": 3.1, "correct": True, "error": None, "started_at": 0.0, "ended_at": 1.0}


def test_trials_get_machine_interpreter_and_job_start_method_in_documented_column_order(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW])
    tidy = read_trials([trials], [provenance])
    assert list(tidy.columns) == [c for c in TIDY_COLUMNS] + ["samples"]
    assert tidy.loc[0, "machine_id"] == "m-1" and tidy.loc[0, "interpreter"] == "main"
    assert tidy.loc[0, "start_method"] == tidy.loc[0, "job_start_method"] == "fork"
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


def test_only_main_interpreter_trials_under_their_jobs_start_method_are_primary(tmp_path):
    spawned = {**ROW, "method": "processes", "workers": 2, "start_method": "spawn"}
    main = write_job(tmp_path, "pi_python", "m-1", [ROW, spawned])
    other = write_job(tmp_path, "pi_python", "m-1", [ROW], interpreter="cpython-3.13t")
    tidy = read_trials([main[0], other[0]], [main[1], other[1]])
    assert len(tidy) == 3
    chosen = primary(tidy)
    assert list(zip(chosen["interpreter"], chosen["method"])) == [("main", "serial")]


def test_a_skipped_interpreter_adds_no_trials_and_is_listed_with_its_reason(tmp_path):
    main = write_job(tmp_path, "pi_python", "m-1", [ROW])
    skipped = write_job(tmp_path, "pi_python", "m-1", [], interpreter="pypy", skipped="pypy3 was not found")
    tidy = read_trials([main[0], skipped[0]], [main[1], skipped[1]])
    assert set(tidy["interpreter"]) == {"main"}
    run = read_run([main[1], skipped[1]])
    assert run["interpreters"]["pypy"]["skipped"] == {"pi_python": "pypy3 was not found"}
    assert run["interpreters"]["main"]["skipped"] == {}
    assert set(run["jobs"]) == {"pi_python@main", "pi_python@pypy"}


def test_results_of_an_older_tidy_schema_are_refused_with_what_to_do(tmp_path):
    from report.load import SCHEMA_VERSION, check_schema

    check_schema({"schema_version": SCHEMA_VERSION}, tmp_path)
    with pytest.raises(ValueError, match=r"schema version 1, and this code reads version \d+: run its experiments again"):
        check_schema({"schema_version": 1}, tmp_path)
