"""Claims of the primes family, on trial tables whose verdicts are known by construction."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from report.analysis import AnalysisSettings
from report.claims import CLAIMS, evaluate_claims
from report.claims.common import NOT_REPRODUCED, NOT_RUN, REPRODUCED
from report.claims.primes import CLAIMS as PRIMES_CLAIMS
from report.figures import FIGURES

MACHINE = {"physical_cores": 2, "logical_cpus": 2, "usable_cpus": 2}
COUNT = 10_000
JITTER = (1.0, 1.02, 0.98, 1.01, 0.99)


def trials(experiment: str, points: list[tuple[str, int, dict, float]], **fixed) -> pd.DataFrame:
    """Five trials per point (method, workers, parameters, time) around its time."""
    clock = itertools.count()
    rows = []
    for method, workers, params, seconds in points:
        for repeat, factor in enumerate(JITTER):
            start = float(next(clock))
            rows.append({"experiment": experiment, "method": method, "workers": workers, "count": COUNT,
                         "warmup": False, "repeat": repeat, "round": repeat, "seconds": seconds * factor, "correct": True,
                         "started_at": start, "ended_at": start + seconds, **fixed, **params})
    return pd.DataFrame(rows)


def verdicts(*tables: pd.DataFrame) -> dict[str, str]:
    claims = evaluate_claims(pd.concat(tables, ignore_index=True), MACHINE, AnalysisSettings())
    return dict(zip(claims["claim"], claims["verdict"]))


def chunksize_trials(times: dict[int, float]) -> pd.DataFrame:
    return trials("primes_chunksize", [("ordered", 2, {"chunksize": size}, t) for size, t in times.items()])


def chunks_trials(times: dict[int, float]) -> pd.DataFrame:
    return trials("primes_chunks", [("ordered", 2, {"chunks": chunks}, t) for chunks, t in times.items()])


def queue_trials(times: dict[tuple[str, int], float]) -> pd.DataFrame:
    return trials("primes_queue", [(method, w, {}, t) for (method, w), t in times.items()], batch_size=1000)


def cost_trials(power: float) -> pd.DataFrame:
    """Prime tests from 10^4 and 10^8 on whose time grows as n to ``power``."""
    return trials("primes_cost", [("primes", 1, {"first": 10**k}, 1e-3 * (10**k / 10**4) ** power) for k in (4, 8)],
                  checks=100)


BOOK_LIKE = (
    # 5,000: the largest chunk size that still gives each of 2 workers a chunk of the 10,000 numbers
    chunksize_trials({1: 3.0, 10: 1.2, 100: 1.0, 1000: 1.0, 5000: 2.0, 0: 1.02}),
    chunks_trials({1: 2.0, 2: 1.0, 3: 1.35, 4: 1.02, 5: 1.3}),
    queue_trials({("serial", 1): 1.0, ("manager_queue", 1): 4.0, ("manager_queue", 2): 5.0,
                  ("manager_queue_odd", 2): 2.5, ("queue", 1): 2.0, ("queue", 2): 1.8, ("queue_batched", 1): 1.05,
                  ("queue_batched", 2): 0.6}),
    cost_trials(0.5),
)


def test_a_run_shaped_like_the_book_reproduces_every_claim():
    result = verdicts(*BOOK_LIKE)
    for claim in PRIMES_CLAIMS:
        assert result[claim.id] == REPRODUCED, claim.id


def test_a_run_against_the_book_contradicts_every_claim():
    result = verdicts(
        # one number per task costs little, big chunks balance, the default is poor
        chunksize_trials({1: 1.1, 10: 1.0, 1000: 1.05, 5000: 1.0, 0: 1.5}),
        # an uneven split is faster than an even one, at the first tooth and the second
        chunks_trials({1: 2.0, 2: 1.3, 3: 1.0, 4: 1.2, 5: 1.0}),
        # queues of single numbers beat the serial loop and speed up with workers, batches do not,
        # and sending half the numbers saves little
        queue_trials({("serial", 1): 1.0, ("manager_queue", 1): 0.9, ("manager_queue", 2): 0.7,
                      ("manager_queue_odd", 2): 0.65, ("queue", 2): 0.6, ("queue_batched", 2): 1.3}),
        # a test whose cost grows far slower than √n
        cost_trials(0.25),
    )
    for claim in PRIMES_CLAIMS:
        assert result[claim.id] == NOT_REPRODUCED, claim.id


def test_the_queue_is_judged_at_its_best_worker_count():
    # slower than serial with 2 and 4 workers, but not with 1: the claim that it is always slower fails
    queues = queue_trials({("serial", 1): 1.0, ("queue", 1): 0.8, ("queue", 2): 1.5, ("queue", 4): 2.0})
    assert verdicts(queues)["queue-slower-than-serial"] == NOT_REPRODUCED


def test_claims_without_their_experiment_are_not_run():
    result = verdicts(trials("pi_python", [("serial", 1, {}, 1.0)], samples=10**6))
    for claim in PRIMES_CLAIMS:
        assert result[claim.id] == NOT_RUN, claim.id


@pytest.mark.parametrize("claim, table", [
    # the largest chunk size, 100, is below Pool.map's default for 10,000 numbers on 2 workers (1,250)
    ("large-chunks-unbalanced", chunksize_trials({1: 3.0, 10: 1.2, 100: 1.0, 0: 1.0})),
    # 10,000 and 50,000 are one chunk of the 10,000 numbers: a worker idles by construction
    ("large-chunks-unbalanced", chunksize_trials({1: 3.0, 100: 1.0, 10000: 2.0, 50000: 2.0, 0: 1.0})),
    # no point twice the workers and one beyond
    ("sawtooth-repeats", chunks_trials({1: 2.0, 2: 1.0, 3: 1.3})),
    # the Manager queue at one worker count only
    ("queue-cost-rises-with-workers", queue_trials({("serial", 1): 1.0, ("manager_queue", 2): 2.0})),
    # the prime tests at one magnitude only
    ("prime-test-cost-grows", trials("primes_cost", [("primes", 1, {"first": 10**4}, 1e-3)], checks=100)),
    # no default chunk size measured
    ("default-chunksize-near-best", chunksize_trials({1: 3.0, 100: 1.0, 10000: 2.0})),
    # no point one chunk beyond the workers
    ("chunk-minima-at-worker-multiples", chunks_trials({1: 2.0, 2: 1.0})),
    # the batched queue measured on one worker only
    ("batched-queue-pays-off", queue_trials({("serial", 1): 1.0, ("queue_batched", 1): 1.0})),
])
def test_claims_missing_their_point_are_not_run(claim, table):
    assert verdicts(table)[claim] == NOT_RUN


def test_failed_trials_do_not_count():
    table = chunksize_trials({1: 3.0, 100: 1.0, 0: 1.0})
    table.loc[table["chunksize"] == 1, "correct"] = False
    assert verdicts(table)["chunksize-one-slowest"] == NOT_RUN


def test_primes_claims_are_registered_with_existing_sections_and_figures():
    ids = [claim.id for claim in CLAIMS]
    assert len(ids) == len(set(ids))
    names = {spec.name for spec in FIGURES}
    for claim in PRIMES_CLAIMS:
        assert claim in CLAIMS
        assert claim.section in {"primes_pool", "primes_chunksize", "primes_chunks", "primes_queue", "primes_cost"}
        assert claim.figure is None or claim.figure in names
