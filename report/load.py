"""Raw trial CSVs and their provenance files → one tidy table for the run.

One row per trial (warm-up trials included, flagged), one column per variable.
:data:`TIDY_COLUMNS` is the table's schema; the README's "Results" section lists
the same columns (a test keeps the two in step).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from experiments.interpreters import MAIN
from experiments.registry import EXPERIMENTS

#: Version of the tidy table's layout; bump it when a column changes meaning.
SCHEMA_VERSION = 2

#: The columns every tidy table has: name → meaning.
TIDY_COLUMNS = {
    "machine_id": "folder name of the machine the trial ran on (CPU, CPUs, fingerprint)",
    "interpreter": 'the grid\'s name of the Python the trial ran on ("main": the one that ran the workflow)',
    "experiment": "experiment name, as in experiments/registry.py",
    "start_method": "multiprocessing start method the trial's pools used (the job's, but on the start-method axis)",
    "job_start_method": "the job's start method: where start_method differs, the trial is on the start-method axis",
    "method": "method name within the experiment",
    "workers": "worker count (1 for serial methods)",
    "round": "round index within the job, warm-up rounds first (0-based)",
    "warmup": "True for warm-up rounds, which the statistics leave out",
    "repeat": "index of the timed repeat (0-based); empty for warm-up rounds",
    "order": "position of the trial within its round (the order is shuffled per round)",
    "seconds": "wall-clock time of the trial, time.perf_counter (s)",
    "cpu_seconds": "user + system CPU time of the whole process tree during the trial (s)",
    "peak_pss_bytes": "peak total PSS of the process tree, sampled (bytes); empty if sampling is off",
    "peak_uss_bytes": "peak total USS of the process tree, sampled (bytes); empty if sampling is off",
    "peak_worker_uss_bytes": "peak USS of the largest single child process, sampled (bytes); 0 without children, empty if sampling is off",
    "memory_samples": "number of memory samples taken during the trial",
    "result": "the trial's answer (for π experiments: the estimate of π)",
    "correct": "whether the answer passed the experiment's check",
    "error": "exception raised by the method, if any",
    "started_at": "trial start, seconds since the Unix epoch (UTC)",
    "ended_at": "trial end, seconds since the Unix epoch (UTC)",
}

#: Columns only some experiments have: parameters of the work and extra measurements.
EXTRA_COLUMNS = {
    "samples": "darts per trial (pi_python, pi_numpy, pi_cache)",
    "block_size": "darts per vectorised block (pi_numpy)",
    "draws_per_worker": "random numbers each worker draws per coordinate (seeding)",
    "draws": "random numbers drawn in total per coordinate (seeding)",
    "duplicated_draws": "draws that repeat another draw of the same trial (seeding)",
    "first": "first candidate number of the range (primes experiments)",
    "count": "how many consecutive numbers are tested, from first on (primes experiments)",
    "chunksize": "chunk size given to Pool.map; 0 means none, so Pool.map picks its default (primes_chunksize)",
    "chunks": "number of equal chunks the numbers are cut into (primes_chunks)",
    "batch_size": "numbers per queue item in the batched queue variant (primes_queue)",
    "chunksize_used": "numbers per task that the pool actually used (primes_pool, primes_chunksize, primes_chunks)",
    "queue_items": "job items that went through the queue (primes_queue)",
    "rows": "rows of the float64 array (numpy_sharing, random_fill)",
    "columns": "columns of the float64 array (numpy_sharing, random_fill)",
    "hold_seconds": "seconds the workers keep their memory after writing, for the sampler (numpy_sharing)",
    "array_bytes": "size of the array (bytes) (numpy_sharing, random_fill)",
    "unwritten_cells": "cells that do not hold what the workers wrote: a worker's id, or a random number (numpy_sharing, random_fill)",
    "increments": "increments each worker adds to the counter (file_counter, value_counter)",
    "lost_updates": "expected count minus the final count; negative when a file counter ran ahead (file_counter, value_counter)",
    "count_seconds": "from the first worker's start of counting to the last one's end, without process start-up (s) (file_counter, value_counter)",
    "number": "the number checked for primality (ipc_flags, ipc_contexts)",
    "check_every": "candidate factors a worker tries between two reads of the stop flag (ipc_flags, ipc_contexts)",
    "context": "start method of the pools and managers of this point (ipc_contexts)",
    "factor": "the factor found; empty for a prime (ipc_flags, ipc_contexts)",
    "flag_reads": "reads of the stop flag, all workers together (ipc_flags, ipc_contexts)",
    "candidates": "candidate factors tried, all workers together (ipc_flags, ipc_contexts)",
    "stop_latency": "from a worker finding a factor to the last worker stopping (s); empty without a pool or a factor (ipc_flags, ipc_contexts)",
    "stopped_early": "1 if every worker stopped before the end of its range, 0 if one searched on; empty as stop_latency (ipc_flags, ipc_contexts)",
}


def read_trials(trial_files: Iterable[Path], provenance_files: Iterable[Path]) -> pd.DataFrame:
    """Concatenate raw trial CSVs, adding each job's machine and interpreter.

    Jobs skipped because their interpreter could not run them have no trials.
    """
    frames = []
    for trials_path, provenance_path in zip(trial_files, provenance_files, strict=True):
        provenance = json.loads(Path(provenance_path).read_text())
        frame = pd.read_csv(trials_path, keep_default_na=True)
        if provenance.get("skipped"):
            continue
        frame.insert(frame.columns.get_loc("start_method") + 1, "job_start_method", provenance["start_method"])
        frame.insert(0, "interpreter", provenance["interpreter"]["name"])
        frame.insert(0, "machine_id", provenance["machine_id"])
        frames.append(nullable_integers(frame))
    if not frames:
        raise ValueError("no trials: every job was skipped, or no trial file was given")
    tidy = pd.concat(frames, ignore_index=True)
    unknown = set(tidy["experiment"]) - set(EXPERIMENTS)
    if unknown:
        raise ValueError(f"trials of unknown experiments: {sorted(unknown)}")
    undocumented = set(tidy.columns) - set(TIDY_COLUMNS) - set(EXTRA_COLUMNS)
    if undocumented:
        raise ValueError(f"columns missing from the tidy schema: {sorted(undocumented)}")
    ordered = [c for c in TIDY_COLUMNS if c in tidy] + [c for c in EXTRA_COLUMNS if c in tidy]
    tidy = tidy[ordered]
    tidy["error"] = tidy["error"].astype("string").fillna("")
    tidy["correct"] = tidy["correct"].astype(bool)
    tidy["warmup"] = tidy["warmup"].astype(bool)
    # whole numbers stay whole where other experiments leave the column empty
    for column in ("repeat", *EXTRA_COLUMNS):
        if column in tidy and _whole_numbers(tidy[column]):
            tidy[column] = tidy[column].astype("Int64")
    return tidy


def read_core_samples(paths: Iterable[Path]) -> pd.DataFrame:
    """Concatenate the jobs' per-core utilisation samples (most jobs have none)."""
    from experiments.cores import CORE_COLUMNS

    frames = [pd.read_csv(path) for path in paths]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CORE_COLUMNS))


