"""The one timing harness: every experiment's trials go through :func:`run_trials`.

A job measures all points of one experiment in interleaved rounds (all points
once, in a shuffled order, then all points again...), so that slow drift of the
machine falls on every method alike, and ratios can be paired by round. The
first ``warmup`` rounds are recorded but flagged. After the minimum ``repeats``
rounds, further rounds measure only the points whose interval of the median is
still wider than ``precision`` (with the baselines they are compared with),
until all are precise, the time budget is spent, or ``max_rounds`` is reached
(:class:`RoundPlan`).

Per trial it records the wall time (``time.perf_counter``, the primary figure),
the CPU time of the whole process tree, its peak PSS and USS (sampled from
outside by :mod:`experiments.sampler`), the load from outside the tree
(:mod:`experiments.disturbance`; a disturbed trial is measured again), the
answer and whether it was right, the trial's deadline, and the absolute start
and end times (from which tests check that no two trials overlap). A trial that
passes its deadline, or whose worker is killed or stopped, fails with the
reason (:mod:`experiments.faults`); nothing it started outlives it.
"""

from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, TextIO, Tuple

import psutil

from experiments.disturbance import MachineTicks, disturbance, is_disturbed, machine_ticks
from experiments.faults import guarded, kill_descendants, kill_trial_processes
from experiments.intervals import median_interval
from experiments.machine import default_start_method, usable_cpus
from experiments.sampler import Sampler
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
    "foreign_cpu_seconds",
    "steal_seconds",
    "disturbed",
    "deadline_seconds",
    "result",
    "correct",
    "error",
    "started_at",
    "ended_at",
)

#: Disturbance limits when the settings give none (the config's defaults).
DEFAULT_DISTURBANCE = {"max_foreign_share": 0.1, "min_foreign_seconds": 0.05, "max_remeasures": 3}

#: Seconds to let outside load pass before a disturbed trial is measured again.
REMEASURE_PAUSE = 0.5

#: Deadline of a job's first trial, when nothing is known yet about how long trials take.
FIRST_TRIAL_DEADLINE = 600.0


def process_tree_cpu_seconds(exclude: Tuple[int, ...] = ()) -> float:
    """CPU seconds (user + system) used so far by this process and its descendants.

    Counts this process and its threads, children it has already reaped
    (``os.times``), and the live descendants with the children they reaped,
    except the processes in ``exclude`` (the sampler). The difference of two
    readings is the tree's CPU time in between, including workers that started
    or ended between them, as long as ended workers were joined (as pools do).
    """
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    for child in psutil.Process().children(recursive=True):
        if child.pid in exclude:
            continue
        try:
            times = child.cpu_times()
        except psutil.Error:  # ended between listing and reading
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


# --- trials --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """Where the harness reads time and load; tests swap in fake ones."""

    interval: Callable[[], float] = time.perf_counter
    wall: Callable[[], float] = time.time
    cpu: Callable[[Tuple[int, ...]], float] = process_tree_cpu_seconds
    machine: Callable[[], MachineTicks] = machine_ticks


def answer_columns(answer: Any, taken: Tuple[str, ...]) -> Dict[str, Any]:
    """Split a method's answer into the ``result`` column and extra columns.

    Raises ValueError when an extra column would overwrite one the harness or
    the point already fills (``workers``, a parameter...): a bug of the method.
    """
    if not isinstance(answer, Mapping):
        return {"result": answer}
    clashes = sorted(set(answer) & set(taken))
    if clashes:
        raise ValueError(f"the method's answer would overwrite the column(s) {', '.join(clashes)}")
    return dict(answer)


@dataclass
class TrialContext:
    """What every trial of a job shares: resources of the session, the sampler, limits."""

    resources: Mapping[str, Any] = field(default_factory=dict)
    start_method: Optional[str] = None
    clocks: Clocks = Clocks()
    sampler: Optional[Sampler] = None
    memory_interval: Optional[float] = 0.2
    spare: Tuple[int, ...] = ()
    cpus: int = 1
    limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DISTURBANCE))


