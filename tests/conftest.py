"""Shared fixtures: the repository's paths and one real run of the smoke workflow."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from experiments.spec import START_METHODS as KNOWN_START_METHODS

REPO = Path(__file__).resolve().parent.parent

#: The start methods this platform has, for tests that run under each.
START_METHODS = [name for name in KNOWN_START_METHODS if name in multiprocessing.get_all_start_methods()]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def run_snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real workflow in ``workdir`` (its own .snakemake and results folders)."""
    return subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def smoke_config() -> dict:
    return yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The run folder of one real ``snakemake --cores 4`` on config/smoke.yaml."""
    workdir = tmp_path_factory.mktemp("smoke")
    done = run_snakemake(workdir, "--cores", "4", "--configfile", str(REPO / "config" / "smoke.yaml"))
    assert done.returncode == 0, done.stderr[-5000:]
    (run_dir,) = (workdir / "results").glob("*/smoke")
    return run_dir


@pytest.fixture(scope="session")
def smoke_trials(smoke_run):
    from report.load import read_table

    return read_table(smoke_run / "trials.csv")


@pytest.fixture(scope="session")
def smoke_provenance(smoke_run) -> dict:
    return json.loads((smoke_run / "run.json").read_text())
