"""The cross-machine report over this machine's smoke run and a synthetic second machine."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from conftest import REPO, run_snakemake
from report import compare

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
    assert len(left_out) == 3  # threads, processes and joblib at two workers
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