def time_trial(experiment: Experiment, point: Point, context: TrialContext, *,
               deadline: float = FIRST_TRIAL_DEADLINE) -> Tuple[Dict[str, Any], List[tuple]]:
    """Run one point once; return its raw trial row (without round fields) and its per-core samples.

    An exception in the method, a passed deadline or a lost worker is recorded
    as a failed trial (``correct`` False, ``error`` set) rather than raised, so
    one broken point never loses the others.
    """
    method = experiment.method(point.method)
    start_method = point.start_method or context.start_method
    kwargs = {"workers": point.workers, "start_method": start_method, **point.params, **context.resources}
    if method.setup is not None:
        method.setup(**kwargs)
    sampler, clocks = context.sampler, context.clocks
    exclude = (sampler.pid,) if sampler else ()
    if sampler:
        sampler.begin(context.memory_interval, experiment.core_interval)
    answer: Any = None
    error = ""
    own_before, machine_before = clocks.cpu(exclude), clocks.machine()
    sampler_before = sampler.cpu_seconds() if sampler else 0.0
    started_at = clocks.wall()
    start = clocks.interval()
    try:
        with guarded(deadline, spare=context.spare):
            answer = method.run(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure of the method is data
        kill_trial_processes(context.spare)  # what a pool started again while it was being killed, too
        error = f"{type(exc).__name__}: {exc}"
    seconds = clocks.interval() - start
    ended_at = clocks.wall()
    cpu_seconds = max(0.0, clocks.cpu(exclude) - own_before)  # equal readings can differ by a rounding error
    sampler_cpu = (sampler.cpu_seconds() - sampler_before) if sampler else 0.0
    foreign, steal = disturbance(machine_before, clocks.machine(), cpu_seconds + sampler_cpu)
    samples = sampler.end() if sampler else {}
    core_samples = samples.pop("core_samples", [])

    row: Dict[str, Any] = {"experiment": experiment.name, "start_method": start_method or default_start_method(),
                           "method": point.method, "workers": point.workers, **point.params}
    row.update(seconds=seconds, cpu_seconds=cpu_seconds,
               peak_pss_bytes=samples.get("peak_pss_bytes"), peak_uss_bytes=samples.get("peak_uss_bytes"),
               peak_worker_uss_bytes=samples.get("peak_worker_uss_bytes"),
               memory_samples=samples.get("memory_samples", 0), foreign_cpu_seconds=foreign, steal_seconds=steal,
               disturbed=is_disturbed(foreign, steal, seconds=seconds, cpus=context.cpus, limits=context.limits),
               deadline_seconds=deadline)
    correct = False
    columns: Dict[str, Any] = {"result": None}
    if not error:
        columns = answer_columns(answer, tuple(name for name in (*TRIAL_COLUMNS, *row) if name != "result"))
        try:
            correct = bool(experiment.verify(point, answer))
        except Exception as exc:  # noqa: BLE001
            error = f"verification failed: {type(exc).__name__}: {exc}"
    row.update(columns)
    row.update(correct=correct, error=error, started_at=started_at, ended_at=ended_at)
    return row, core_samples


# --- rounds --------------------------------------------------------------------------


class RoundPlan:
    """Which points each round measures, and when to stop.

    Warm-up rounds and the minimum ``repeats`` rounds measure every point; each
    further round measures the points whose interval is still wider than
    ``precision``, with the baseline points their speedups compare with, in a
    shuffled order. ``stop_reason`` says why the rounds ended.
    """

    def __init__(self, experiment: Experiment, points: List[Point], settings: Mapping[str, Any], clocks: Clocks):
        self.experiment, self.points, self.clocks = experiment, points, clocks
        self.warmup, self.repeats = settings["warmup"], settings["repeats"]
        self.max_rounds = max(settings.get("max_rounds", self.repeats), self.repeats)
        self.precision = settings.get("precision", 0.03)
        self.confidence = settings.get("confidence", 0.95)
        self.budget = settings.get("time_budget_seconds", float("inf"))
        self.timeout = settings.get("trial_timeout_seconds")
        self.rng = random.Random(0)
        # by describe(point): points hold their parameters in a dict, so they do not hash
        self.times: Dict[str, List[float]] = {describe(point): [] for point in points}
        self.durations: Dict[str, List[float]] = {describe(point): [] for point in points}
        self.answered: Dict[str, int] = {describe(point): 0 for point in points}
        self.stop_reason = ""
        self.rounds = 0

    def record(self, point: Point, row: Mapping[str, Any]) -> None:
        if not row["error"]:
            self.durations[describe(point)].append(row["seconds"])
        if not row["warmup"] and row["correct"]:
            self.answered[describe(point)] += 1
        if not row["warmup"] and row["correct"] and not row["disturbed"]:
            self.times[describe(point)].append(row["seconds"])

    def deadline(self, point: Point) -> float:
        """The config's trial timeout, or ten times the point's longest good trial (twenty times
        the job's, for a point not yet measured), never under a minute."""
        if self.timeout:
            return float(self.timeout)
        own = self.durations[describe(point)]
        if own:
            return max(60.0, 10 * max(own))
        seen = [seconds for durations in self.durations.values() for seconds in durations]
        return max(60.0, 20 * max(seconds for seconds in seen)) if seen else FIRST_TRIAL_DEADLINE

    def converged(self, point: Point) -> bool:
        """Whether the point's interval reaches the confidence level and lies within ``precision``."""
        interval = median_interval(self.times[describe(point)], self.confidence)
        return interval.level >= self.confidence and interval.relative_half_width <= self.precision

    def pending(self) -> List[Point]:
        """Points still too imprecise, those whose every trial was disturbed included; a point that never
        answered right (it fails, or is wrong by design) is not pending: more rounds would not help it."""
        return [point for point in self.points if self.answered[describe(point)] and not self.converged(point)
                and not self.experiment.method(point.method).known_wrong]

    def with_baselines(self, points: List[Point]) -> List[Point]:
        baseline = self.experiment.baseline
        if baseline is None:
            return points
        method = self.experiment.method(baseline)
        wanted = {describe(point) for point in points}
        for point in points:
            workers = point.workers if method.parallel else 1
            start = point.start_method if method.uses_start_method else None
            wanted.update(describe(p) for p in self.points if p.method == baseline and p.workers == workers
                          and p.start_method == start and dict(p.params) == dict(point.params))
        return [point for point in self.points if describe(point) in wanted]

    def rounds_of(self, started: float) -> Iterator[Tuple[bool, List[Point]]]:
        """(is warm-up, points in order) for each round, until the plan stops."""
        while True:
            if self.rounds < self.warmup + self.repeats:
                todo = list(self.points)
            else:
                pending = self.pending()
                if not pending:
                    self.stop_reason = "every point met the precision target"
                elif self.rounds - self.warmup >= self.max_rounds:
                    self.stop_reason = f"max_rounds ({self.max_rounds}) reached"
                elif self.clocks.interval() - started >= self.budget:
                    self.stop_reason = f"time budget ({self.budget:g} s) spent"
                if self.stop_reason:
                    return
                todo = self.with_baselines(pending)
            if self.experiment.shuffle_rounds:
                self.rng.shuffle(todo)
            yield self.rounds < self.warmup, todo
            self.rounds += 1

    def unconverged(self) -> List[Point]:
        return [point for point in self.points if not self.converged(point)
                and not self.experiment.method(point.method).known_wrong]


@dataclass
class JobOutcome:
    """How a job's rounds ended."""

    failures: int
    rounds: int
    stop_reason: str
    unconverged: List[str]
    disturbed: int


def describe(point: Point) -> str:
    """A point as progress lines and provenance name it."""
    start = f" start_method={point.start_method}" if point.start_method else ""
    params = "".join(f" {name}={value}" for name, value in point.params.items())
    return f"{point.method} workers={point.workers}{start}{params}"


def run_trials(
    experiment: Experiment,
    settings: Mapping[str, Any],
    *,
    start_method: Optional[str],
    on_trial: Callable[[Dict[str, Any]], None],
    on_core_samples: Callable[[List[Dict[str, Any]]], None] = lambda samples: None,
    progress: TextIO = sys.stderr,
    clocks: Clocks = Clocks(),
    memory_interval: Optional[float] = 0.2,
    sampler: Optional[Sampler] = None,
) -> JobOutcome:
    """Measure every point of ``experiment`` in interleaved rounds until precise (see :class:`RoundPlan`).

    ``settings`` holds the experiment's validated settings. Each finished trial
    row is handed to ``on_trial`` at once (so a crash later loses nothing), and
    its per-core samples, if any, to ``on_core_samples``. A disturbed trial is
    measured again, up to ``disturbance.max_remeasures`` times.
    """
    plan = RoundPlan(experiment, experiment.points(settings), settings, clocks)
    limits = {**DEFAULT_DISTURBANCE, **settings.get("disturbance", {})}
    failures = disturbed = 0
    started = clocks.interval()
    with experiment.session(settings) as resources:
        spare = tuple(child.pid for child in psutil.Process().children(recursive=True))
        context = TrialContext(resources, start_method, clocks, sampler, memory_interval, spare, usable_cpus(), limits)
        try:
            for is_warmup, order in plan.rounds_of(started):
                round_index = plan.rounds
                extra = "" if round_index < plan.warmup + plan.repeats else f" (extra round, {len(order)} points)"
                for position, point in enumerate(order):
                    for attempt in range(1 + int(limits["max_remeasures"])):
                        row, cores = time_trial(experiment, point, context, deadline=plan.deadline(point))
                        row.update(round=round_index, warmup=is_warmup,
                                   repeat=None if is_warmup else round_index - plan.warmup, order=position)
                        on_trial(row)
                        plan.record(point, row)
                        if cores:
                            trial = {"experiment": experiment.name, "method": point.method, "workers": point.workers,
                                     "round": round_index, "order": position}
                            on_core_samples([{**trial, "seconds": t, "core": core, "percent": percent}
                                             for t, core, percent in cores])
                        method = experiment.method(point.method)
                        failures += not row["correct"] and not method.known_wrong
                        disturbed += row["disturbed"]
                        _report(progress, experiment, plan, row, point, is_warmup, extra, method.known_wrong)
                        if not row["disturbed"]:
                            break
                        time.sleep(REMEASURE_PAUSE)
        except BaseException:  # interrupted: no worker outlives the job (a finished job's pools closed themselves)
            kill_descendants(spare)
            raise
    unconverged = [describe(point) for point in plan.unconverged()]
    print(f"[{experiment.name}] stopped after {plan.rounds} rounds: {plan.stop_reason};"
          f" {len(unconverged)} point(s) not within ±{plan.precision:.0%}, {disturbed} trial(s) disturbed",
          file=progress, flush=True)
    return JobOutcome(failures, plan.rounds, plan.stop_reason, unconverged, disturbed)


def _report(progress: TextIO, experiment: Experiment, plan: RoundPlan, row: Mapping[str, Any], point: Point,
            is_warmup: bool, extra: str, known_wrong: bool) -> None:
    """One progress line per trial."""
    mark = "ok" if row["correct"] else ("expected wrong" if known_wrong else "WRONG")
    if row["disturbed"]:
        mark += f", disturbed (foreign CPU {row['foreign_cpu_seconds']:.2f} s): measuring again"
    phase = "warm-up" if is_warmup else f"round {plan.rounds - plan.warmup + 1}{extra}"
    detail = f" {row['error']}" if row["error"] else ""
    print(f"[{experiment.name}] {phase}: {describe(point)} {row['seconds']:.3f} s {mark}{detail}",
          file=progress, flush=True)
