"""IPC claims: verdicts on synthetic prime-verification trials whose answers are known by construction."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from report.analysis import AnalysisSettings
from report.claims import evaluate_claims
from report.claims.common import NOT_REPRODUCED, NOT_RUN, REPRODUCED
from report.claims.ipc import CLAIMS, book_ratio

MACHINE = {"physical_cores": 2, "logical_cpus": 2, "usable_cpus": 2}

#: Two products of two primes beyond the serial pass (1009 × 1013, 1013 × 1019), one with a factor of 5, one prime.
LARGE = {1022117: 1009, 1032247: 1013}
SMALL, PRIME = (5000015, 5), 1000003
IPC_IDS = [claim.id for claim in CLAIMS]

#: The book's shape: RawValue ≈ mmap, Manager and Redis about twice as slow, redux the fastest, the naive pool slowest;
#: on a prime the pool without a flag beats Manager and Redis.
BOOK_LIKE = {"serial": 1.0, "naive_pool": 0.9, "less_naive_pool": 0.4, "manager": 0.6, "redis": 0.5, "rawvalue": 0.3,
             "mmap": 0.3, "mmap_lookahead": 0.28, "mmap_redux": 0.2, "mmap_redux_local": 0.19, "event": 0.32,
             "shared_memory": 0.3}

#: What a method with the serial pre-check takes on the number with a factor of 5 when it stops there (s).
INSTANT = 2e-6
JITTER = (1.0, 1.02, 0.98, 1.01, 0.99)


def trial(experiment, method, number, seconds, repeat, *, context=None, stopped_early=None, start=0.0):
    factor = LARGE.get(number, SMALL[1] if number == SMALL[0] else None)
    return {"experiment": experiment, "method": method, "workers": 1 if method == "serial" else 2, "number": number,
            "check_every": 1000, "context": context, "seconds": seconds, "result": int(factor is None),
            "factor": factor, "stopped_early": stopped_early, "correct": True, "warmup": False, "repeat": repeat, "round": repeat,
            "started_at": start, "ended_at": start + seconds}


def ipc_flags_trials(times: dict[str, float], numbers=(*LARGE, SMALL[0], PRIME), *, instant: bool = True) -> pd.DataFrame:
    """Trials whose time grows with the number; with ``instant``, every method but the naive pool (which has
    no serial pre-check) answers the number with a factor of 5 in :data:`INSTANT` seconds."""
    clock = itertools.count()

    def seconds(method: str, base: float, number: int) -> float:
        if instant and number == SMALL[0] and method != "naive_pool":
            return INSTANT
        return base * (number / 1e6)

    rows = [trial("ipc_flags", method, number, seconds(method, base, number) * jitter, repeat, start=float(next(clock)))
            for method, base in times.items() for number in numbers for repeat, jitter in enumerate(JITTER)]
    return pd.DataFrame(rows)


def ipc_contexts_trials(stopped: dict[str, float]) -> pd.DataFrame:
    """Flag-method trials on a non-prime with large factors; ``stopped``: share stopping early per start method."""
    rows = []
    for context, share in stopped.items():
        for method in ("rawvalue", "mmap", "manager"):
            for repeat in range(4):
                rows.append(trial("ipc_contexts", method, next(iter(LARGE)), 0.3, repeat, context=context,
                                  stopped_early=float(repeat < round(4 * share))))
        for repeat in range(4):  # a prime: the pool finds no factor, so stopped early is n/a
            rows.append(trial("ipc_contexts", "mmap", PRIME, 0.5, repeat, context=context))
    return pd.DataFrame(rows)


def verdicts(*frames):
    claims = evaluate_claims(pd.concat(frames, ignore_index=True), MACHINE, AnalysisSettings())
    return dict(zip(claims["claim"], claims["verdict"]))


def test_the_books_ranking_of_flags_is_reproduced():
    result = verdicts(ipc_flags_trials(BOOK_LIKE), ipc_contexts_trials({"fork": 1, "spawn": 1, "forkserver": 1}))
    assert {claim: result[claim] for claim in IPC_IDS} == dict.fromkeys(IPC_IDS, REPRODUCED)


def test_a_ranking_against_the_book_is_not_reproduced():
    contrary = {"naive_pool": 0.2, "less_naive_pool": 0.4, "manager": 0.3, "redis": 0.3, "rawvalue": 0.6, "mmap": 0.3,
                "mmap_lookahead": 0.25, "mmap_redux": 0.4, "event": 0.3, "shared_memory": 0.3}
    result = verdicts(ipc_flags_trials(contrary, instant=False),
                      ipc_contexts_trials({"fork": 1, "spawn": 1, "forkserver": 0}))
    for claim in IPC_IDS:
        assert result[claim] == NOT_REPRODUCED, claim


def test_flag_claims_without_their_points_are_not_run():
    # no Redis trials (no redis-server), only primes and a small factor, no ipc_contexts
    without_redis = {method: time for method, time in BOOK_LIKE.items() if method != "redis"}
    result = verdicts(ipc_flags_trials(without_redis))
    assert result["memory-flags-beat-redis"] == NOT_RUN
    assert result["mmap-redux-fastest"] == REPRODUCED  # over the flags that were timed
    assert result["flags-stop-under-spawn"] == NOT_RUN
    result = verdicts(ipc_flags_trials(BOOK_LIKE, numbers=(SMALL[0], PRIME)), ipc_contexts_trials({"fork": 1}))
    on_large_factors = [claim for claim in IPC_IDS if claim not in ("remote-flags-slow-primes", "precheck-instant")]
    assert {claim: result[claim] for claim in on_large_factors} == dict.fromkeys(on_large_factors, NOT_RUN)
    assert result["remote-flags-slow-primes"] == result["precheck-instant"] == REPRODUCED
    result = verdicts(ipc_flags_trials(BOOK_LIKE, numbers=tuple(LARGE)))
    assert result["remote-flags-slow-primes"] == result["precheck-instant"] == NOT_RUN


def test_failed_trials_do_not_count():
    trials = ipc_flags_trials(BOOK_LIKE)
    trials.loc[trials["method"] == "redis", "correct"] = False
    assert verdicts(trials)["memory-flags-beat-redis"] == NOT_RUN


def test_the_books_figures_come_from_its_numbers():
    # ed2, the two non-primes with large factors: Manager over the slower of RawValue and mmap
    expected = math.sqrt(1.910889 / 1.112797 * 1.646287 / 0.92586)
    assert book_ratio("ed2", ("manager",), ("rawvalue", "mmap")) == pytest.approx(expected)
    assert book_ratio("ed2", ("rawvalue",), ("mmap",)) == pytest.approx(1.0, abs=0.01)
