"""Per-core CPU use of the measured process tree over the time of a trial, for
the heatmaps that show where CPU time goes (threads take turns on one core's
worth of work; processes fill the cores).

System-wide per-core figures (``psutil.cpu_percent``) would also count every
other process on the machine; instead each thread of the tree is followed in
``/proc``: the CPU time it used since the last sample is put on the core it last
ran on.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil

from experiments.sampling import PeriodicSampler

#: Columns of a job's per-core samples file (``raw/<experiment>.cores.csv``).
CORE_COLUMNS = ("experiment", "method", "workers", "round", "order", "seconds", "core", "percent")

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def tree_thread_ticks() -> dict[tuple[int, int], tuple[int, int]]:
    """CPU ticks used so far and last core, for every thread of this process and its descendants."""
    me = psutil.Process()
    threads = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            tasks = list(Path(f"/proc/{process.pid}/task").iterdir())
        except OSError:  # ended since it was listed
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            # fields after "(comm)": utime and stime are fields 14 and 15 of stat, processor field 39
            fields = stat[stat.rindex(")") + 2:].split()
            threads[(process.pid, int(task.name))] = (int(fields[11]) + int(fields[12]), int(fields[36]))
    return threads


class CoreSampler(PeriodicSampler):
    """Samples the process tree's use of each core in a background thread.

    ``samples`` holds ``(seconds since start, core, percent)``: the share of the
    time since the previous sample that the tree's threads spent on that core.
    With ``interval`` None it samples nothing.
    """

    def __init__(self, interval: float | None = 0.1):
        super().__init__(interval)
        self.cores = psutil.cpu_count(logical=True) or 1
        self.samples: list[tuple[float, int, float]] = []
        self._start = self._previous_time = 0.0
        self._previous: dict[tuple[int, int], tuple[int, int]] = {}

    def begin(self) -> None:
        self._previous, self._previous_time = tree_thread_ticks(), time.perf_counter()
        self._start = self._previous_time

    def sample(self) -> None:
        current, now = tree_thread_ticks(), time.perf_counter()
        busy = [0] * self.cores
        for key, (ticks, core) in current.items():
            busy[core % self.cores] += ticks - self._previous.get(key, (0, core))[0]
        span = max(now - self._previous_time, 1e-9) * TICKS_PER_SECOND
        for core, ticks in enumerate(busy):
            self.samples.append((now - self._start, core, min(100.0, 100.0 * ticks / span)))
        self._previous, self._previous_time = current, now
