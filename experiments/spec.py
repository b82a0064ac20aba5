"""The shapes every experiment family fills in: methods, points and experiments.

Vocabulary
----------
experiment
    One question with one figure, e.g. ``pi_python``: "how does the pure-Python
    π estimate scale over workers?".  One Snakemake job measures all of an
    experiment's points in interleaved rounds.
method
    One way of answering it, e.g. ``processes``.
point
    One method at one worker count with one set of parameters, under one start
    method (for methods that start processes through multiprocessing).
trial
    One timed call of a point.
column
    What an experiment adds to the tidy table beside the columns every trial has:
    its parameters (one per setting that varies the work) and the measurements
    its methods return beside the result, each declared once with its type,
    unit and meaning (:class:`Column`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


#: The start methods the grid knows, in the order reports list them.
START_METHODS = ("fork", "forkserver", "spawn")

#: The types a column may have: what each of its cells holds (an empty cell is a trial without it).
COLUMN_TYPES = {
    "count": "a whole number from 0",
    "integer": "a whole number, negative too",
    "number": "a number from 0 (a duration, a size)",
    "yes/no": "1 for yes, 0 for no",
    "start method": f"one of {', '.join(START_METHODS)}",
}


@dataclass(frozen=True)
class Column:
    """A column an experiment adds to the tidy table: a parameter or a measurement.

    The tidy table's checks (``report/load.py``), the README's table of columns
    and the report's list of them all follow from these declarations.

    Parameters
    ----------
    name
        Column name in the trial files (for a parameter, also the key of the
        point's ``params``, and the config key where one setting gives it).
    type
        What its cells hold: a key of :data:`COLUMN_TYPES`.
    unit
        ``"s"``, ``"bytes"``, or ``""`` for a count or a plain number.
    meaning
        What it is, in words, without the unit.
    label
        Its heading in the report's tables (default: the name, in words).
    """

    name: str
    type: str
    unit: str
    meaning: str
    label: str = ""

    @property
    def heading(self) -> str:
        return self.label or self.name.replace("_", " ")

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: type {self.type!r} is not one of {', '.join(COLUMN_TYPES)}")


@dataclass(frozen=True)
class Method:
    """One way of running an experiment.

    Parameters
    ----------
    name
        Identifier used in config files and result tables.
    label
        Short human name for figures and tables.
    run
        ``run(workers=..., start_method=..., **params, **resources)`` returns the
        trial's answer: a number, or a mapping with a ``"result"`` key plus extra
        per-trial measurements that become columns of their own.
    parallel
        False for methods that use one worker whatever the grid says; they are
        measured once per round, at ``workers=1``.
    known_wrong
        True for methods that exist to demonstrate a bug (their trials are
        expected to fail verification and the report says so).
    setup
        Optional untimed call made before every trial, with the same arguments.
    uses_start_method
        True for methods that start their workers through ``multiprocessing``
        with the ``start_method`` they are given: the start-method axis of the
        grid (setting ``start_methods``) applies to them alone.
    unavailable
        Optional ``unavailable()`` that returns why the method cannot run on
        this interpreter (e.g. it lacks the module the method needs), or None
        when it can. :func:`grid_points` leaves an unavailable method out.
    """

    name: str
    label: str
    run: Callable[..., Any]
    parallel: bool = True
    known_wrong: bool = False
    setup: Callable[..., None] | None = None
    uses_start_method: bool = False
    unavailable: Callable[[], str | None] | None = None

    def unavailable_reason(self) -> str | None:
        """Why this method cannot run on this interpreter, or None when it can."""
        return self.unavailable() if self.unavailable else None


@dataclass(frozen=True)
class Point:
    """One method at one worker count with one set of parameters.

    ``start_method`` is None for points that run under the job's start method.
    """

    method: str
    workers: int
    params: Mapping[str, Any] = field(default_factory=dict)
    start_method: str | None = None


@contextlib.contextmanager
def no_resources(settings: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Session for experiments that need no shared resource."""
    yield {}


@dataclass(frozen=True)
class Experiment:
    """A family's experiment: its methods, grid and answer check.

    Parameters
    ----------
    name
        Identifier (config key, file names, report anchor).
    family
        The module under ``experiments/`` that implements it.
    title
        Heading in the report.
    methods
        The methods, in the order the report lists them.
    points
        ``points(settings)`` expands an experiment's validated settings into the
        points of one round, each with a value for every parameter.
    verify
        ``verify(point, answer)`` says whether a trial's answer is right; the
        first line of its docstring says it in words for the report.
    parameters
        The columns of the settings that vary the work: the keys of each
        point's ``params`` (:attr:`params` names them).
    measurements
        The columns of what the methods measure beside the result: the extra
        keys of their answers.
    session
        Context manager opened once around all trials of a job, yielding shared
        resources (a cache folder, a server) passed to every method call.
    shuffle_rounds
        Whether the order of points is shuffled in each round (it is, unless the
        methods depend on running in a fixed order).
    baseline
        The method speedups are measured against (None: no speedups). When the
        baseline is not parallel, speedups compare with its one-worker time and
        parallel efficiency is speedup / workers.
    core_interval
        Seconds between samples of per-core CPU utilisation during each trial
        (None: not sampled). Sampling costs a little CPU, so only experiments
        that exist to show where CPU time goes turn it on.
    shown
        What the section's table shows beside time and speedup, by name: its
        own measurements, or what every trial measures (``cpu_utilisation``,
        ``peak_pss_bytes``, ``peak_worker_uss_bytes``; see ``report.render``).
    swept
        The parameter a sweep varies point by point, which its figure draws
        (None: not a sweep). The section's table keeps each method's fastest
        and slowest point, and the appendix all of them.
    """

    name: str
    family: str
    title: str
    methods: tuple[Method, ...]
    points: Callable[[Mapping[str, Any]], list[Point]]
    verify: Callable[[Point, Any], bool]
    parameters: tuple[Column, ...] = ()
    measurements: tuple[Column, ...] = ()
    session: Callable[[Mapping[str, Any]], contextlib.AbstractContextManager[dict[str, Any]]] = no_resources
    shuffle_rounds: bool = True
    baseline: str | None = None
    core_interval: float | None = None
    shown: tuple[str, ...] = ()
    swept: str | None = None

    def method(self, name: str) -> Method:
        """The method called ``name``."""
        for method in self.methods:
            if method.name == name:
                return method
        raise KeyError(f"{self.name} has no method {name!r}")

    @property
    def answer_check(self) -> str:
        """What a correct answer is, in words: the first line of ``verify``'s docstring."""
        return (self.verify.__doc__ or "").strip().split("\n")[0]

    @property
    def method_names(self) -> tuple[str, ...]:
        return tuple(method.name for method in self.methods)

    @property
    def params(self) -> tuple[str, ...]:
        """The names of the parameters: what identifies a point beside its method and workers."""
        return tuple(column.name for column in self.parameters)

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column this experiment adds to the tidy table: parameters, then measurements."""
        return self.parameters + self.measurements


def grid_points(settings: Mapping[str, Any], params: tuple[str, ...], methods: tuple[Method, ...]) -> list[Point]:
    """Every selected method at every worker count, with the same parameters.

    Methods that are not parallel are measured once, at one worker. Methods that
    use a start method are measured under each of ``settings["start_methods"]``
    (when the experiment has that setting), the others under the job's.
    Methods unavailable on this interpreter are left out
    (:func:`unavailable_methods` says which, and why).
    """
    fixed = {name: settings[name] for name in params}
    selected = [m for m in methods if m.name in settings["methods"] and m.unavailable_reason() is None]
    points = []
    for method in selected:
        counts = settings["workers"] if method.parallel else [1]
        start_methods = settings.get("start_methods") if method.uses_start_method else None
        points.extend(Point(method.name, workers, fixed, start_method)
                      for start_method in start_methods or [None] for workers in counts)
    return points


def unavailable_methods(experiment: Experiment, settings: Mapping[str, Any]) -> dict[str, str]:
    """The selected methods of ``experiment`` that cannot run on this interpreter: name → reason."""
    reasons = {method.name: method.unavailable_reason() for method in experiment.methods
               if method.name in settings["methods"]}
    return {name: reason for name, reason in reasons.items() if reason is not None}
