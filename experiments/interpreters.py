"""The interpreter axis: running a job on another Python than the workflow's.

The grid may name extra Python executables (config key ``interpreters``), e.g.
a free-threaded CPython. Before a job runs on one, :func:`probe` asks it to
import everything the job imports and to describe itself; an interpreter that
is missing, fails or lacks a package is reported as :class:`Unusable`, and the
job records it as skipped instead of failing the workflow.

An interpreter of the grid is an executable, optionally with environment
variables it runs under (:class:`Interpreter`): the same free-threaded binary
is one interpreter with the GIL off and another with ``PYTHON_GIL=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from experiments.machine import REPO_ROOT

#: The name the grid gives the interpreter that runs the workflow.
MAIN = "main"

#: What the probe runs: the job's imports, then the interpreter's description.
PROBE = "import json, experiments.registry, experiments.machine as m; print(json.dumps(m.interpreter_info()))"


#: What a config file may give for an interpreter: an executable, or
#: ``{"executable": ..., "env": {NAME: VALUE, ...}}``. (typing.Union: this
#: module runs on Python 3.9, where ``str | Mapping`` cannot be evaluated.)
ConfigEntry = Union[str, Mapping[str, Any]]


class Unusable(Exception):
    """An interpreter that cannot run the experiments; the message says why, in one line."""


@dataclass(frozen=True)
class Interpreter:
    """An interpreter of the grid: an executable and the environment variables it runs under."""

    executable: str
    env: Mapping[str, str] = field(default_factory=dict)

    def job_arguments(self) -> list[str]:
        """The options of ``python -m experiments run`` that run a job on this interpreter."""
        return ["--python", self.executable, *(f"--python-env={name}={value}" for name, value in self.env.items())]


def from_config(entry: ConfigEntry, base: Path) -> Interpreter:
    """A config entry as an :class:`Interpreter`, a relative path taken from ``base``.

    An executable without a slash stays a command looked up on PATH when the job runs.
    """
    executable, env = (entry, {}) if isinstance(entry, str) else (entry["executable"], entry.get("env", {}))
    if "/" in executable and not Path(executable).is_absolute():
        executable = str(base / executable)
    return Interpreter(executable, {name: str(value) for name, value in env.items()})


def parse_env(assignments: Iterable[str]) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` (the job's ``--python-env`` options) as a mapping."""
    env = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not name or not equals:
            raise ValueError(f"an environment variable is given as NAME=VALUE, got {assignment!r}")
        env[name] = value
    return env


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a job on another interpreter: this checkout importable, no venv of
    ours, and the interpreter's own variables (``extra``) over what this process has."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra or {})
    return env


def probe(executable: str, timeout: float = 120, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Describe ``executable`` (a path or a command on PATH) run with the variables ``env``,
    or raise :class:`Unusable`."""
    path = shutil.which(executable)
    if path is None:
        raise Unusable(f"{executable} was not found")
    try:
        result = subprocess.run([path, "-c", PROBE], env=child_environment(env), capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unusable(f"{executable} did not start: {error}") from None
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise Unusable(f"{executable} cannot import the experiments: {lines[-1]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
