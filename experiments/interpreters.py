"""The interpreter axis: running a job on another Python than the workflow's.

The grid may name extra Python executables (config key ``interpreters``), e.g.
a free-threaded CPython. Before a job runs on one, :func:`probe` asks it to
import everything the job imports and to describe itself; an interpreter that
is missing, fails or lacks a package is reported as :class:`Unusable`, and the
job records it as skipped instead of failing the workflow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from experiments.machine import REPO_ROOT

#: The name the grid gives the interpreter that runs the workflow.
MAIN = "main"

#: What the probe runs: the job's imports, then the interpreter's description.
PROBE = "import json, experiments.registry, experiments.machine as m; print(json.dumps(m.interpreter_info()))"


class Unusable(Exception):
    """An interpreter that cannot run the experiments; the message says why, in one line."""


def child_environment() -> dict[str, str]:
    """The environment of a job on another interpreter: this checkout importable, no venv of ours."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def probe(executable: str, timeout: float = 120) -> dict[str, Any]:
    """Describe ``executable`` (a path or a command on PATH), or raise :class:`Unusable`."""
    path = shutil.which(executable)
    if path is None:
        raise Unusable(f"{executable} was not found")
    try:
        result = subprocess.run([path, "-c", PROBE], env=child_environment(), capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unusable(f"{executable} did not start: {error}") from None
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise Unusable(f"{executable} cannot import the experiments: {lines[-1]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
