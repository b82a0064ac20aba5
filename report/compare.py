"""Several machines' runs → one comparison: the points they share with both
medians and their ratio, method rankings, efficiency normalised by each run's
usable CPUs, and claims whose verdict differs between runs.

A machine's run is a folder ``results/<machine>/<run_name>/`` with the
``summary.csv``, ``claims.csv`` and ``run.json`` that the workflow writes; the
comparison reads nothing else and runs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.registry import EXPERIMENTS
from report.analysis import parallel_cores, point_keys, rank_methods
from report.claims.common import NOT_APPLICABLE, NOT_RUN
from report.load import check_schema, primary, read_table

#: Verdicts that say a run did not test a claim: they never make verdicts differ.
UNTESTED = (NOT_RUN, NOT_APPLICABLE)


@dataclass(frozen=True)
class MachineRun:
    """One machine's results for one run name, on the workflow's interpreter under each job's start method.

    ``machine_id`` is the name of the machine's results folder: the fingerprint
    unless the run chose a ``machine_name`` (e.g. to label a run of the same
    machine under other settings).
    """

    machine_id: str
    machine: dict[str, Any]
    summary: pd.DataFrame
    claims: pd.DataFrame
    #: the hardware, OS and Python fingerprint the run recorded (one machine may have several runs)
    fingerprint: str = ""

    @property
    def cores(self) -> int:
        """Physical cores the run could use (the worker count its ranking is taken at)."""
        return parallel_cores(self.machine)

    @property
    def cpus(self) -> int:
        """The CPUs the run could use: the scale its efficiency is normalised by."""
        return self.machine["usable_cpus"]


def load_run(folder: Path) -> MachineRun:
    run = json.loads((folder / "run.json").read_text())
    check_schema(run, folder)
    return MachineRun(folder.parent.name, run["machine"], primary(read_table(folder / "summary.csv")),
                      read_table(folder / "claims.csv"), run.get("machine_id", folder.parent.name))


def what_differs(runs: list[MachineRun]) -> str:
    """"machines" when the runs' fingerprints differ, "runs" when they are settings of one machine."""
    return "machines" if len({run.fingerprint for run in runs}) > 1 else "runs"


def point_ratios(shared: pd.DataFrame, runs: list[MachineRun]) -> pd.DataFrame:
    """Per shared point, each run's median and interval, and every other run's median over the first run's.

    The ratio's interval divides the bounds crosswise (low over high, high over
    low): it holds both medians' intervals at once, so it is wider than a
    bootstrap of the ratio would be, never narrower. Columns: ``experiment``,
    ``method``, ``workers``, ``point``, ``params`` (the rest of the point), then per run ``median@<id>``,
    ``low@<id>``, ``high@<id>`` and, for all but the first, ``ratio@<id>``,
    ``ratio_low@<id>``, ``ratio_high@<id>``.
    """
    first = runs[0].machine_id
    columns = {"median_seconds": "median", "ci_low": "low", "ci_high": "high"}
    wide = None
    for run in runs:
        mine = shared[shared["machine_id"] == run.machine_id].set_index("point")
        values = mine[list(columns)].rename(columns={k: f"{v}@{run.machine_id}" for k, v in columns.items()})
        wide = mine[["experiment", "method", "workers"]].join(values) if wide is None else wide.join(values)
    for run in runs[1:]:
        other = run.machine_id
        wide[f"ratio@{other}"] = wide[f"median@{other}"] / wide[f"median@{first}"]
        wide[f"ratio_low@{other}"] = wide[f"low@{other}"] / wide[f"high@{first}"]
        wide[f"ratio_high@{other}"] = wide[f"high@{other}"] / wide[f"low@{first}"]
    wide = wide.reset_index()
    # what identifies the point beyond experiment, interpreter, start method, method and workers
    wide["params"] = wide["point"].str.split(" ", n=5).str[5].fillna("")
    return wide


