"""Raw trials and provenance → the tidy table and the run record."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from experiments.harness import TRIAL_COLUMNS
from experiments.registry import EXPERIMENTS
from report.load import EXTRA_COLUMNS, LATER_COLUMNS, TIDY_COLUMNS, RawDataError, primary, read_run, read_trials


def write_job(folder, experiment, machine_id, rows, interpreter="main", skipped=None):
    trials = folder / f"{experiment}@{interpreter}.csv"
    pd.DataFrame(rows, columns=list(TRIAL_COLUMNS) if not rows else None).to_csv(trials, index=False)
    provenance = folder / f"{experiment}@{interpreter}.json"
    provenance.write_text(json.dumps({"experiment": experiment, "machine_id": machine_id, "machine": {"cpu": "x"},
                                      "interpreter": {"name": interpreter, "version": "3.x"}, "skipped": skipped,
                                      "start_method": "fork", "trials": len(rows)}))
    return trials, provenance


#: A trial as the harness wrote it before the disturbance and deadline columns (the committed reference's).
ROW = {"experiment": "pi_python", "start_method": "fork", "method": "serial", "workers": 1, "samples": 1000, "round": 0, "warmup": False,
       "repeat": 0, "order": 0, "seconds": 1.0, "cpu_seconds": 1.0, "peak_pss_bytes": 1, "peak_uss_bytes": 1, "peak_worker_uss_bytes": 1,
       "memory_samples": 1, "result": 3.1, "correct": True, "error": None, "started_at": 10.0, "ended_at": 11.0}

#: The columns the harness writes since.
NEW_COLUMNS = {"foreign_cpu_seconds": 0.01, "steal_seconds": 0.0, "disturbed": True, "deadline_seconds": 30.0}


def test_trials_get_machine_interpreter_and_job_start_method_in_documented_column_order(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [{**ROW, **NEW_COLUMNS}])
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


def test_a_column_that_only_another_experiment_declares_is_refused_naming_the_family_module(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [{**ROW, "number": 7}])
    with pytest.raises(RawDataError, match="column.s. that pi_python does not declare .* experiments/pi.py.*: number"):
        read_trials([trials], [provenance])


def ipc_row(**change) -> dict:
    """A trial of ipc_contexts, whose declared columns are of most types (counts, a start method, seconds, yes/no)."""
    common = {key: value for key, value in ROW.items() if key != "samples"}
    return {**common, **NEW_COLUMNS, "experiment": "ipc_contexts", "number": 15, "check_every": 10, "context": "spawn",
            "result": 0, "factor": 3, "flag_reads": 1, "candidates": 1, "stop_latency": None, "stopped_early": None,
            "pool_start_seconds": None, **change}


@pytest.mark.parametrize("change, expected", [
    ({"context": "threads"}, "column context: 'threads' is not one of fork, forkserver, spawn"),
    ({"stopped_early": 2}, "column stopped_early: '2' is above 1"),
    ({"factor": 2.5}, "column factor: '2.5' is not a whole number"),
    ({"stop_latency": -1.0}, "column stop_latency: '-1.0' is below 0"),
])
def test_declared_columns_are_checked_by_their_type(tmp_path, change, expected):
    trials, provenance = write_job(tmp_path, "ipc_contexts", "m-1", [ipc_row(**change)])
    with pytest.raises(RawDataError, match=expected):
        read_trials([trials], [provenance])


def test_declared_whole_numbers_stay_whole_where_other_experiments_leave_them_empty(tmp_path):
    pi = write_job(tmp_path, "pi_python", "m-1", [{**ROW, **NEW_COLUMNS}])
    ipc = write_job(tmp_path, "ipc_contexts", "m-1", [ipc_row(stop_latency=0.25, stopped_early=1)])
    tidy = read_trials([pi[0], ipc[0]], [pi[1], ipc[1]])
    assert {str(tidy[column].dtype) for column in ("samples", "number", "factor", "stopped_early")} == {"Int64"}
    assert tidy["stop_latency"].dtype == float and tidy["context"].tolist()[1] == "spawn"


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


def test_an_older_file_without_the_later_columns_loads_them_as_unknown_and_undisturbed(tmp_path):
    old = write_job(tmp_path, "pi_python", "m-1", [ROW])
    new = write_job(tmp_path, "pi_numpy", "m-1", [{**ROW, **NEW_COLUMNS, "experiment": "pi_numpy"}])
    tidy = read_trials([old[0], new[0]], [old[1], new[1]]).set_index("experiment")
    assert set(LATER_COLUMNS) <= set(tidy.columns)
    assert tidy.loc["pi_python", ["foreign_cpu_seconds", "steal_seconds", "deadline_seconds"]].isna().all()
    assert not tidy.loc["pi_python", "disturbed"]
    assert tidy.loc["pi_numpy", "disturbed"] and tidy.loc["pi_numpy", "deadline_seconds"] == 30.0


def lines_of(path):
    return path.read_text().splitlines(keepends=True)


def test_a_file_cut_at_a_line_boundary_is_refused_naming_it_and_its_provenance(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [{**ROW, "order": order} for order in range(3)])
    trials.write_text("".join(lines_of(trials)[:-1]))
    with pytest.raises(RawDataError, match=rf"{trials}: holds 2 trial\(s\), but {provenance} records 3"):
        read_trials([trials], [provenance])


@pytest.mark.parametrize("content, expected", [
    (b"", "is empty"),
    (b"\xff\xfe\x00garbage", "cannot be read as text"),
    (b"hello, world\nthis is not a trial\n", "is not a raw file of this workflow"),
    (b"experiment,start_method\npi_python,fork\n", "lacks the column(s) method, workers"),
])
def test_an_empty_or_garbage_file_is_refused_naming_it(tmp_path, content, expected):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW])
    trials.write_bytes(content)
    with pytest.raises(RawDataError) as refused:
        read_trials([trials], [provenance])
    assert str(refused.value).startswith(f"{trials}: ") and expected in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_file_cut_in_the_middle_of_a_row_is_refused(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW, {**ROW, "order": 1}])
    trials.write_text(trials.read_text()[:-5])
    with pytest.raises(RawDataError, match="ends in the middle of a line: the file was cut off"):
        read_trials([trials], [provenance])


def test_a_row_wider_than_the_header_is_refused(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW, {**ROW, "order": 1}])
    head, first, second = lines_of(trials)
    trials.write_text(head + first + second.rstrip("\n") + ",extra\n")
    with pytest.raises(RawDataError, match="row 2 has 21 fields, and the header 20"):
        read_trials([trials], [provenance])


BAD_CELLS = {
    "negative seconds": ({"seconds": -0.5}, "row 1, column seconds: '-0.5' is below 0"),
    "infinite CPU time": ({"cpu_seconds": float("inf")}, "column cpu_seconds: 'inf' is not finite"),
    "text for seconds": ({"seconds": "fast"}, "column seconds: 'fast' is not a number"),
    "unknown start method": ({"start_method": "forkk"}, "column start_method: 'forkk' is not one of fork, forkserver, spawn"),
    "unknown method": ({"method": "thread"},
                       f"column method: 'thread' is not one of {', '.join(EXPERIMENTS['pi_python'].method_names)}"),
    "another experiment": ({"experiment": "pi_numpy"}, "column experiment: 'pi_numpy' is not one of pi_python"),
    "fractional workers": ({"workers": 1.5}, "column workers: '1.5' is not a whole number"),
    "no workers": ({"workers": 0}, "column workers: '0' is below 1"),
    "warm-up as a word": ({"warmup": "yes"}, "column warmup: 'yes' is not one of True, False"),
    "no answer check": ({"correct": None}, "column correct: '' is empty"),
    "ends before it starts": ({"started_at": 12.0, "ended_at": 11.0}, "the trial ends (ended_at 11.0) before it starts (started_at 12.0)"),
    "no start time": ({"started_at": 0.0}, "column started_at: '0.0' is not above 0"),
    "negative foreign time": ({**NEW_COLUMNS, "foreign_cpu_seconds": -1.0}, "column foreign_cpu_seconds: '-1.0' is below 0"),
    "disturbed as a number": ({**NEW_COLUMNS, "disturbed": 2}, "column disturbed: '2' is not one of True, False"),
    "zero deadline": ({**NEW_COLUMNS, "deadline_seconds": 0.0}, "column deadline_seconds: '0.0' is not above 0"),
    "negative parameter": ({"samples": -1000}, "column samples: '-1000' is below 0"),
}


@pytest.mark.parametrize("name", list(BAD_CELLS))
def test_every_column_is_checked(tmp_path, name):
    change, expected = BAD_CELLS[name]
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [{**ROW, **change}])
    with pytest.raises(RawDataError) as refused:
        read_trials([trials], [provenance])
    assert str(refused.value).startswith(f"{trials}: ") and expected in str(refused.value), str(refused.value)


@pytest.mark.parametrize("change, expected", [
    ({"trials": "1"}, "trials is '1', not the number of trials the job wrote"),
    ({"trials": None}, "trials is None"),
    ({"experiment": "pi_pyton"}, "experiment is 'pi_pyton', not an experiment of experiments/registry.py"),
    ({"start_method": "forkk"}, "start_method is 'forkk', not one of fork, forkserver, spawn"),
    ({"rounds": -1}, "rounds is -1, not the rounds the job measured"),
    ({"stop_reason": 3}, "stop_reason is 3, not why the job stopped adding rounds"),
])
def test_provenance_keys_are_checked(tmp_path, change, expected):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW])
    provenance.write_text(json.dumps({**json.loads(provenance.read_text()), **change}))
    with pytest.raises(RawDataError, match=f"^{provenance}: ") as refused:
        read_trials([trials], [provenance])
    assert expected in str(refused.value)


def test_a_provenance_record_without_its_trial_count_or_not_json_is_refused(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW])
    record = json.loads(provenance.read_text())
    del record["trials"]
    provenance.write_text(json.dumps(record))
    with pytest.raises(RawDataError, match="lacks the key 'trials'"):
        read_trials([trials], [provenance])
    provenance.write_text('{"experiment": "pi_py')
    with pytest.raises(RawDataError, match="not a readable JSON provenance record"):
        read_run([provenance])


def test_collect_reports_a_bad_file_in_one_line_and_writes_nothing(tmp_path):
    trials, provenance = write_job(tmp_path, "pi_python", "m-1", [ROW, {**ROW, "order": 1}])
    cores = tmp_path / "pi_python@main.cores.csv"
    cores.write_text("experiment,method,workers,round,order,seconds,core,percent\n")
    trials.write_text("".join(lines_of(trials)[:-1]))
    outputs = {name: tmp_path / "out" / name for name in ("trials.csv", "cores.csv", "run.json")}
    done = subprocess.run(
        [sys.executable, "-m", "report", "collect", "--trials", str(trials), "--provenance", str(provenance),
         "--cores", str(cores), "--tidy", str(outputs["trials.csv"]), "--cores-output", str(outputs["cores.csv"]),
         "--run", str(outputs["run.json"])],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"python -m report collect: {trials}: holds 1 trial(s), but {provenance} records 2:"
                                        " the file was cut off or changed; delete it to measure that job again"]
    assert not any(path.exists() for path in outputs.values())


def test_a_garbage_per_core_file_is_refused_naming_it(tmp_path):
    from report.load import read_core_samples

    cores = tmp_path / "cpu_usage@main.cores.csv"
    cores.write_text("experiment,method,workers,round,order,seconds,core,percent\ncpu_usage,threads,2,0,0,0.1,0,-5\n")
    with pytest.raises(RawDataError, match=rf"^{cores}: row 1, column percent: '-5' is below 0"):
        read_core_samples([cores])
