"""Nothing hangs, nothing leaks: real workers killed and stopped, real jobs interrupted by real signals.

Every scenario runs in a process of its own under a timeout, so a regression shows up as a failed
test, not as a test run that never ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from experiments.config import load_config
from experiments.owned import SHM, PREFIX
from tests.conftest import REPO

SCENARIOS = REPO / "tests" / "fault_scenarios.py"


def run_scenario(name: str) -> dict:
    done = subprocess.run([sys.executable, str(SCENARIOS), name], capture_output=True, text=True, timeout=90,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("scenario", "says"), [
    ("pool-sigkill", "was killed by SIGKILL"),
    ("pool-sigstop", "was stopped by SIGSTOP"),
    ("workers-sigkill", "was killed by SIGKILL"),
    ("workers-sigstop", "was stopped by SIGSTOP"),
])
def test_a_lost_worker_fails_its_trial_naming_the_worker_and_the_signal(scenario, says):
    outcome = run_scenario(scenario)
    assert not outcome["correct"]
    assert outcome["error"].startswith("WorkerLost: worker pid") and says in outcome["error"]
    assert outcome["left"] == []  # no process of the trial outlives it
    assert outcome["seconds"] < outcome["deadline"]  # told at once, not at the deadline


def test_a_hanging_trial_fails_at_its_deadline():
    outcome = run_scenario("pool-hang")
    assert outcome["error"].startswith("TrialTimeout: the trial passed its deadline of 3 s")
    assert outcome["left"] == []


def test_the_forkserver_serves_the_trials_after_a_hung_and_a_failed_one():
    outcome = run_scenario("forkserver-after-faults")
    assert outcome["hang"]["error"].startswith("TrialTimeout:")
    assert outcome["fail"]["error"] == "ValueError: the method failed after its pool had started"
    assert outcome["works"] == {"error": "", "correct": True}


def job_settings(experiment: str, section: dict) -> str:
    config = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    config["experiments"] = {experiment: section}
    config["interpreters"] = {}
    return json.dumps(load_config(config, logical_cpus=2)[experiment])


#: Jobs that hold a shared-memory segment and a private Redis server for many seconds.
LONG_JOBS = {
    "numpy_sharing": {"methods": ["shared_memory"], "workers": [2], "shapes": [[200, 1000]], "hold_seconds": 20,
                      "repeats": 1, "warmup": 0},
    "value_counter": {"methods": ["redis_incr"], "workers": [2], "increments": 400000, "repeats": 1, "warmup": 0},
}


def start_job(experiment: str, tmp_path: Path) -> subprocess.Popen:
    out = tmp_path / "raw"
    return subprocess.Popen(
        [sys.executable, "-m", "experiments", "run", experiment, "--settings", job_settings(experiment, LONG_JOBS[experiment]),
         "--output", str(out / "trials.csv"), "--provenance", str(out / "job.json"), "--cores", str(out / "cores.csv"),
         "--log", str(tmp_path / "job.log"), "--lock-folder", str(tmp_path)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def owned_by(pid: int) -> list[Path]:
    """The job's segments and folders that are still there."""
    places = [SHM, Path(os.environ.get("TMPDIR", "/tmp"))]
    return [path for place in places for path in place.glob(f"{PREFIX}*{pid}-*")]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("experiment", sorted(LONG_JOBS))
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_killed_job_leaves_no_worker_server_segment_or_folder(experiment, sig, tmp_path):
    job = start_job(experiment, tmp_path)
    parent = psutil.Process(job.pid)
    # wait until the trial runs: its workers (and the Redis server) are there, with their resources
    holds = (lambda: owned_by(job.pid)) if experiment == "numpy_sharing" else (
        lambda: any("redis-server" in p.name() for p in parent.children(recursive=True)))
    assert wait_for(lambda: job.poll() is None and holds() and len(parent.children(recursive=True)) >= 3, 60), \
        job.stderr.read() if job.poll() is not None else "the trial did not start"
    time.sleep(1.0)  # the sampler lists the job's processes twice a second
    family = parent.children(recursive=True)
    assert owned_by(job.pid)
    job.send_signal(sig)
    job.wait(timeout=60)
    assert wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family), 20), \
        [p.cmdline() for p in family if p.is_running()]
    assert wait_for(lambda: not owned_by(job.pid), 10), owned_by(job.pid)
    if sig != signal.SIGKILL:
        assert job.returncode in (130, 143)
        assert "interrupted" in job.stderr.read()


def test_a_full_disk_is_one_clear_line_and_the_trials_are_kept(tmp_path):
    settings = job_settings("value_counter", {"methods": ["get_lock"], "workers": [2], "increments": 100,
                                               "repeats": 2, "warmup": 0, "max_rounds": 2})
    out = tmp_path / "raw"
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "run", "value_counter", "--settings", settings,
         "--output", str(out / "trials.csv"), "--provenance", "/dev/full", "--cores", str(out / "cores.csv"),
         "--lock-folder", str(tmp_path)],  # writing /dev/full fails as a full disk does: ENOSPC
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "could not write /dev/full: No space left on device" in last and "partial.jsonl" in last
    kept = (out / "trials.partial.jsonl").read_text().splitlines()
    assert len(kept) == 2 and all(json.loads(line)["method"] == "get_lock" for line in kept)
