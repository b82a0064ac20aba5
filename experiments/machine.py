"""Provenance: what machine, software and code produced a result.

:func:`collect_machine_info` describes the hardware and OS, :func:`machine_id`
turns that into the folder name results are kept under, and
:func:`collect_provenance` adds everything about one job (interpreter, package
versions, start method, thread variables, git commit).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import sysconfig
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

#: Packages whose versions are recorded with every result.
RECORDED_PACKAGES = ("numpy", "pandas", "matplotlib", "jinja2", "joblib", "psutil", "snakemake", "weasyprint")

#: Thread-count variables of BLAS/OpenMP libraries; set for timed jobs and recorded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

REPO_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU's marketing name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_name() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError, AttributeError):  # AttributeError: Python 3.9 (PyPy) has no freedesktop_os_release
        return f"{platform.system()} {platform.release()}"


def usable_cpus() -> int:
    """CPUs this process may run on (less than the machine's under an affinity mask or a batch scheduler)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def collect_machine_info() -> dict[str, Any]:
    """The facts that identify a machine for benchmarking purposes."""
    return {
        "cpu_model": cpu_model(),
        "architecture": platform.machine(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cpus": psutil.cpu_count(logical=True),
        "usable_cpus": usable_cpus(),
        "memory_bytes": psutil.virtual_memory().total,
        "os": os_name(),
        "kernel": platform.release(),
        "python_implementation": platform.python_implementation(),
        "python_version": platform.python_version(),
    }


#: The fields of :func:`collect_machine_info` that make two machines different
#: for benchmarking (the kernel release is left out: it changes with updates).
FINGERPRINT_FIELDS = (
    "cpu_model",
    "architecture",
    "physical_cores",
    "logical_cpus",
    "memory_gib",
    "os",
    "python_implementation",
    "python_version",
)


def machine_id(info: dict[str, Any] | None = None) -> str:
    """A readable, stable folder name for this machine: CPU, cores and a fingerprint.

    The fingerprint hashes :data:`FINGERPRINT_FIELDS`, so two machines that
    differ in any of them (memory, OS, Python...) never share a results folder.
    """
    info = info or collect_machine_info()
    facts = {**info, "memory_gib": round(info["memory_bytes"] / 2**30)}
    fingerprint = hashlib.sha256(repr([facts[name] for name in FINGERPRINT_FIELDS]).encode()).hexdigest()[:8]
    cpu = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*$", "", info["cpu_model"], flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")[:32].strip("-") or "cpu"
    return f"{slug}-{info['logical_cpus']}cpu-{fingerprint}"


def git_commit() -> dict[str, Any]:
    """The commit the code ran from, and whether its code had changes: results/ is output, not code
    (remaking a committed run replaces its files), so its changes do not count."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no",
                                                                     "--", ".", ":(exclude)results"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def default_start_method() -> str:
    """The start method ``multiprocessing.get_context()`` picks when given none."""
    # the first of get_all_start_methods() is the platform's default
    return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]


def interpreter_info() -> dict[str, Any]:
    """This Python: implementation, version, build, whether it runs with the GIL, and
    which interpreters module it has for subinterpreters."""
    from experiments.subinterpreters import interpreters_module

    return {
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "build": " ".join(platform.python_build()),
        # a free-threaded build (configure --disable-gil) can still turn the GIL on, e.g. PYTHON_GIL=1
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
        # how the GIL was asked for: "1" on, "0" off, None the build's own default
        "python_gil": os.environ.get("PYTHON_GIL"),
        # what the subinterpreters methods run on; None where they are skipped
        "interpreters_module": interpreters_module(),
    }


def collect_provenance(start_method: str | None, interpreter: str = "main", run_machine_id: str | None = None) -> dict[str, Any]:
    """Everything about the environment one job ran in.

    ``interpreter`` is the grid's name for this Python ("main": the one that runs
    the workflow); ``run_machine_id`` is the machine id the workflow's interpreter
    computed, given when the job runs on another interpreter (whose Python would
    change the fingerprint).
    """
    return {
        "machine": collect_machine_info(),
        "machine_id": run_machine_id or machine_id(),
        "interpreter": {"name": interpreter, **interpreter_info()},
        "packages": package_versions(),
        "start_method": start_method or default_start_method(),
        "start_method_configured": start_method,
        "thread_variables": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "git": git_commit(),
        "host": platform.node(),
        # set when the job runs under SLURM (the cluster profile)
        "slurm": {name: os.environ[name] for name in ("SLURM_JOB_ID", "SLURMD_NODENAME", "SLURM_CPUS_ON_NODE") if name in os.environ},
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
