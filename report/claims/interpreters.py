"""Claims of the interpreter axis: free-threaded CPython, its GIL switch, subinterpreters, PyPy.

These claims are not the book's (it could test none of them) but today's
answers to its question, how to use every core from Python. Each compares
interpreters of the default grid, found by the names ``config/config.yaml``
gives them; a run without one of them leaves its claims ``not run``.

They need the trials of every interpreter, not only those of ``main`` that
the other families see (:data:`ALL_INTERPRETERS`).
"""

from __future__ import annotations

from functools import partial

from report.claims.common import Claim, Evidence, Measurements, MissingPoint, above, below
from report.claims.pi import THREAD_GAIN

#: This family is evaluated on the trials of every interpreter of the run.
ALL_INTERPRETERS = True

#: The default grid's names: CPython 3.13 free-threaded (GIL off), the same binary
#: with PYTHON_GIL=1, the GIL build of the same source, and PyPy.
FREE_THREADED, GIL_SWITCHED_ON, GIL_BUILD, PYPY = "cpython-3.13t", "cpython-3.13t-gil", "cpython-3.13", "pypy3"

#: Parallel efficiency (speedup / workers) above which a method scales at the cores: at
#: two workers, 0.5 is no gain at all, and the process pools of a 2-core VM reach about
#: 0.7 (their start-up is part of the work), so 0.6 tells scaling from none.
SCALES = 0.6

#: How much faster than CPython's serial loop PyPy's must be to count as "much faster".
PYPY_SERIAL_GAIN = 4.0


def _workers_at_cores(m: Measurements, experiment: str, method: str, interpreter: str) -> int:
    """The measured worker count that fills the physical cores on ``interpreter`` (at least two)."""
    rows = m.rows(experiment, method, interpreter=interpreter, correct_only=False)
    counts = sorted(int(w) for w in rows["workers"].unique() if w >= 2)
    if not counts:
        raise MissingPoint(f"{experiment}.{method} was not measured on {interpreter} with two or more workers")
    return max([w for w in counts if w <= m.cores] or counts[:1])


def _efficiency(m: Measurements, method: str, interpreter: str, experiment: str = "pi_python",
                baseline: str = "serial") -> tuple[int, float, float, float]:
    """Workers at the cores, and the parallel efficiency there over the serial method, same interpreter."""
    w = _workers_at_cores(m, experiment, method, interpreter)
    value, low, high = m.ratio(m.times(experiment, baseline, interpreter=interpreter),
                               m.times(experiment, method, w, interpreter=interpreter))
    return w, value / w, low / w, high / w


def _scales(method: str, label: str, interpreter: str, m: Measurements) -> Evidence:
    w, value, low, high = _efficiency(m, method, interpreter)
    return Evidence(above(SCALES, value, low, high),
                    f"parallel efficiency of {w} {label} on {interpreter} (above {SCALES:.0%}?)", value, low, high)


def gil_takes_the_gain_away(m: Measurements) -> Evidence:
    w = _workers_at_cores(m, "pi_python", "threads", GIL_SWITCHED_ON)
    value, low, high = m.ratio(m.times("pi_python", "serial", interpreter=GIL_SWITCHED_ON),
                               m.times("pi_python", "threads", w, interpreter=GIL_SWITCHED_ON))
    return Evidence(below(THREAD_GAIN, value, low, high),
                    f"speedup of {w} threads over serial on {GIL_SWITCHED_ON} (below {THREAD_GAIN}×?)", value, low, high)


def free_threading_costs_a_single_thread(m: Measurements) -> Evidence:
    value, low, high = m.ratio(m.times("pi_python", "serial", interpreter=FREE_THREADED),
                               m.times("pi_python", "serial", interpreter=GIL_BUILD))
    return Evidence(above(1.0, value, low, high),
                    f"serial time on {FREE_THREADED} over {GIL_BUILD}, same source (above 1×?)", value, low, high,
                    "Python 3.13's docs: \"a substantial single-threaded performance hit\"")


def subinterpreters_start_faster_than_spawn(m: Measurements) -> Evidence:
    w = max(m.workers("pool_startup", "subinterpreters"))
    value, low, high = m.ratio(m.times("pool_startup", "spawn", w, interpreter=GIL_BUILD),
                               m.times("pool_startup", "subinterpreters", w, interpreter=GIL_BUILD))
    return Evidence(above(1.0, value, low, high),
                    f"time to start {w} spawned workers over {w} subinterpreters on {GIL_BUILD} (above 1×?)",
                    value, low, high)


def pypy_serial_is_much_faster(m: Measurements) -> Evidence:
    value, low, high = m.ratio(m.times("pi_python", "serial", interpreter="main"),
                               m.times("pi_python", "serial", interpreter=PYPY))
    return Evidence(above(PYPY_SERIAL_GAIN, value, low, high),
                    f"serial time on main (CPython) over {PYPY} (above {PYPY_SERIAL_GAIN:.0f}×?)", value, low, high)


CLAIMS = (
    Claim("free-threaded-threads-scale", "pi_python", "pi_python_interpreters",
          f"On the free-threaded CPython (GIL off), threads speed a pure-Python loop up at the cores: parallel "
          f"efficiency above {SCALES:.0%}.", partial(_scales, "threads", "threads", FREE_THREADED)),
    Claim("gil-on-no-gain", "pi_python", "pi_python_interpreters",
          "Switching the GIL on in the same free-threaded binary (PYTHON_GIL=1) takes that gain away.",
          gil_takes_the_gain_away),
    Claim("free-threading-single-thread-cost", "pi_python", "pi_python_interpreters",
          "The free-threaded build runs a single thread slower than the GIL build of the same version and source.",
          free_threading_costs_a_single_thread),
    Claim("subinterpreters-scale", "pi_python", "pi_python_interpreters",
          f"Subinterpreters, each with its own GIL, scale a pure-Python loop like processes on the GIL build: "
          f"parallel efficiency above {SCALES:.0%}.", partial(_scales, "subinterpreters", "subinterpreters", GIL_BUILD)),
    Claim("subinterpreters-start-fast", "pool_startup", "pool_startup_interpreters",
          "Starting subinterpreters costs less than starting spawned worker processes.",
          subinterpreters_start_faster_than_spawn),
    Claim("pypy-serial-fast", "pi_python", "pi_python_interpreters",
          f"PyPy runs the pure-Python loop much faster than CPython: more than {PYPY_SERIAL_GAIN:.0f}× serially.",
          pypy_serial_is_much_faster),
    Claim("pypy-processes-scale", "pi_python", "pi_python_interpreters",
          f"PyPy's process pool still scales: parallel efficiency above {SCALES:.0%}.",
          partial(_scales, "processes", "processes", PYPY)),
)