def shared_points(runs: list[MachineRun]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every machine's summary rows restricted to the points all machines measured, and the points left out.

    Returns ``(shared, left_out)``: ``shared`` stacks the runs' rows (with a
    ``machine_id`` column); ``left_out`` lists each point some machine lacks,
    with the machines that have it.
    """
    keyed = []
    for run in runs:
        rows = run.summary.copy()
        rows.insert(0, "machine_id", run.machine_id)
        rows["point"] = [_point_id(row) for row in rows.to_dict("records")]
        keyed.append(rows)
    everything = pd.concat(keyed, ignore_index=True)
    machines_per_point = everything.groupby("point")["machine_id"].agg(lambda ids: sorted(set(ids)))
    complete = machines_per_point[machines_per_point.map(len) == len(runs)].index
    shared = everything[everything["point"].isin(complete)]
    left_out = machines_per_point[~machines_per_point.index.isin(complete)]
    return shared, pd.DataFrame({"point": left_out.index, "measured_on": left_out.map(", ".join).to_numpy()})


def _point_id(row: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    return " ".join(f"{key}={text(row[key])}" for key in point_keys(row["experiment"]))


def rankings(shared: pd.DataFrame, runs: list[MachineRun]) -> pd.DataFrame:
    """Per experiment and machine, the methods from fastest to slowest at the machine's physical cores
    (:func:`report.analysis.rank_methods`)."""
    rows = []
    for run in runs:
        mine = shared[shared["machine_id"] == run.machine_id]
        for experiment, points in mine.groupby("experiment", sort=False):
            spec = EXPERIMENTS[experiment]
            order = rank_methods(points, run.cores)["method"]
            rows.append({"experiment": experiment, "machine_id": run.machine_id,
                         "ranking": " < ".join(spec.method(m).label for m in order)})
    table = pd.DataFrame(rows, columns=["experiment", "machine_id", "ranking"])
    differs = table.groupby("experiment")["ranking"].transform("nunique") > 1
    return table.assign(differs=differs)


def claim_verdicts(runs: list[MachineRun]) -> pd.DataFrame:
    """One row per claim: per machine its verdict (column ``<id>``) and its measured value with its interval
    (``value@<id>``, ``low@<id>``, ``high@<id>``), the measure, and whether the verdicts differ.

    A claim that some machine did not run, or that its hardware cannot test
    ("not applicable"), does not count as a difference.
    """
    table = None
    for run in runs:
        claims = run.claims.set_index("claim")
        verdicts = claims[["verdict", "value", "low", "high"]].rename(columns={
            "verdict": run.machine_id, "value": f"value@{run.machine_id}", "low": f"low@{run.machine_id}",
            "high": f"high@{run.machine_id}"})
        table = (claims[["statement", "measure"]].join(verdicts) if table is None
                 else table.join(verdicts, how="outer"))
    machines = [run.machine_id for run in runs]
    decided = table[machines].apply(lambda row: {v for v in row if isinstance(v, str) and v not in UNTESTED}, axis=1)
    return table.reset_index().assign(differs=decided.map(len).to_numpy() > 1)


def normalised_scaling(shared: pd.DataFrame, runs: list[MachineRun]) -> pd.DataFrame:
    """Speedup of parallel points, normalised by the CPUs each run could use.

    ``workers_per_cpu`` is the common scale (at 1 the workers fill the usable
    CPUs); ``cpu_efficiency`` is the speedup over the most the run's CPUs allow,
    min(workers, usable CPUs), so a run on one CPU is not judged against a
    speedup of two.
    """
    cpus = shared["machine_id"].map({run.machine_id: run.cpus for run in runs})
    is_parallel = [EXPERIMENTS[e].method(m).parallel for e, m in zip(shared["experiment"], shared["method"])]
    keep = shared["speedup"].notna() & pd.Series(is_parallel, index=shared.index)
    parallel = shared[keep].copy()
    parallel["workers_per_cpu"] = parallel["workers"] / cpus[keep]
    parallel["cpu_efficiency"] = parallel["speedup"] / parallel["workers"].clip(upper=cpus[keep])
    return parallel[["machine_id", "experiment", "method", "workers", "workers_per_cpu", "speedup", "cpu_efficiency"]]