def nullable_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer extra columns as pandas' nullable Int64, so that stacking them with tables that
    lack them leaves gaps instead of turning them into floats (which round numbers above 2^53)."""
    integers = [c for c in frame.columns if c in EXTRA_COLUMNS and pd.api.types.is_integer_dtype(frame[c])]
    return frame.astype({column: "Int64" for column in integers})


def _whole_numbers(column: pd.Series) -> bool:
    """Whether every value present is a whole number (text and fractions are not)."""
    if not pd.api.types.is_numeric_dtype(column):
        return False
    present = column.dropna()
    return bool((present == present.round()).all())


def read_run(provenance_files: Iterable[Path]) -> dict:
    """The run's provenance: machine facts once, each interpreter once (with the
    jobs it skipped and why), then each job's own record, keyed "<experiment>@<interpreter>"."""
    jobs = {}
    for path in provenance_files:
        record = json.loads(Path(path).read_text())
        jobs[f"{record['experiment']}@{record['interpreter']['name']}"] = record
    interpreters: dict[str, dict] = {}
    for record in sorted(jobs.values(), key=lambda record: bool(record.get("skipped"))):
        entry = interpreters.setdefault(record["interpreter"]["name"], {**record["interpreter"], "skipped": {}})
        if record.get("skipped"):
            entry["skipped"][record["experiment"]] = record["skipped"]
    machines = {record["machine_id"] for record in jobs.values()}
    if len(machines) > 1:
        raise ValueError(
            f"the jobs of this run ran on different machines ({', '.join(sorted(machines))}); one results folder"
            " holds one machine's results: on a cluster, run once per node type (one partition each)"
        )
    # the machine as the workflow's own interpreter describes it (the fingerprint includes its Python)
    first = next((record for record in jobs.values() if record["interpreter"]["name"] == MAIN), next(iter(jobs.values())))
    return {"schema_version": SCHEMA_VERSION, "machine_id": first["machine_id"], "machine": first["machine"],
            "interpreters": interpreters, "jobs": jobs}


#: Columns of our tables that hold text even when every cell is empty.
TEXT_COLUMNS = ("error", "flags", "machine_id", "interpreter", "start_method", "job_start_method", "experiment", "method", "source", "context")


def check_schema(run: dict, folder: Path) -> None:
    """Refuse, with a clear message, a run whose tidy table has another layout than this code's."""
    found = run.get("schema_version")
    if found != SCHEMA_VERSION:
        raise ValueError(
            f"{folder} holds results of tidy-table schema version {found}, and this code reads version"
            f" {SCHEMA_VERSION}: run its experiments again (delete the folder first), or check out the commit"
            f" recorded in its run.json to render it"
        )


def primary(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a tidy or summary table on the workflow's interpreter under each job's own
    start method: what every section uses but those on the start-method and interpreter axes."""
    return table[(table["interpreter"] == MAIN) & (table["start_method"] == table["job_start_method"])]


def read_table(path: Path) -> pd.DataFrame:
    """Read a table this package wrote, keeping whole-number columns with gaps whole."""
    table = pd.read_csv(path, dtype_backend="numpy_nullable", dtype={c: "string" for c in TEXT_COLUMNS})
    for column in ("error", "flags"):
        if column in table:
            table[column] = table[column].fillna("")
    return table
