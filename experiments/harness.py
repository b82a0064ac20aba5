"""The one timing harness: every experiment's trials go through :func:`run_trials`.

A job measures all points of one experiment in interleaved rounds (all points
once, in a shuffled order, then all points again...), so that slow drift of the
machine (heat, other load) falls on every method alike. The first ``warmup``
rounds are recorded but flagged, so nothing measured is thrown away.

Per trial it records the wall time (``time.perf_counter``, the primary figure),
the CPU time of the whole process tree, the peak proportional and unique memory
(PSS, USS) of the tree, the answer and whether it was right, and the absolute
start and end times (from which tests check that no two trials overlap).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

import psutil

from experiments.cores import CoreSampler
from experiments.machine import default_start_method
from experiments.sampling import PeriodicSampler
from experiments.spec import Experiment, Point

#: Columns every raw trial row has, in order; an experiment's parameters and
#: extra measurements follow them.
TRIAL_COLUMNS = (
    "experiment",
    "start_method",
    "method",
    "workers",
    "round",
    "warmup",
    "repeat",
    "order",
    "seconds",
    "cpu_seconds",
    "peak_pss_bytes",
    "peak_uss_bytes",
    "peak_worker_uss_bytes",
    "memory_samples",
    "result",
    "correct",
    "error",
    "started_at",
    "ended_at",
)


# --- process-tree CPU time -------------------------------------------------------


def process_tree_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and its descendants.

    Counts this process and its threads, children it has already reaped
    (``os.times``), and the live descendants with the children they reaped. The
    difference of two readings is the tree's CPU time in between, including
    workers that started or ended between them, as long as ended workers were
    joined (as pools do when they close).
    """
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # ended between listing and reading
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


# --- process-tree memory -------------------------------------------------------------


def process_tree_memory() -> tuple[int, int, int]:
    """Total PSS and USS (bytes) of this process and its live descendants, and
    the largest USS of a single descendant (0 without descendants).

    PSS shares each shared page among the processes that map it, so summing it
    over the tree counts shared memory once; summed RSS would count it once per
    worker. A worker's USS is the memory only it maps: what it costs on its own.
    """
    pss = uss = largest_child_uss = 0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        pss += getattr(info, "pss", info.rss)
        uss += info.uss
        if process.pid != me.pid:
            largest_child_uss = max(largest_child_uss, info.uss)
    return pss, uss, largest_child_uss


class MemorySampler(PeriodicSampler):
    """Samples the tree's PSS and USS in a background thread; keeps the peaks
    (and the peak USS of the largest single worker).

    With ``interval`` None it samples nothing and the peaks stay None.
    """

    def __init__(self, interval: float | None = 0.2):
        super().__init__(interval)
        self.peak_pss: int | None = None
        self.peak_uss: int | None = None
        self.peak_worker_uss: int | None = None
        self.samples = 0

    def sample(self) -> None:
        pss, uss, worker_uss = process_tree_memory()
        self.peak_pss = max(self.peak_pss or 0, pss)
        self.peak_uss = max(self.peak_uss or 0, uss)
        self.peak_worker_uss = max(self.peak_worker_uss or 0, worker_uss)
        self.samples += 1


# --- trials --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """Where the harness reads time; tests swap in fake ones."""

    interval: Callable[[], float] = time.perf_counter
    wall: Callable[[], float] = time.time
    cpu: Callable[[], float] = process_tree_cpu_seconds


def answer_columns(answer: Any) -> dict[str, Any]:
    """Split a method's answer into the ``result`` column and extra columns."""
    if isinstance(answer, Mapping):
        return dict(answer)
    return {"result": answer}


