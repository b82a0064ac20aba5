"""Raw trial CSVs and their provenance files → one tidy table for the run.

One row per trial (warm-up trials included, flagged), one column per variable.
:data:`TIDY_COLUMNS` are the columns every trial has; :data:`EXTRA_COLUMNS` follow
from the parameters and measurements the experiments declare. The README's
"Results" section lists both (a test keeps it in step).

Nothing is taken on trust: a raw file must hold as many trials as its provenance
records, and every cell what its column may hold (:func:`raw_rules`). Anything
else raises :class:`RawDataError`, one line naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.interpreters import MAIN
from experiments.registry import COLUMNS, EXPERIMENTS
from experiments.spec import START_METHODS, Column


class RawDataError(ValueError):
    """A raw trial or provenance file that cannot be used as it is; the message names the file and what is wrong."""

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
    "foreign_cpu_seconds": "busy CPU time of the machine during the trial that the measured process tree did not use, from /proc/stat (s)",
    "steal_seconds": "CPU time the hypervisor gave to other guests during the trial (s)",
    "disturbed": "True when foreign or steal time exceeded the configured share of the trial's CPU capacity: kept, left out of the statistics, and measured again",
    "deadline_seconds": "the trial's deadline: it failed if it ran longer (s)",
    "result": "the trial's answer (for π experiments: the estimate of π)",
    "correct": "whether the answer passed the experiment's check",
    "error": "exception raised by the method, if any",
    "started_at": "trial start, seconds since the Unix epoch (UTC)",
    "ended_at": "trial end, seconds since the Unix epoch (UTC)",
}

def described(column: Column) -> str:
    """What a column holds, as the README and the report state it: its meaning, its unit and the
    experiments that have it."""
    unit = f" ({column.unit})" if column.unit else ""
    experiments = ", ".join(name for name, experiment in EXPERIMENTS.items() if column in experiment.columns)
    # the unit follows what is measured, before a note after a semicolon ("...; empty without a pool")
    measured, semicolon, note = column.meaning.partition(";")
    return f"{measured}{unit}{semicolon}{note} ({experiments})"


#: Columns only some experiments have, their parameters and measurements: name → meaning.
EXTRA_COLUMNS = {name: described(column) for name, column in COLUMNS.items()}


#: Columns the harness added after the committed reference run, and what a trial without them holds.
LATER_COLUMNS = {"foreign_cpu_seconds": np.nan, "steal_seconds": np.nan, "disturbed": False, "deadline_seconds": np.nan}

#: Columns the workflow adds to the raw ones, from each job's provenance.
JOB_COLUMNS = ("machine_id", "interpreter", "job_start_method")


#: How far below its minimum a measured number may lie as rounding, not as an error (seconds).
ROUNDING = 1e-9


@dataclass(frozen=True)
class Rule:
    """What the cells of one raw column may hold, as the harness writes them.

    ``kind`` is "integer", "number", "boolean", "text" or "name" (one of the
    names a job allows, see :func:`allowed_names`); bounds apply to numbers,
    ``above`` strictly. ``empty`` says whether a cell may be empty.
    """

    kind: str
    minimum: float | None = None
    above: float | None = None
    maximum: float | None = None
    empty: bool = False


COUNT, MAYBE_COUNT, SECONDS, MAYBE_SECONDS = Rule("integer", 0), Rule("integer", 0, empty=True), Rule("number", 0), Rule("number", 0, empty=True)

#: What the cells of a declared column may hold, by its type (experiments.spec.COLUMN_TYPES); empty
#: where a trial lacks the column (another experiment's rows, a failed trial's measurements).
TYPE_RULES = {
    "count": MAYBE_COUNT,
    "integer": Rule("integer", empty=True),
    "number": MAYBE_SECONDS,
    "yes/no": Rule("integer", 0, maximum=1, empty=True),
    "start method": Rule("name", empty=True),
}

#: The declared columns of whole numbers, which the tidy table keeps whole (see :func:`read_trials`).
WHOLE_COLUMNS = tuple(name for name, column in COLUMNS.items() if TYPE_RULES[column.type].kind == "integer")

#: The columns the harness writes for every trial, and what their cells may hold (an experiment's
#: own columns follow their declared types: :func:`raw_rules`).
RAW_RULES = {
    "experiment": Rule("name"), "start_method": Rule("name"), "method": Rule("name"),
    "workers": Rule("integer", 1), "round": COUNT, "warmup": Rule("boolean"), "repeat": MAYBE_COUNT,
    "order": COUNT, "seconds": SECONDS, "cpu_seconds": SECONDS, "peak_pss_bytes": MAYBE_COUNT,
    "peak_uss_bytes": MAYBE_COUNT, "peak_worker_uss_bytes": MAYBE_COUNT, "memory_samples": COUNT,
    "foreign_cpu_seconds": MAYBE_SECONDS, "steal_seconds": MAYBE_SECONDS, "disturbed": Rule("boolean"),
    "deadline_seconds": Rule("number", above=0, empty=True), "result": Rule("number", empty=True),
    "correct": Rule("boolean"), "error": Rule("text", empty=True),
    "started_at": Rule("number", above=0), "ended_at": Rule("number", above=0),
}

#: Columns every raw trial file has (older ones lack the later columns).
REQUIRED_COLUMNS = tuple(c for c in TIDY_COLUMNS if c not in JOB_COLUMNS and c not in LATER_COLUMNS)

#: What the cells of a per-core samples file may hold.
CORE_RULES = {"experiment": Rule("text"), "method": Rule("text"), "workers": Rule("integer", 1), "round": COUNT,
              "order": COUNT, "seconds": SECONDS, "core": COUNT, "percent": SECONDS}


def raw_rules(experiment: str) -> dict[str, Rule]:
    """Every column a raw trial file of ``experiment`` may have, and what its cells may hold."""
    return {**RAW_RULES, **{column.name: TYPE_RULES[column.type] for column in EXPERIMENTS[experiment].columns}}


def allowed_names(experiment: str) -> dict[str, tuple[str, ...]]:
    """The names a job of ``experiment`` may write into its "name" columns."""
    declared = {column.name: START_METHODS for column in EXPERIMENTS[experiment].columns if column.type == "start method"}
    return {"experiment": (experiment,), "start_method": START_METHODS, "method": EXPERIMENTS[experiment].method_names,
            **declared}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


#: Provenance keys every job record has: what each must be, in words.
PROVENANCE_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "experiment": (lambda value: isinstance(value, str) and value in EXPERIMENTS, "an experiment of experiments/registry.py"),
    "machine_id": (lambda value: isinstance(value, str) and value != "", "the machine's folder name"),
    "machine": (lambda value: isinstance(value, dict), "an object of the machine's facts"),
    "interpreter": (lambda value: isinstance(value, dict) and isinstance(value.get("name"), str), 'an object with a "name"'),
    "trials": (_is_count, "the number of trials the job wrote (an integer from 0)"),
}

#: Provenance keys some records lack: skipped jobs have no start method, older jobs no rounds or stop reason.
OPTIONAL_PROVENANCE_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "skipped": (lambda value: value is None or isinstance(value, str), "null, or why the job was skipped"),
    "start_method": (lambda value: isinstance(value, str) and value in START_METHODS, f"one of {', '.join(START_METHODS)}"),
    "rounds": (_is_count, "the rounds the job measured (an integer from 0)"),
    "stop_reason": (lambda value: isinstance(value, str), "why the job stopped adding rounds (text)"),
}


def read_provenance(path: Path) -> dict:
    """One job's provenance record, checked: the keys :func:`read_trials` and :func:`read_run` use."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RawDataError(f"{path}: not a readable JSON provenance record ({error})") from None
    if not isinstance(record, dict):
        raise RawDataError(f"{path}: holds a JSON {type(record).__name__}, not a provenance record (an object)")
    for key, (valid, meaning) in PROVENANCE_KEYS.items():
        if key not in record:
            raise RawDataError(f"{path}: lacks the key {key!r} ({meaning})")
        if not valid(record[key]):
            raise RawDataError(f"{path}: {key} is {_shown(record[key])}, not {meaning}")
    for key, (valid, meaning) in OPTIONAL_PROVENANCE_KEYS.items():
        if key in record and not valid(record[key]):
            raise RawDataError(f"{path}: {key} is {_shown(record[key])}, not {meaning}")
    if not record.get("skipped") and "start_method" not in record:
        raise RawDataError(f"{path}: lacks the key 'start_method' of a job that ran")
    return record


