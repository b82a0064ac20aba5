"""Shared fixtures: the repository's paths, one real run of the smoke workflow, copies of the
checkout for tests that change it, and skips for missing prerequisites (failures under CI)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from experiments.spec import START_METHODS as KNOWN_START_METHODS

REPO = Path(__file__).resolve().parent.parent

#: The committed reference run (machine folder, run name), and its folder.
REFERENCE = ("amd-epyc-2cpu-db7325b1", "reference")
REFERENCE_RUN = REPO / "results" / REFERENCE[0] / REFERENCE[1]

#: The start methods this platform has, for tests that run under each.
START_METHODS = [name for name in KNOWN_START_METHODS if name in multiprocessing.get_all_start_methods()]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


#: Commands some test files need, with how to install them: without one, its files' tests are skipped.
PREREQUISITES = {
    "test_rendered_report.py": [
        (("chromium", "chromium-browser"), "Chromium: apt-get install chromium (tools/setup.sh does)"),
        (("pdftoppm",), "pdftoppm: apt-get install poppler-utils (tools/setup.sh does)"),
        (("pdfdetach",), "pdfdetach: apt-get install poppler-utils (tools/setup.sh does)"),
    ],
    "test_pdf.py": [
        (("pdfinfo",), "pdfinfo: apt-get install poppler-utils (tools/setup.sh does)"),
        (("pdftotext",), "pdftotext: apt-get install poppler-utils (tools/setup.sh does)"),
    ],
    "test_redis_server.py": [
        (("redis-server",), "redis-server: apt-get install redis-server (tools/setup.sh does)"),
    ],
}

#: What a copy of the checkout leaves out: what is built or run here, not sources.
NOT_COPIED = (".venv", ".interpreters", ".snakemake", "results", "build", ".pytest_cache", "__pycache__", "*.egg-info")


def run_snakemake(workdir: Path, *args: str, timeout: float = 600, checkout: Path = REPO) -> subprocess.CompletedProcess:
    """Run the real workflow of ``checkout`` in ``workdir`` (its own .snakemake and results folders)."""
    return subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(checkout / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_checkout(destination: Path) -> Path:
    """A copy of the checkout's sources (its .git too, for the provenance's commit) that a test may
    change; the venv and the built interpreters are linked, since the smoke grid runs them by path."""
    shutil.copytree(REPO, destination, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    for name in (".venv", ".interpreters"):
        if (REPO / name).exists():
            (destination / name).symlink_to(REPO / name)
    return destination


def missing_prerequisites(filename: str) -> list[str]:
    """How to install each command that the test file ``filename`` needs and this machine lacks."""
    return [install for commands, install in PREREQUISITES.get(filename, ())
            if not any(shutil.which(command) for command in commands)]


def runs_the_workflow(item) -> bool:
    """Whether a test runs the real workflow: through the smoke run, or by calling Snakemake itself."""
    called = getattr(getattr(item, "function", None), "__code__", None)
    return "smoke_run" in item.fixturenames or bool(called and {"run_snakemake", "SNAKEMAKE"} & set(called.co_names))


def pytest_collection_modifyitems(items) -> None:
    """Mark the tests that run the real workflow (``-m "not workflow"`` leaves them out), and skip
    those whose prerequisites are missing, saying how to install them."""
    for item in items:
        if runs_the_workflow(item):
            item.add_marker(pytest.mark.workflow)
        missing = missing_prerequisites(item.path.name)
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"missing {'; '.join(missing)}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true every test must run: a skip there is a failure, with the skip's reason."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"


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
