"""The chapter's conclusions about verifying primes with a shared stop flag, as tests on our data.

The flag methods differ where a flag is set: on the non-primes whose factors
are all beyond the serial pass (the book's "large factors" numbers), so the
timing claims compare methods on those numbers. Each number gets its own ratio
per round (the same workers, the same number, the same round); a claim's figure
is the median over rounds of the geometric mean of these ratios over the
numbers, so that every number counts alike whatever its size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.intervals import median_interval
from experiments.ipc import START_METHODS, is_prime
from report.statistics import wilson_interval
from report.book.ipc import load_book, number_roles
from report.claims.common import Claim, Evidence, Measurements, MissingPoint, above, below, within

#: The edition whose numbers stand beside ours (4 processes); the naive pool appears in the 1st edition only.
EDITION = "ed2"
NAIVE_EDITION = "ed1"

#: Methods that share a stop flag, in the order the report lists them.
FLAG_METHODS = ("manager", "redis", "rawvalue", "mmap", "mmap_lookahead", "mmap_redux", "mmap_redux_local", "event",
                "shared_memory")

#: The redux loops: the claim that redux is fastest compares them with the other flag methods, not each other.
REDUX = ("mmap_redux", "mmap_redux_local")

#: Below this many seconds a check counts as instant (the book's serial pre-check took 1–2 µs).
INSTANT_SECONDS = 1e-3
MEMORY_FLAGS = ("rawvalue", "mmap")

#: How the times of several methods make one: ``np.maximum`` (the slower) or ``np.minimum`` (the faster).
Pick = np.ufunc


def _workers(m: Measurements, methods: Sequence[str]) -> int:
    """The pool size to compare ``methods`` at: the most workers at or below the cores that they all have."""
    common = set.intersection(*(set(m.workers("ipc_flags", method)) for method in methods))
    several = sorted(w for w in common if w >= 2)
    if not several:
        raise MissingPoint(f"ipc_flags has no pool size of two or more workers shared by {', '.join(methods)}")
    below_cores = [w for w in several if w <= m.cores]
    return below_cores[-1] if below_cores else several[0]


def numbers_in_role(m: Measurements, role: str) -> list[int]:
    """The ``ipc_flags`` numbers whose role (see :func:`report.book.ipc.number_roles`) starts with ``role``."""
    frame = m.trials[m.trials["experiment"] == "ipc_flags"]
    if frame.empty or "number" not in frame:
        raise MissingPoint("ipc_flags was not measured")
    numbers = []
    for number, rows in frame.groupby("number"):
        prime = is_prime(int(number))
        numbers.append((int(number), prime, None if prime else float(rows["factor"].min())))
    chosen = sorted(n for n, name in number_roles(numbers).items() if name.startswith(role))
    if not chosen:
        raise MissingPoint(f"ipc_flags measured no number in the role {role!r}")
    return chosen


def large_factor_numbers(m: Measurements) -> list[int]:
    """The ``ipc_flags`` non-primes whose factors are all beyond the serial pass (the book's "large factors")."""
    return numbers_in_role(m, "large factors")


def _per_round(m: Measurements, workers: int, number: int, methods: Sequence[str], pick: Pick,
               every: bool = True) -> pd.Series:
    """Per round, the time of ``methods`` reduced with ``pick`` (the slower, or the faster of them).

    Every method must have been timed at the point, or with ``every=False`` at least one.
    """
    columns = []
    for method in methods:
        try:
            columns.append(m.times("ipc_flags", method, workers, number=number).groupby(level=0).median())
        except MissingPoint:
            if every:
                raise
    if not columns:
        raise MissingPoint(f"no timed trial of {', '.join(methods)} in ipc_flags at {workers} workers for {number}")
    table = pd.concat(columns, axis=1)
    if every:
        table = table.dropna()
    return table.max(axis=1) if pick is np.maximum else table.min(axis=1)


def _ratio(m: Measurements, numerators: Sequence[str], denominators: Sequence[str], pick_numerator: Pick = np.maximum,
           pick_denominator: Pick = np.maximum, every_denominator: bool = True,
           role: str = "large factors") -> tuple[float, float, float, int, int]:
    """Geometric mean over the numbers of ``role`` of numerator time / denominator time, per round,
    and the median over rounds with its interval (the rounds pair every method and number).

    ``pick_*`` reduce several methods' times to one (the slower, the faster); with ``every_denominator=False``
    the denominator is over those of its methods that were timed at each point.
    """
    workers = _workers(m, (*numerators, *denominators) if every_denominator else numerators)
    numbers = numbers_in_role(m, role)
    logs = pd.concat([np.log(_per_round(m, workers, number, numerators, pick_numerator)
                             / _per_round(m, workers, number, denominators, pick_denominator, every_denominator))
                      for number in numbers], axis=1).dropna()
    if logs.empty:
        raise MissingPoint(f"ipc_flags has no round that timed {', '.join((*numerators, *denominators))} on every number")
    interval = median_interval(logs.mean(axis=1), m.settings.confidence)
    return math.exp(interval.value), math.exp(interval.low), math.exp(interval.high), workers, len(numbers)


def _where(workers: int, count: int) -> str:
    numbers = "the non-prime" if count == 1 else f"the {count} non-primes"
    return f"{numbers} with large factors, {workers} workers"


def book_ratio(source: str, numerators: Sequence[str], denominators: Sequence[str], pick_numerator: Pick = np.maximum,
               pick_denominator: Pick = np.maximum, role: str = "large factors") -> float:
    """The same geometric mean of ratios over the book's numbers of ``role`` (its two non-primes with large factors)."""
    book = load_book()
    book = book[(book["source"] == source) & book["role"].str.startswith(role)]
    seconds = book.pivot_table(index="role", columns="method", values="seconds")
    top = pick_numerator.reduce(seconds[list(numerators)].to_numpy(), axis=1)
    bottom = pick_denominator.reduce(seconds[list(denominators)].to_numpy(), axis=1)
    return float(np.exp(np.mean(np.log(top / bottom))))


def _book_processes(source: str) -> int:
    return int(load_book().query("source == @source")["workers"].iloc[0])


def rawvalue_matches_mmap(m: Measurements) -> Evidence:
    value, low, high, w, count = _ratio(m, ("rawvalue",), ("mmap",))
    book = book_ratio(EDITION, ("rawvalue",), ("mmap",))
    return Evidence(within(0.8, 1.25, value, low, high), f"RawValue time over mmap time, {_where(w, count)} (0.8–1.25?)",
                    value, low, high, f"{book:.2f}× with {_book_processes(EDITION)} processes ({EDITION})")


def _slower_than_memory_flags(m: Measurements, method: str, label: str) -> Evidence:
    value, low, high, w, count = _ratio(m, (method,), MEMORY_FLAGS)
    book = book_ratio(EDITION, (method,), MEMORY_FLAGS)
    return Evidence(above(1.0, value, low, high),
                    f"{label} time over the slower of RawValue and mmap, {_where(w, count)} (above 1?)",
                    value, low, high, f"{book:.2f}× with {_book_processes(EDITION)} processes ({EDITION})")


def memory_flags_beat_manager(m: Measurements) -> Evidence:
    return _slower_than_memory_flags(m, "manager", "Manager")


def memory_flags_beat_redis(m: Measurements) -> Evidence:
    return _slower_than_memory_flags(m, "redis", "Redis")


def redux_is_the_fastest_flag(m: Measurements) -> Evidence:
    timed = set(m.trials.loc[m.trials["experiment"] == "ipc_flags", "method"])
    others = [method for method in FLAG_METHODS if method not in REDUX and method in timed]
    if not others:
        raise MissingPoint("ipc_flags timed no flag method beside mmap_redux")
    value, low, high, w, count = _ratio(m, ("mmap_redux",), others, pick_denominator=np.minimum, every_denominator=False)
    book_others = [method for method in ("manager", "redis", "rawvalue", "mmap") if method in others]
    book = book_ratio(EDITION, ("mmap_redux",), book_others or ("mmap",), pick_denominator=np.minimum)
    return Evidence(below(1.05, value, low, high),
                    f"mmap redux time over the fastest of the {len(others)} other flag methods, {_where(w, count)} "
                    "(below 1.05?)", value, low, high,
                    f"{book:.2f}× over the fastest of {len(book_others or ['mmap'])} with {_book_processes(EDITION)} "
                    f"processes ({EDITION})")


def remote_flags_slow_a_prime(m: Measurements) -> Evidence:
    """On a prime no flag is ever set: Manager and Redis flags only add their reads to a plain pool's work."""
    value, low, high, w, count = _ratio(m, ("manager", "redis"), ("less_naive_pool",), pick_numerator=np.minimum,
                                        role="prime")
    book = book_ratio(EDITION, ("manager", "redis"), ("less_naive_pool",), pick_numerator=np.minimum, role="prime")
    primes = "the prime" if count == 1 else f"the {count} primes"
    return Evidence(above(1.0, value, low, high),
                    f"the faster of Manager and Redis over the pool without a flag, {primes}, {w} workers (above 1?)",
                    value, low, high, f"{book:.2f}× with {_book_processes(EDITION)} processes ({EDITION})")


def precheck_makes_a_trivial_non_prime_instant(m: Measurements) -> Evidence:
    """The less naive pool's time on the non-prime with a factor below the serial pass's cutoff."""
    number = numbers_in_role(m, "small factor")[0]
    w = m.workers("ipc_flags", "less_naive_pool")[-1]
    times = m.times("ipc_flags", "less_naive_pool", w, number=number)
    interval = median_interval(times.to_numpy(), m.settings.confidence)
    book = load_book()
    book = book[(book["source"] == EDITION) & (book["role"] == "small factor") & (book["method"] == "less_naive_pool")]
    return Evidence(below(INSTANT_SECONDS, interval.value, interval.low, interval.high),
                    f"median time of the pool with the serial pre-check on {number:,} (a factor below the cutoff), "
                    f"{w} workers, in seconds (below {INSTANT_SECONDS * 1e3:g} ms?)",
                    interval.value, interval.low, interval.high,
                    f"{float(book['seconds'].iloc[0]) * 1e6:.0f} µs ({EDITION})")


def a_flag_stops_the_pool_early(m: Measurements) -> Evidence:
    value, low, high, w, count = _ratio(m, ("mmap",), ("naive_pool",))
    book = book_ratio(NAIVE_EDITION, ("mmap",), ("naive_pool",))
    return Evidence(below(1.0, value, low, high), f"mmap flag time over naive pool time, {_where(w, count)} (below 1?)",
                    value, low, high, f"{book:.2f}× with {_book_processes(NAIVE_EDITION)} processes ({NAIVE_EDITION})")


def flags_stop_under_every_start_method(m: Measurements) -> Evidence:
    """Share of flag-method trials that stopped every worker early, in the worst of spawn and forkserver."""
    frame = m.trials
    frame = frame[(frame["experiment"] == "ipc_contexts") & frame["method"].isin(FLAG_METHODS)]
    if frame.empty:
        raise MissingPoint("ipc_contexts measured no flag method")
    frame = frame.dropna(subset=["stopped_early"])  # a factor found by the pool: primes and small factors are n/a
    contexts = [c for c in START_METHODS if c != "fork" and c in set(frame["context"])]
    if not contexts:
        raise MissingPoint("ipc_contexts has no flag-method trial under spawn or forkserver in which the pool found a factor")
    shares = {context: frame.loc[frame["context"] == context, "stopped_early"].to_numpy(dtype=float)
              for context in contexts}
    worst = min(contexts, key=lambda context: shares[context].mean())
    low, high = wilson_interval(int(shares[worst].sum()), len(shares[worst]), m.settings.confidence)
    return Evidence(above(0.5, float(shares[worst].mean()), low, high),
                    f"share of flag-method trials under {' and '.join(contexts)} in which every worker stopped early, "
                    f"the lower of the two ({worst}; above 50%?)" if len(contexts) > 1 else
                    f"share of flag-method trials under {contexts[0]} in which every worker stopped early (above 50%?)",
                    float(shares[worst].mean()), low, high, "not measured (the book ran under fork only)")


CLAIMS = (
    Claim("rawvalue-like-mmap", "ipc_flags", "ipc_flags",
          "A RawValue flag and an mmap flag, both one byte of shared memory, stop the search about equally fast.",
          rawvalue_matches_mmap),
    Claim("memory-flags-beat-manager", "ipc_flags", "ipc_flags",
          "A flag in shared memory (RawValue or mmap) is faster than one kept by a Manager process.",
          memory_flags_beat_manager),
    Claim("memory-flags-beat-redis", "ipc_flags", "ipc_flags",
          "A flag in shared memory (RawValue or mmap) is faster than one kept in Redis.",
          memory_flags_beat_redis),
    Claim("mmap-redux-fastest", "ipc_flags", "ipc_flags",
          "The unrolled mmap loop, which reads the flag only between blocks of candidates, is the fastest flag method on "
          "non-primes.", redux_is_the_fastest_flag),
    Claim("remote-flags-slow-primes", "ipc_flags", "ipc_flags",
          "On a prime, where no worker ever sets the flag, Manager and Redis flags make the check slower than a pool "
          "without a flag, since every read is a round trip to another process.", remote_flags_slow_a_prime),
    Claim("precheck-instant", "ipc_flags", "ipc_flags",
          "The cheap serial check of small factors before the pool makes a non-prime with a tiny factor instant: "
          "no pool is started.", precheck_makes_a_trivial_non_prime_instant),
    Claim("flag-stops-early", "ipc_flags", "ipc_flags",
          "On a non-prime with large factors, a shared flag lets the other workers stop as soon as one finds a factor, "
          "which the naive pool cannot do.", a_flag_stops_the_pool_early),
    Claim("flags-stop-under-spawn", "ipc_contexts", "ipc_contexts",
          "Handed over through the pool's initializer, the flag still stops the workers early under spawn and "
          "forkserver, not only under fork.", flags_stop_under_every_start_method),
)
