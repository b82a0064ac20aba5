"""The sampler: a process beside the measured tree that samples its memory and per-core CPU use,
and cleans up after the job if the job is killed.

A sampler thread inside the measuring process would compete with a GIL-bound
trial (a thread pool of pure Python starves it for whole seconds); a separate
process does not. The job starts it (:class:`Sampler`), and leaves its pid out
of the tree's CPU time and memory. Between trials it only lists the job's
descendants twice a second, so that if the job dies (SIGKILL, out of memory),
which the kernel tells it with SIGTERM (``PR_SET_PDEATHSIG``), it can kill the
workers the job left behind and remove the job's segments and folders
(:mod:`experiments.owned`).

Protocol: one JSON object per line on stdin (``begin``, ``end``, ``quit``), one
reply per line on stdout.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import psutil

from experiments.cores import CoreUse, thread_ticks
from experiments.owned import remove_leftovers

#: Seconds between listings of the job's descendants outside trials.
SCAN_SECONDS = 0.5

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class TreeWatch:
    """The job's descendants (without this sampler), remembered by pid and start time."""

    def __init__(self, job: int):
        self.job = psutil.Process(job)
        self.known: Dict[int, float] = {}

    def members(self) -> List[psutil.Process]:
        try:
            children = self.job.children(recursive=True)
        except psutil.Error:
            return []
        children = [child for child in children if child.pid != os.getpid()]
        for child in children:
            try:
                self.known[child.pid] = child.create_time()
            except psutil.Error:
                continue
        return [self.job, *children]

    def kill_known(self) -> None:
        """SIGKILL every descendant seen, unless its pid now belongs to another process."""
        for pid, started in self.known.items():
            try:
                process = psutil.Process(pid)
                if process.create_time() == started:
                    process.kill()
            except psutil.Error:
                continue


def memory(members: List[psutil.Process], job: int) -> tuple:
    """Total PSS and USS of the tree, and the largest USS of one descendant.

    PSS shares each shared page among the processes that map it, so summing it
    counts shared memory once; summed RSS would count it once per worker.
    """
    pss = uss = largest = 0
    for process in members:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        pss += getattr(info, "pss", info.rss)
        uss += info.uss
        if process.pid != job:
            largest = max(largest, info.uss)
    return pss, uss, largest


class Trial:
    """What is sampled during one trial."""

    def __init__(self, watch: TreeWatch, memory_interval: Optional[float], core_interval: Optional[float]):
        self.watch, self.memory_interval, self.core_interval = watch, memory_interval, core_interval
        self.peaks = [None, None, None]
        self.samples = 0
        members, now = watch.members(), time.perf_counter()
        self.cores = CoreUse(psutil.cpu_count() or 1, thread_ticks(p.pid for p in members), now) if core_interval else None
        self.next_memory = self.next_cores = now
        self.sample(members, now)

    def sample(self, members: List[psutil.Process], now: float) -> None:
        if self.memory_interval and now >= self.next_memory:
            values = memory(members, self.watch.job.pid)
            self.peaks = [max(old or 0, new) for old, new in zip(self.peaks, values)]
            self.samples += 1
            self.next_memory = now + self.memory_interval
        if self.cores and now >= self.next_cores and now > self.cores._previous_time:
            self.cores.add(thread_ticks(p.pid for p in members), now)
            self.next_cores = now + self.core_interval

    def due(self) -> float:
        times = [t for t, on in ((self.next_memory, self.memory_interval), (self.next_cores, self.cores)) if on]
        return min(times) if times else time.perf_counter() + SCAN_SECONDS

    def result(self) -> Dict[str, Any]:
        members, now = self.watch.members(), time.perf_counter()
        self.next_memory = self.next_cores = now  # the tail since the last sample: a short trial still gets one
        self.sample(members, now)
        pss, uss, worker = self.peaks
        return {"peak_pss_bytes": pss, "peak_uss_bytes": uss, "peak_worker_uss_bytes": worker,
                "memory_samples": self.samples, "core_samples": self.cores.samples if self.cores else []}


def serve(job: int) -> int:
    """The sampler's main loop (this process's parent is the job)."""
    watch = TreeWatch(job)

    def job_died(*_: object) -> None:
        watch.kill_known()
        remove_leftovers(job)
        os._exit(0)

    signal.signal(signal.SIGTERM, job_died)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the job's to handle
    die_with_parent()
    if os.getppid() != job:  # the job died before the kernel could be asked
        job_died()
    trial: Optional[Trial] = None
    while True:
        wait = max(0.0, (trial.due() if trial else time.perf_counter() + SCAN_SECONDS) - time.perf_counter())
        ready, _, _ = select.select([sys.stdin], [], [], wait)
        if not ready:
            members = watch.members()
            if trial:
                trial.sample(members, time.perf_counter())
            continue
        line = sys.stdin.readline()
        if not line:  # the job closed its end: it ended, or died
            if not psutil.pid_exists(job) or os.getppid() != job:
                job_died()
            return 0
        command = json.loads(line)
        if command["command"] == "begin":
            trial = Trial(watch, command.get("memory_interval"), command.get("core_interval"))
            reply: Dict[str, Any] = {"ok": True}
        elif command["command"] == "end":
            reply = trial.result() if trial else {}
            trial = None
        else:
            return 0
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


class SamplerFailed(RuntimeError):
    """The sampler process died or did not answer."""


class Sampler:
    """The job's side: starts the sampler process and asks it for each trial's samples."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self.process = subprocess.Popen([sys.executable, "-m", "experiments.sampler", str(os.getpid())],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.pid = self.process.pid

    def _ask(self, command: Dict[str, Any]) -> Dict[str, Any]:
        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
        except OSError as error:
            raise SamplerFailed(f"the sampler process (pid {self.pid}) is gone: {error}") from None
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise SamplerFailed(f"the sampler process (pid {self.pid}) did not answer"
                                f" (exit code {self.process.poll()})")
        return json.loads(line)

    def begin(self, memory_interval: Optional[float], core_interval: Optional[float]) -> None:
        self._ask({"command": "begin", "memory_interval": memory_interval, "core_interval": core_interval})

    def end(self) -> Dict[str, Any]:
        return self._ask({"command": "end"})

    def cpu_seconds(self) -> float:
        """CPU time the sampler used so far: not the measured tree's, and not foreign load either."""
        try:
            times = psutil.Process(self.pid).cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    def close(self) -> None:
        try:
            self.process.stdin.write(json.dumps({"command": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Sampler":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