def _shown(value: Any) -> str:
    """A value as a message shows it: at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_csv_text(path: Path, required: tuple[str, ...]) -> tuple[str, pd.DataFrame]:
    """A CSV file's text and its cells as text ("" where empty), checked for the shape of a complete
    file: a header with the ``required`` columns, no column twice, every row as wide as the header,
    and a line break at the end (a file cut off mid-row lacks it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RawDataError(f"{path}: cannot be read as text ({error})") from None
    if not text.strip():
        raise RawDataError(f"{path}: is empty, without even a header: its job did not finish writing it")
    if not text.endswith("\n"):
        raise RawDataError(f"{path}: ends in the middle of a line: the file was cut off")
    try:
        header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise RawDataError(f"{path}: is not valid CSV ({error})") from None
    missing = [column for column in required if column not in header]
    if len(missing) == len(required):
        raise RawDataError(f"{path}: is not a raw file of this workflow: its header {_shown(','.join(header))} has none of its columns")
    if missing:
        raise RawDataError(f"{path}: lacks the column(s) {', '.join(missing)}")
    twice = sorted({column for column in header if header.count(column) > 1})
    if twice:
        raise RawDataError(f"{path}: has the column(s) {', '.join(twice)} more than once")
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise RawDataError(f"{path}: row {number} has {len(row)} fields, and the header {len(header)}")
    return text, pd.DataFrame(rows, columns=header, dtype=object)


def cell_problem(cells: pd.Series, rule: Rule, names: tuple[str, ...] = ()) -> tuple[int, str] | None:
    """A cell of ``cells`` (text, as in the file, on a range index) that breaks ``rule``: its row and why."""
    empty = cells == ""
    if empty.any() and not rule.empty:
        return int(empty.idxmax()), "is empty"
    present = cells[~empty]
    if rule.kind == "text":
        return None
    if rule.kind in ("boolean", "name"):
        allowed = ("True", "False") if rule.kind == "boolean" else names
        conditions = [(~present.isin(allowed), f"is not one of {', '.join(allowed)}")]
    else:
        values = pd.to_numeric(present, errors="coerce").astype(float)
        conditions = [(values.isna(), "is not a number"), (~np.isfinite(values), "is not finite")]
        if rule.kind == "integer":
            conditions.append((values != values.round(), "is not a whole number"))
        if rule.minimum is not None:
            # a difference of two clock readings can come out a rounding error below zero (-2e-15)
            slack = ROUNDING if rule.kind == "number" else 0.0
            conditions.append((values < rule.minimum - slack, f"is below {rule.minimum:g}"))
        if rule.above is not None:
            conditions.append((values <= rule.above, f"is not above {rule.above:g}"))
        if rule.maximum is not None:
            conditions.append((values > rule.maximum, f"is above {rule.maximum:g}"))
    return next(((int(failed.idxmax()), why) for failed, why in conditions if failed.any()), None)


def check_cells(path: Path, cells: pd.DataFrame, rules: Mapping[str, Rule], names: Mapping[str, tuple[str, ...]]) -> None:
    """Every cell of a file's columns against its column's rule; ``names`` are the allowed names of "name" columns."""
    for column in cells.columns:
        problem = cell_problem(cells[column], rules[column], names.get(column, ()))
        if problem:
            row, why = problem
            raise RawDataError(f"{path}: row {row + 1}, column {column}: {_shown(cells[column].iloc[row])} {why}")


def check_raw_trials(path: Path, cells: pd.DataFrame, provenance: Mapping[str, Any], provenance_path: Path) -> None:
    """A raw trial file's cells against its job's provenance and the rules of its experiment's columns."""
    experiment = provenance["experiment"]
    rules = raw_rules(experiment)
    unknown = [column for column in cells.columns if column not in rules]
    if unknown:
        raise RawDataError(f"{path}: has column(s) that {experiment} does not declare (its parameters and measurements"
                           f" in experiments/{EXPERIMENTS[experiment].family}.py): {', '.join(unknown)}")
    if len(cells) != provenance["trials"]:
        raise RawDataError(f"{path}: holds {len(cells)} trial(s), but {provenance_path} records {provenance['trials']}:"
                           " the file was cut off or changed; delete it to measure that job again")
    check_cells(path, cells, rules, allowed_names(experiment))
    started, ended = (pd.to_numeric(cells[column]) for column in ("started_at", "ended_at"))
    backwards = started > ended
    if backwards.any():
        row = int(np.argmax(backwards.to_numpy()))
        raise RawDataError(f"{path}: row {row + 1}: the trial ends (ended_at {cells['ended_at'].iloc[row]}) before it"
                           f" starts (started_at {cells['started_at'].iloc[row]})")


def read_raw_trials(path: Path, provenance: Mapping[str, Any], provenance_path: Path) -> pd.DataFrame:
    """One job's raw trials, checked, with the later columns filled where an older file lacks them."""
    text, cells = read_csv_text(path, REQUIRED_COLUMNS)
    check_raw_trials(path, cells, provenance, provenance_path)
    return with_later_columns(pd.read_csv(io.StringIO(text), keep_default_na=True))


def with_later_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns :data:`LATER_COLUMNS` that it lacks, as trials without them hold them."""
    missing = {column: value for column, value in LATER_COLUMNS.items() if column not in frame}
    return frame.assign(**missing) if missing else frame


def read_trials(trial_files: Iterable[Path], provenance_files: Iterable[Path]) -> pd.DataFrame:
    """Concatenate raw trial CSVs, checked, adding each job's machine and interpreter.

    Jobs skipped because their interpreter could not run them have no trials.
    """
    frames = []
    for trials_path, provenance_path in zip(trial_files, provenance_files, strict=True):
        provenance = read_provenance(provenance_path)
        frame = read_raw_trials(trials_path, provenance, provenance_path)
        if provenance.get("skipped"):
            continue
        frame.insert(frame.columns.get_loc("start_method") + 1, "job_start_method", provenance["start_method"])
        frame.insert(0, "interpreter", provenance["interpreter"]["name"])
        frame.insert(0, "machine_id", provenance["machine_id"])
        frames.append(nullable_integers(frame))
    if not frames:
        raise RawDataError("no trials: every job was skipped, or no trial file was given")
    tidy = pd.concat(frames, ignore_index=True)
    ordered = [c for c in TIDY_COLUMNS if c in tidy] + [c for c in EXTRA_COLUMNS if c in tidy]
    tidy = tidy[ordered]
    tidy["error"] = tidy["error"].astype("string").fillna("")
    for column in ("correct", "warmup", "disturbed"):
        tidy[column] = tidy[column].astype(bool)
    # whole numbers stay whole where other experiments leave the column empty
    for column in ("repeat", *WHOLE_COLUMNS):
        if column in tidy:
            tidy[column] = tidy[column].astype("Int64")
    return tidy


def read_core_samples(paths: Iterable[Path]) -> pd.DataFrame:
    """Concatenate the jobs' per-core utilisation samples (most jobs have none), checked."""
    from experiments.cores import CORE_COLUMNS

    frames = []
    for path in paths:
        text, cells = read_csv_text(path, CORE_COLUMNS)
        unknown = [column for column in cells.columns if column not in CORE_RULES]
        if unknown:
            raise RawDataError(f"{path}: has column(s) that per-core samples do not: {', '.join(unknown)}")
        check_cells(path, cells, CORE_RULES, {})
        frames.append(pd.read_csv(io.StringIO(text)))
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CORE_COLUMNS))


