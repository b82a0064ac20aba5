"""Load from outside the measured tree, per trial: other processes, and the hypervisor's steal.

``/proc/stat`` counts the CPU time of the whole machine. Over a trial, its busy
time minus the measured tree's CPU time (and the sampler's) is what something
else ran: ``foreign_cpu_seconds``. Steal time is what the hypervisor gave other
guests while this one wanted to run. A trial is ``disturbed`` when either is
more than a share of the trial's CPU capacity (wall time × usable CPUs): such a
trial is kept in the raw data, left out of the statistics, and measured again.
"""

from __future__ import annotations

import os
from typing import Mapping, NamedTuple, Tuple

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


class MachineTicks(NamedTuple):
    """The machine's CPU time so far, in seconds: busy (not idle, not waiting for I/O) and stolen."""

    busy: float
    steal: float


def machine_ticks(path: str = "/proc/stat") -> MachineTicks:
    """Read the aggregate ``cpu`` line of /proc/stat (zeros where there is none)."""
    try:
        with open(path) as stream:
            fields = stream.readline().split()
    except OSError:
        return MachineTicks(0.0, 0.0)
    if not fields or fields[0] != "cpu":
        return MachineTicks(0.0, 0.0)
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    values = [int(value) for value in fields[1:9]] + [0] * max(0, 9 - len(fields))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return MachineTicks((user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal / TICKS_PER_SECOND)


def disturbance(before: MachineTicks, after: MachineTicks, own_cpu_seconds: float) -> Tuple[float, float]:
    """Foreign CPU seconds and steal seconds between two readings, given the CPU time that was ours."""
    foreign = max(0.0, after.busy - before.busy - own_cpu_seconds)
    return foreign, max(0.0, after.steal - before.steal)


def is_disturbed(foreign: float, steal: float, *, seconds: float, cpus: int, limits: Mapping[str, float]) -> bool:
    """Whether outside load took more than its allowed share of the trial's CPU capacity.

    ``limits`` holds ``max_foreign_share`` and ``min_foreign_seconds`` (a floor:
    /proc/stat counts in ticks of 10 ms, so a short trial cannot tell less apart).
    """
    allowed = max(limits["max_foreign_share"] * seconds * cpus, limits["min_foreign_seconds"])
    return foreign > allowed or steal > allowed
