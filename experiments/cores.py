"""Per-core CPU use of the measured process tree over the time of a trial, for
the heatmaps that show where CPU time goes (threads take turns on one core's
worth of work; processes fill the cores).

System-wide per-core figures (``psutil.cpu_percent``) would also count every
other process on the machine; instead each thread of the tree is followed in
``/proc``: the CPU time it used since the last sample is put on the core it last
ran on. The sampler process (:mod:`experiments.sampler`) calls this from
outside the measured tree, so a GIL-bound trial cannot starve it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

#: Columns of a job's per-core samples file (``raw/<experiment>.cores.csv``).
CORE_COLUMNS = ("experiment", "method", "workers", "round", "order", "seconds", "core", "percent")

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")

ThreadTicks = Dict[Tuple[int, int], Tuple[int, int]]


def thread_ticks(pids: Iterable[int]) -> ThreadTicks:
    """CPU ticks used so far and last core, for every thread of the given processes."""
    threads = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:  # ended since it was listed
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            # fields after "(comm)": utime and stime are fields 14 and 15 of stat, processor field 39
            fields = stat[stat.rindex(")") + 2:].split()
            threads[(pid, int(task.name))] = (int(fields[11]) + int(fields[12]), int(fields[36]))
    return threads


class CoreUse:
    """Turns successive :func:`thread_ticks` readings into ``(seconds, core, percent)`` samples:
    the share of the time since the previous reading that the tree's threads spent on each core."""

    def __init__(self, cores: int, ticks: ThreadTicks, now: float):
        self.cores = cores
        self.samples: List[Tuple[float, int, float]] = []
        self._start = self._previous_time = now
        self._previous = ticks

    def add(self, ticks: ThreadTicks, now: float) -> None:
        busy = [0] * self.cores
        for key, (used, core) in ticks.items():
            busy[core % self.cores] += used - self._previous.get(key, (0, core))[0]
        span = max(now - self._previous_time, 1e-9) * TICKS_PER_SECOND
        for core, used in enumerate(busy):
            self.samples.append((now - self._start, core, min(100.0, 100.0 * used / span)))
        self._previous, self._previous_time = ticks, now
