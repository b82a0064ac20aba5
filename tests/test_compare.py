"""The cross-machine report over this machine's smoke run and a synthetic second machine."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from conftest import REPO, run_snakemake
from report import compare
from report.analysis import rank_methods
from report.claims.common import NOT_APPLICABLE

OTHER = "synthetic-8cpu-0000beef"


@pytest.fixture(scope="module")
def two_machines(smoke_run):
    """The smoke run, plus a copy posing as another machine that measured fewer points and disagrees once."""
    other = smoke_run.parent.parent / OTHER / "smoke"
    if other.exists():
        shutil.rmtree(other)
    other.mkdir(parents=True)
    for name in ("summary.csv", "claims.csv", "run.json"):
        shutil.copy(smoke_run / name, other / name)
    run = json.loads((other / "run.json").read_text())
    run["machine_id"] = OTHER
    run["machine"].update(cpu_model="Synthetic CPU", physical_cores=4, logical_cpus=8, usable_cpus=8)
    (other / "run.json").write_text(json.dumps(run))
    summary = pd.read_csv(other / "summary.csv")
    summary = summary[~((summary["experiment"] == "pi_python") & (summary["workers"] == 2))]
    summary.to_csv(other / "summary.csv", index=False)
    claims = pd.read_csv(other / "claims.csv")
    flipped = claims.index[0]
    claims.loc[flipped, "verdict"] = "not reproduced" if claims.loc[flipped, "verdict"] != "not reproduced" else "reproduced"
    claims.to_csv(other / "claims.csv", index=False)
    yield smoke_run, other, claims.loc[flipped, "claim"]
    shutil.rmtree(other.parent)


def test_only_points_every_machine_measured_are_compared(two_machines):
    mine, other, _ = two_machines
    runs = [compare.load_run(mine), compare.load_run(other)]
    shared, left_out = compare.shared_points(runs)
    assert not ((shared["experiment"] == "pi_python") & (shared["workers"] == 2)).any()
    assert all("pi_python" in point and "workers=2" in point for point in left_out["point"])
    # every point the other machine lost: the parallel methods at two workers, each once on interpreter main
    lost = runs[0].summary[(runs[0].summary["experiment"] == "pi_python") & (runs[0].summary["workers"] == 2)]
    assert len(left_out) == len(lost) > 0
    assert set(shared["machine_id"]) == {runs[0].machine_id, OTHER}


def test_a_claim_judged_differently_is_called_out(two_machines):
    mine, other, flipped = two_machines
    verdicts = compare.claim_verdicts([compare.load_run(mine), compare.load_run(other)]).set_index("claim")
    assert verdicts.loc[flipped, "differs"]
    assert not verdicts.drop(index=flipped)["differs"].any()


def test_workflow_builds_the_comparison_without_running_experiments(two_machines):
    mine, other, flipped = two_machines
    workdir = mine.parent.parent.parent
    done = run_snakemake(workdir, "compare", "--cores", "4", "--configfile", str(REPO / "config" / "smoke.yaml"))
    assert done.returncode == 0, done.stderr[-3000:]
    ran = {line.split()[-1].rstrip(":") for line in done.stderr.splitlines() if line.startswith(("rule ", "localrule "))}
    assert "run_experiment" not in ran
    html = (workdir / "results" / "_compare" / "smoke" / "compare.html").read_text()
    assert OTHER in html and mine.parent.name in html
    assert html.count("(verdicts differ)") == 1
    assert f'data-claim="{flipped}" class="differs"' in html
    assert (workdir / "results" / "_compare" / "smoke" / "compare.pdf").stat().st_size > 0


def _run(machine_id: str, fingerprint: str, cpus: int, medians: list[float], verdict: str) -> compare.MachineRun:
    """A run of two pure-Python π points (serial, and 2 processes) with one claim."""
    summary = pd.DataFrame({
        "experiment": "pi_python", "interpreter": "main", "start_method": "fork", "method": ["serial", "processes"],
        "workers": [1, 2], "samples": 1000, "median_seconds": medians, "ci_low": [m * 0.9 for m in medians],
        "ci_high": [m * 1.1 for m in medians], "speedup": [1.0, medians[0] / medians[1]],
    })
    claims = pd.DataFrame({"claim": ["processes-linear"], "statement": ["processes scale"], "measure": ["efficiency"],
                           "verdict": [verdict], "value": [0.9], "low": [0.8], "high": [1.0]})
    machine = {"usable_cpus": cpus, "physical_cores": 2, "logical_cpus": 2}
    return compare.MachineRun(machine_id, machine, summary, claims, fingerprint)


def test_each_shared_point_has_both_medians_and_their_ratio_with_an_interval_that_holds_both():
    runs = [_run("vm", "abc", 2, [2.0, 1.0], "reproduced"), _run("vm-1cpu", "abc", 1, [2.0, 2.0], NOT_APPLICABLE)]
    shared, _ = compare.shared_points(runs)
    ratios = compare.point_ratios(shared, runs).set_index("method")
    assert ratios.loc["processes", "median@vm"] == 1.0 and ratios.loc["processes", "median@vm-1cpu"] == 2.0
    assert ratios.loc["processes", "ratio@vm-1cpu"] == pytest.approx(2.0)
    assert ratios.loc["processes", "ratio_low@vm-1cpu"] == pytest.approx(1.8 / 1.1)
    assert ratios.loc["processes", "ratio_high@vm-1cpu"] == pytest.approx(2.2 / 0.9)


def test_runs_of_one_fingerprint_are_runs_not_machines():
    one = [_run("vm", "abc", 2, [2.0, 1.0], "reproduced"), _run("vm-1cpu", "abc", 1, [2.0, 2.0], "reproduced")]
    assert compare.what_differs(one) == "runs"
    assert compare.what_differs([one[0], _run("other", "def", 8, [1.0, 0.2], "reproduced")]) == "machines"


def test_a_claim_one_run_cannot_test_is_not_a_difference():
    runs = [_run("vm", "abc", 2, [2.0, 1.0], "reproduced"), _run("vm-1cpu", "abc", 1, [2.0, 2.0], NOT_APPLICABLE)]
    verdicts = compare.claim_verdicts(runs).set_index("claim")
    assert verdicts.loc["processes-linear", "vm-1cpu"] == NOT_APPLICABLE
    assert verdicts.loc["processes-linear", "value@vm"] == 0.9
    assert not verdicts["differs"].any()


def test_efficiency_is_set_against_the_usable_cpus():
    runs = [_run("vm", "abc", 2, [2.0, 1.0], "reproduced"), _run("vm-1cpu", "abc", 1, [2.0, 2.0], "reproduced")]
    shared, _ = compare.shared_points(runs)
    scaling = compare.normalised_scaling(shared, runs).set_index("machine_id")
    # two workers on one CPU can at best match the serial time: a speedup of 1 is all of that CPU
    assert scaling.loc["vm-1cpu", "workers_per_cpu"] == 2.0 and scaling.loc["vm-1cpu", "cpu_efficiency"] == 1.0
    assert scaling.loc["vm", "workers_per_cpu"] == 1.0 and scaling.loc["vm", "cpu_efficiency"] == 1.0


def test_each_machine_ranks_its_methods_at_its_own_cores():
    runs = [_run("vm", "abc", 2, [2.0, 1.0], "reproduced"), _run("vm-1cpu", "abc", 1, [2.0, 2.0], "reproduced")]
    shared, _ = compare.shared_points(runs)
    rankings = compare.rankings(shared, runs).set_index("machine_id")
    # one usable CPU: the two-worker point does not fit, and the serial method ranks alone
    assert rankings.loc["vm", "ranking"] == "process pool < serial" and rankings.loc["vm-1cpu", "ranking"] == "serial"
    assert rankings["differs"].all()


def test_a_method_ranks_by_the_total_of_its_points_at_its_widest_fitting_worker_count():
    points = pd.DataFrame({"method": ["a", "a", "b", "b", "b", "c"], "workers": [2, 2, 2, 2, 4, 2],
                           "median_seconds": [1.0, 3.0, 2.5, 2.5, 0.1, None]})
    ranked = rank_methods(points, 2)
    # b's four workers exceed the cores; c has a point without a time
    assert ranked.to_dict("list") == {"method": ["a", "b"], "workers": [2, 2], "median_seconds": [4.0, 5.0]}
