"""Several machines' runs → one comparison: the points they share, method
rankings, speedups normalised by each machine's cores, and claims whose verdict
differs between machines.

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
from report.analysis import point_keys
from report.load import check_schema, primary, read_table


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

    @property
    def cores(self) -> int:
        """Physical cores the run could use (the scale speedups are normalised by)."""
        return min(self.machine["physical_cores"] or self.machine["usable_cpus"], self.machine["usable_cpus"])


def load_run(folder: Path) -> MachineRun:
    run = json.loads((folder / "run.json").read_text())
    check_schema(run, folder)
    return MachineRun(folder.parent.name, run["machine"], primary(read_table(folder / "summary.csv")),
                      read_table(folder / "claims.csv"))


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
    """Per experiment and machine, the methods from fastest to slowest at the machine's core count.

    Parallel methods are compared at the largest worker count not above the
    machine's physical cores; methods that use one worker at their one point.
    """
    rows = []
    for run in runs:
        mine = shared[shared["machine_id"] == run.machine_id]
        for experiment, points in mine.groupby("experiment", sort=False):
            spec = EXPERIMENTS[experiment]
            best: dict[str, float] = {}
            for method, method_points in points.groupby("method", sort=False):
                candidates = method_points[method_points["workers"] <= run.cores] if spec.method(method).parallel else method_points
                candidates = candidates.dropna(subset=["median_seconds"])
                if not candidates.empty:
                    best[method] = float(candidates.sort_values("workers").iloc[-1]["median_seconds"])
            order = sorted(best, key=best.get)
            rows.append({"experiment": experiment, "machine_id": run.machine_id,
                         "ranking": " < ".join(spec.method(m).label for m in order)})
    table = pd.DataFrame(rows, columns=["experiment", "machine_id", "ranking"])
    differs = table.groupby("experiment")["ranking"].transform("nunique") > 1
    return table.assign(differs=differs)


def claim_verdicts(runs: list[MachineRun]) -> pd.DataFrame:
    """One row per claim, one verdict column per machine, and whether the verdicts differ.

    A claim that was not run on some machine does not count as a difference.
    """
    table = None
    for run in runs:
        verdicts = run.claims.set_index("claim")[["statement", "verdict"]].rename(columns={"verdict": run.machine_id})
        table = verdicts if table is None else table.join(verdicts[[run.machine_id]], how="outer")
    machines = [run.machine_id for run in runs]
    decided = table[machines].apply(lambda row: {v for v in row if v != "not run"}, axis=1)
    return table.reset_index().assign(differs=decided.map(len).to_numpy() > 1)


def normalised_scaling(shared: pd.DataFrame, runs: list[MachineRun]) -> pd.DataFrame:
    """Speedup and efficiency of parallel points, with workers per physical core as the common scale."""
    cores = {run.machine_id: run.cores for run in runs}
    is_parallel = [EXPERIMENTS[e].method(m).parallel for e, m in zip(shared["experiment"], shared["method"])]
    parallel = shared[shared["efficiency"].notna() & pd.Series(is_parallel, index=shared.index)].copy()
    parallel["workers_per_core"] = parallel["workers"] / parallel["machine_id"].map(cores)
    return parallel[["machine_id", "experiment", "method", "workers", "workers_per_core", "speedup", "efficiency"]]
