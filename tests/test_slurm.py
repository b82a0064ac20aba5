"""The smoke grid through Snakemake's SLURM executor plugin, on a real single-node SLURM.

The fixture starts munged, slurmctld and slurmd from Debian's packages by hand
(loopback addresses only, state in a temporary folder, no systemd), and stops
each by its process id afterwards, also when the test fails. The executor
plugin strips SLURM_CONF from job environments, so the configuration has to be
at the default path, /etc/slurm/slurm.conf; an existing one is put back
afterwards. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, SNAKEMAKE
from report.load import read_table

SLURM_CONF = Path("/etc/slurm/slurm.conf")
DAEMONS = ("munged", "slurmctld", "slurmd")


def _slurm_conf(state: Path) -> str:
    host = socket.gethostname().split(".")[0]
    return "\n".join([
        "# written by mp-report's tests/test_slurm.py; removed when the test ends",
        "ClusterName=mpreport",
        f"SlurmctldHost={host}(127.0.0.1)",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        f"StateSaveLocation={state}/ctld",
        f"SlurmdSpoolDir={state}/d",
        f"SlurmctldPidFile={state}/slurmctld.pid",
        f"SlurmdPidFile={state}/slurmd.pid",
        f"SlurmctldLogFile={state}/slurmctld.log",
        f"SlurmdLogFile={state}/slurmd.log",
        "ReturnToService=2",
        "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory=4000 State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def _wait_for(check, what: str, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {log}\n{log.read_text()[-2000:]}" for log in logs if log.exists())
    raise AssertionError(f"{what} not ready within {timeout:.0f} s\n{tails}")


def _munge_works() -> bool:
    encode = subprocess.run(["munge", "-n"], capture_output=True)
    return encode.returncode == 0 and subprocess.run(["unmunge"], input=encode.stdout, capture_output=True).returncode == 0


def _node_idle() -> bool:
    state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return state.returncode == 0 and state.stdout.strip() == "idle"


@pytest.fixture(scope="module")
def local_slurm(tmp_path_factory) -> Iterator[Path]:
    """A running single-node SLURM cluster; yields its state folder."""
    missing = [name for name in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if not shutil.which(name)
               and not Path("/usr/sbin", name).exists()]
    if missing:
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): run tools/setup.sh"
                    " (apt-get install slurmctld slurmd slurm-client munge)")
    if os.geteuid() != 0:
        pytest.skip("the SLURM test starts munged, slurmctld and slurmd, which needs root: run pytest as root")
    running = subprocess.run(["pgrep", "-x", "slurmctld|slurmd"], capture_output=True, text=True).stdout.split()
    if running:
        pytest.skip(f"slurmctld/slurmd already running (pids {running}): stop them before this test")

    state = tmp_path_factory.mktemp("slurm")
    for folder in ("ctld", "d"):
        (state / folder).mkdir()
    backup = SLURM_CONF.read_text() if SLURM_CONF.exists() else None
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(_slurm_conf(state))
    started: list[subprocess.Popen] = []
    try:
        if not _munge_works():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            started.append(subprocess.Popen(["munged", "--foreground", "--force"], stderr=subprocess.DEVNULL))
            _wait_for(_munge_works, "munged", 20, [])
        for daemon in ("slurmctld", "slurmd"):
            started.append(subprocess.Popen([daemon, "-D"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        _wait_for(_node_idle, "the SLURM node", 60, [state / "slurmctld.log", state / "slurmd.log"])
        yield state
    finally:
        subprocess.run(["scancel", "--full", "--user=root"], capture_output=True, timeout=30)
        for process in reversed(started):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if backup is None:
            SLURM_CONF.unlink(missing_ok=True)
        else:
            SLURM_CONF.write_text(backup)


def test_smoke_grid_runs_through_the_slurm_executor(local_slurm, tmp_path):
    command = [
        str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
        "--profile", str(REPO / "profiles" / "slurm"),
        "--configfile", str(REPO / "config" / "smoke.yaml"),
        # no accounting database here: ask squeue, or the plugin waits for sacct forever
        "--slurm-status-command", "squeue",
        "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # a hung snakemake stops on SIGINT, not SIGTERM
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"snakemake on SLURM did not finish within 7 minutes:\n{output[-4000:]}")
    assert process.returncode == 0, output[-4000:]

    (run_dir,) = (tmp_path / "results").glob("*/smoke")
    assert (run_dir / "report.html").stat().st_size > 0
    assert (run_dir / "report.pdf").stat().st_size > 0
    jobs = json.loads((run_dir / "run.json").read_text())["jobs"]
    for name, job in jobs.items():
        if job["skipped"]:  # the smoke grid's interpreter that does not exist
            assert name.endswith("@absent")
            continue
        assert job["slurm"].get("SLURM_JOB_ID"), f"{name} did not run as a SLURM job"
        assert job["failed_trials"] == 0
    trials = read_table(run_dir / "trials.csv")
    spans = sorted(zip(trials["started_at"], trials["ended_at"]))
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))