def nullable_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer extra columns as pandas' nullable Int64, so that stacking them with tables that
    lack them leaves gaps instead of turning them into floats (which round numbers above 2^53)."""
    integers = [c for c in frame.columns if c in EXTRA_COLUMNS and pd.api.types.is_integer_dtype(frame[c])]
    return frame.astype({column: "Int64" for column in integers})


def read_run(provenance_files: Iterable[Path]) -> dict:
    """The run's provenance: machine facts once, each interpreter once (with the
    jobs it skipped and why), then each job's own record, keyed "<experiment>@<interpreter>"."""
    jobs = {}
    for path in provenance_files:
        record = read_provenance(path)
        jobs[f"{record['experiment']}@{record['interpreter']['name']}"] = record
    interpreters: dict[str, dict] = {}
    for record in sorted(jobs.values(), key=lambda record: bool(record.get("skipped"))):
        entry = interpreters.setdefault(record["interpreter"]["name"], {**record["interpreter"], "skipped": {}})
        if record.get("skipped"):
            entry["skipped"][record["experiment"]] = record["skipped"]
    machines = {record["machine_id"] for record in jobs.values()}
    if len(machines) > 1:
        raise RawDataError(
            f"the jobs of this run ran on different machines ({', '.join(sorted(machines))}); one results folder"
            " holds one machine's results: on a cluster, run once per node type (one partition each)"
        )
    # the machine as the workflow's own interpreter describes it (the fingerprint includes its Python)
    first = next((record for record in jobs.values() if record["interpreter"]["name"] == MAIN), next(iter(jobs.values())))
    return {"schema_version": SCHEMA_VERSION, "machine_id": first["machine_id"], "machine": first["machine"],
            "interpreters": interpreters, "jobs": jobs}


#: Columns of our tables that hold text even when every cell is empty.
TEXT_COLUMNS = ("error", "flags", "implausible", "machine_id", "interpreter", "start_method", "job_start_method", "experiment", "method", "source", "context")


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
    """Read a table this package wrote, keeping whole-number columns with gaps whole.

    A tidy trials table of an older run (the committed reference) gets the later columns.
    """
    table = pd.read_csv(path, dtype_backend="numpy_nullable", dtype={c: "string" for c in TEXT_COLUMNS})
    for column in ("error", "flags", "implausible"):
        if column in table:
            table[column] = table[column].fillna("")
    return with_later_columns(table) if "started_at" in table else table