def time_trial(
    experiment: Experiment,
    point: Point,
    *,
    start_method: str | None,
    resources: Mapping[str, Any],
    clocks: Clocks = Clocks(),
    memory_interval: float | None = 0.2,
    cores: CoreSampler | None = None,
) -> dict[str, Any]:
    """Run one point once and return its raw trial row (without round fields).

    An exception in the method is recorded as a failed trial (``correct`` False,
    ``error`` set) rather than raised, so one broken point never loses the
    others. ``cores``, when given, samples per-core utilisation during the call.
    """
    method = experiment.method(point.method)
    start_method = point.start_method or start_method
    kwargs = {"workers": point.workers, "start_method": start_method, **point.params, **resources}
    if method.setup is not None:
        method.setup(**kwargs)

    answer: Any = None
    error = ""
    cpu_before = clocks.cpu()
    with MemorySampler(memory_interval) as memory, cores or CoreSampler(None):
        started_at = clocks.wall()
        start = clocks.interval()
        try:
            answer = method.run(**kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure of the method is data
            error = f"{type(exc).__name__}: {exc}"
        seconds = clocks.interval() - start
        ended_at = clocks.wall()
    cpu_seconds = clocks.cpu() - cpu_before

    columns = answer_columns(answer) if not error else {"result": None}
    correct = False
    if not error:
        try:
            correct = bool(experiment.verify(point, answer))
        except Exception as exc:  # noqa: BLE001
            error = f"verification failed: {type(exc).__name__}: {exc}"
    return {
        "experiment": experiment.name,
        "start_method": start_method or default_start_method(),
        "method": point.method,
        "workers": point.workers,
        **point.params,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_pss_bytes": memory.peak_pss,
        "peak_uss_bytes": memory.peak_uss,
        "peak_worker_uss_bytes": memory.peak_worker_uss,
        "memory_samples": memory.samples,
        **columns,
        "correct": correct,
        "error": error,
        "started_at": started_at,
        "ended_at": ended_at,
    }


def round_orders(points: list[Point], rounds: int, *, shuffle: bool, seed: int = 0) -> Iterator[list[Point]]:
    """The order of points in each round: shuffled anew per round (seeded), or fixed."""
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(points)
        if shuffle:
            rng.shuffle(order)
        yield order


def run_trials(
    experiment: Experiment,
    settings: Mapping[str, Any],
    *,
    start_method: str | None,
    on_trial: Callable[[dict[str, Any]], None],
    on_core_samples: Callable[[list[dict[str, Any]]], None] = lambda samples: None,
    progress: TextIO = sys.stderr,
    clocks: Clocks = Clocks(),
    memory_interval: float | None = 0.2,
) -> int:
    """Measure every point of ``experiment`` in interleaved rounds.

    ``settings`` holds the experiment's validated settings, including
    ``repeats`` and ``warmup``. Each finished trial row is handed to
    ``on_trial`` at once (so a crash later loses nothing), and, for experiments
    that sample per-core utilisation, its samples to ``on_core_samples``.
    Returns the number of trials that were not correct.
    """
    points = experiment.points(settings)
    warmup, repeats = settings["warmup"], settings["repeats"]
    rounds = warmup + repeats
    failures = 0
    total = rounds * len(points)
    done = 0
    with experiment.session(settings) as resources:
        for round_index, order in enumerate(round_orders(points, rounds, shuffle=experiment.shuffle_rounds)):
            is_warmup = round_index < warmup
            for position, point in enumerate(order):
                cores = CoreSampler(experiment.core_interval)
                row = time_trial(
                    experiment,
                    point,
                    start_method=start_method,
                    resources=resources,
                    clocks=clocks,
                    memory_interval=memory_interval,
                    cores=cores,
                )
                row.update(
                    round=round_index,
                    warmup=is_warmup,
                    repeat=None if is_warmup else round_index - warmup,
                    order=position,
                )
                on_trial(row)
                if cores.samples:
                    trial = {"experiment": experiment.name, "method": point.method, "workers": point.workers,
                             "round": round_index, "order": position}
                    on_core_samples([{**trial, "seconds": t, "core": core, "percent": percent}
                                     for t, core, percent in cores.samples])
                done += 1
                method = experiment.method(point.method)
                if not row["correct"] and not method.known_wrong:
                    failures += 1
                mark = "ok" if row["correct"] else ("expected wrong" if method.known_wrong else "WRONG")
                phase = "warm-up" if is_warmup else f"repeat {round_index - warmup + 1}/{repeats}"
                detail = f" {row['error']}" if row["error"] else ""
                print(
                    f"[{experiment.name}] {done}/{total} {phase}: {point.method} workers={point.workers}"
                    f"{f' start_method={point.start_method}' if point.start_method else ''}"
                    f"{''.join(f' {name}={value}' for name, value in point.params.items())}"
                    f" {row['seconds']:.3f} s {mark}{detail}",
                    file=progress,
                    flush=True,
                )
    return failures
