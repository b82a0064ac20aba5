"""The interpreter axis: probing another Python, and a job that cannot run on it."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from experiments.harness import TRIAL_COLUMNS
from experiments.interpreters import Unusable, probe


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A real Python without the experiments' packages: a fresh venv of this one."""
    folder = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python")


def test_probe_describes_a_python_that_can_run_the_experiments():
    info = probe(sys.executable)
    assert info["version"] == platform.python_version()
    assert info["implementation"] == platform.python_implementation()
    assert info["gil_enabled"] is getattr(sys, "_is_gil_enabled", lambda: True)()


def test_probe_refuses_a_missing_interpreter():
    with pytest.raises(Unusable, match="no-such-python3.99 was not found"):
        probe("no-such-python3.99")


def test_probe_names_the_package_a_python_lacks(bare_python):
    with pytest.raises(Unusable, match=r"cannot import the experiments: ModuleNotFoundError: No module named '\w+'"):
        probe(bare_python)


def test_a_job_on_a_python_that_lacks_packages_is_recorded_as_skipped(bare_python, tmp_path):
    outputs = {name: tmp_path / f"job.{name}" for name in ("csv", "json", "cores.csv", "log")}
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "run", "pi_python", "--settings", json.dumps({"samples": 1000}),
         "--output", str(outputs["csv"]), "--provenance", str(outputs["json"]), "--cores", str(outputs["cores.csv"]),
         "--log", str(outputs["log"]), "--lock", str(tmp_path / "lock"), "--interpreter", "bare", "--python", bare_python],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert outputs["csv"].read_text().splitlines() == [",".join(TRIAL_COLUMNS)]
    provenance = json.loads(outputs["json"].read_text())
    assert provenance["interpreter"] == {"name": "bare", "executable": bare_python}
    assert "No module named" in provenance["skipped"] and provenance["trials"] == 0
    assert "skipped on interpreter bare" in outputs["log"].read_text()
