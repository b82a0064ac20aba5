"""The primes family: the prime test against the sieve, chunking arithmetic, every method
under every start method, queue shutdown and failures, and the book's numbers."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from multiprocessing.pool import ThreadPool

import pandas as pd
import psutil
import pytest

from conftest import REPO, START_METHODS
from experiments import primes, workqueue
from experiments.harness import TrialContext, time_trial
from experiments.registry import EXPERIMENTS
from experiments.spec import Experiment, Method, Point
from report.book import OURS
from report.book import primes as book_primes

#: The experiments that count the primes of a range (primes_cost tests single numbers instead).
FAMILY = [e for e in EXPERIMENTS.values() if e.family == "primes" and e is not primes.PRIMES_COST]
SMALL = {"first": 10_000, "count": 1_000}


# --- numbers, the prime test and the sieve ------------------------------------------


def test_range_names_give_first_and_count():
    assert primes.number_range("1e8+1e5") == {"first": 10**8, "count": 10**5}
    with pytest.raises(ValueError, match="named like"):
        primes.number_range("100000000+1000")


@pytest.mark.parametrize("first, count", [(0, 200), (1, 1), (2, 1), (10**6, 10**4), (10**8, 2_000), (97, 1)])
def test_trial_division_and_the_sieve_agree(first, count):
    assert sum(map(primes.is_prime, range(first, first + count))) == primes.sieve_count(first, count)


def test_sieve_knows_the_classic_counts():
    assert primes.sieve_count(0, 100) == 25
    assert primes.sieve_count(1, 10**6) == 78_498


def test_verification_rejects_a_wrong_count_and_a_wrong_set_of_primes():
    point = Point("serial", 1, SMALL)
    found = [n for n in range(SMALL["first"], SMALL["first"] + SMALL["count"]) if primes.is_prime(n)]
    assert primes.verify_count(point, primes.found_answer(found))
    assert not primes.verify_count(point, primes.found_answer(found + [found[0]]))
    # one prime lost and another repeated: the count is right, the set is not
    assert not primes.verify_count(point, primes.found_answer(found[1:] + [found[-1]]))


# --- chunking: every candidate exactly once --------------------------------------------


@pytest.mark.parametrize("items", [1, 7, 100, 1_000, 100_000, 100_003])
@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_default_chunksize_is_the_one_pool_map_picks(items, workers):
    with ThreadPool(workers) as pool:  # the same Pool logic, without processes
        chosen = pool.map_async(abs, range(items))._chunksize
    assert primes.pool_default_chunksize(items, workers) == chosen


@pytest.mark.parametrize("items", [1, 10, 1_000, 10_007])
@pytest.mark.parametrize("chunks", [1, 2, 3, 7, 32])
def test_chunks_cover_every_candidate(items, chunks):
    size = primes.chunksize_for(items, chunks)
    assert primes.chunk_count(items, size) <= chunks
    assert (primes.chunk_count(items, size) - 1) * size < items <= primes.chunk_count(items, size) * size
    cut = primes.batches(list(range(items)), size)
    assert [n for batch in cut for n in batch] == list(range(items))


@pytest.mark.parametrize("chunksize", [1, 3, 333, 5_000])
def test_pool_map_checks_every_candidate_exactly_once(chunksize):
    numbers = primes.candidates(10**6, 1_000, shuffled=True)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(abs, numbers, chunksize=chunksize) == numbers
    assert sorted(numbers) == list(range(10**6, 10**6 + 1_000))


@pytest.mark.parametrize("first, count", [(0, 50), (2, 10), (3, 10), (10**8, 1_000)])
def test_odd_candidates_hold_every_prime(first, count):
    odd = primes.odd_candidates(first, count)
    assert len(odd) <= count // 2 + 2
    assert sum(map(primes.is_prime, odd)) == primes.sieve_count(first, count)


def test_sweeps_measure_the_pool_default_and_every_number_of_chunks():
    size = EXPERIMENTS["primes_chunksize"].points({"numbers": "1e4+1e3", "chunksizes": [1, 10], "workers": [2],
                                                   "methods": ["ordered", "shuffled"]})
    assert sorted((p.method, p.params["chunksize"]) for p in size) == [
        ("ordered", 0), ("ordered", 1), ("ordered", 10), ("shuffled", 0), ("shuffled", 1), ("shuffled", 10)]
    chunks = EXPERIMENTS["primes_chunks"].points({"numbers": "1e4+1e3", "max_chunks": 5, "workers": [2, 4],
                                                  "methods": ["ordered"]})
    assert sorted((p.workers, p.params["chunks"]) for p in chunks) == [(w, k) for w in (2, 4) for k in range(1, 6)]
    assert all(p.params["first"] == 10**4 and p.params["count"] == 10**3 for p in size + chunks)


# --- every method, every start method -------------------------------------------------

#: Every method this interpreter can run (subinterpreters need 3.13 or newer: tests/test_interpreters.py runs them there).
CASES = [(e.name, m.name) for e in FAMILY for m in e.methods if m.unavailable_reason() is None]
GRAIN = {"primes_chunksize": {"chunksize": 0}, "primes_chunks": {"chunks": 3}, "primes_queue": {"batch_size": 64}}


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("experiment_name, method_name", CASES)
def test_every_method_counts_the_primes_under_every_start_method(experiment_name, method_name, start_method):
    experiment = EXPERIMENTS[experiment_name]
    params = {**SMALL, **GRAIN.get(experiment_name, {})}
    answer = experiment.method(method_name).run(workers=2, start_method=start_method, **params)
    assert answer["result"] == primes.sieve_count(**SMALL)
    assert answer["prime_sum"] == primes.sieve_sum(**SMALL)
    assert experiment.verify(Point(method_name, 2, params), answer)


def test_the_cost_of_a_test_is_measured_on_primes_and_on_consecutive_numbers():
    cost = primes.PRIMES_COST
    points = cost.points({"magnitudes": [4, 6], "checks": 5, "workers": [1, 2], "methods": ["primes", "consecutive"]})
    assert sorted((p.method, p.workers, p.params["first"]) for p in points) == [
        ("consecutive", 1, 10**4), ("consecutive", 1, 10**6), ("primes", 1, 10**4), ("primes", 1, 10**6)]
    for point in points:
        method = cost.method(point.method)
        kwargs = {"workers": 1, "start_method": None, **point.params}
        if method.setup:
            method.setup(**kwargs)
        answer = method.run(**kwargs)
        assert cost.verify(point, answer), (point, answer)
    assert primes.next_primes(10**4, 3) == [10_007, 10_009, 10_037]
    # a test that called a composite prime, or missed a prime, is caught
    primes_point = Point("primes", 1, {"first": 10**4, "checks": 3})
    assert not cost.verify(primes_point, primes.found_answer([10_007, 10_009, 10_039]))
    assert not cost.verify(Point("consecutive", 1, {"first": 10**4, "checks": 5}), primes.found_answer([10_007]))


def test_the_default_chunk_size_is_recorded_where_none_was_given():
    answer = EXPERIMENTS["primes_chunksize"].method("ordered").run(workers=2, start_method="fork", **SMALL, chunksize=0)
    assert answer["chunksize_used"] == primes.pool_default_chunksize(SMALL["count"], 2) == 125


def test_queue_variants_send_the_items_they_claim():
    queue = EXPERIMENTS["primes_queue"]
    items = {m: queue.method(m).run(workers=2, start_method="fork", **SMALL, batch_size=100)["queue_items"]
             for m in ("queue", "manager_queue_odd", "queue_batched")}
    assert items == {"queue": 1_000, "manager_queue_odd": 500, "queue_batched": 10}


# --- queues end cleanly ------------------------------------------------------------------


def live_children() -> set[int]:
    """Our live descendants, leaving out the helpers multiprocessing keeps for a whole session."""
    alive = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "resource_tracker" not in command and "forkserver" not in command:
            alive.add(child.pid)
    return alive


@pytest.fixture
def no_orphans():
    """Fails the test if it leaves a process of its own running."""
    before = live_children()
    yield
    assert live_children() - before == set()


@pytest.mark.parametrize("kind", workqueue.QUEUE_KINDS)
@pytest.mark.parametrize("asynchronous", [False, True])
def test_pills_stop_every_worker(kind, asynchronous, no_orphans):
    found = workqueue.run_on_queue(primes.prime_or_none, range(100, 400), workers=3, start_method="fork", kind=kind,
                                   asynchronous=asynchronous, maxsize=5)
    assert sorted(found) == [n for n in range(100, 400) if primes.is_prime(n)]


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("kind", workqueue.QUEUE_KINDS)
def test_a_worker_that_raises_fails_the_run_with_its_error(kind, start_method, no_orphans):
    with pytest.raises(workqueue.QueueWorkError, match="a queue worker raised TypeError"):
        workqueue.run_on_queue(primes.prime_or_none, [3, "not a number", 5, 7], workers=2,
                               start_method=start_method, kind=kind, timeout=60)


def test_a_worker_that_dies_silently_fails_the_run(no_orphans):
    with pytest.raises(workqueue.QueueWorkError, match="exited with code 3"):
        workqueue.run_on_queue(os._exit, [3], workers=1, start_method="fork", timeout=60)


def test_a_run_past_its_deadline_fails_and_terminates_the_workers(monkeypatch, no_orphans):
    monkeypatch.setattr(workqueue, "JOIN_SECONDS", 0.2)
    started = time.monotonic()
    with pytest.raises(workqueue.QueueWorkError, match="timed out"):
        workqueue.run_on_queue(time.sleep, [60, 60], workers=2, start_method="fork", timeout=0.5)
    assert time.monotonic() - started < 20


def _queue_with_a_bad_number(*, workers: int, start_method: str | None) -> dict[str, int]:
    found = workqueue.run_on_queue(primes.prime_or_none, [11, "boom", 13], workers=workers,
                                   start_method=start_method, timeout=60)
    return {"result": len(found)}


def test_a_failing_queue_is_a_failed_trial_not_a_hang(no_orphans):
    experiment = Experiment(name="toy_queue", family="tests", title="toy", methods=(Method("queue", "q", _queue_with_a_bad_number),),
                            points=lambda settings: [], verify=lambda point, answer: True)
    # spare the processes that were there before (a forkserver of earlier tests), as a job does
    spare = tuple(child.pid for child in psutil.Process().children(recursive=True))
    row, _ = time_trial(experiment, Point("queue", 2), TrialContext(start_method="fork", memory_interval=None, spare=spare))
    assert not row["correct"]
    assert row["error"].startswith("QueueWorkError: a queue worker raised TypeError")


# --- the book ------------------------------------------------------------------------------


def test_the_copied_numbers_cite_the_book_and_every_table_is_whole():
    """The numbers were copied once, from the book's example repositories that ``source`` names:
    one time per chunk size, per number of chunks, and per process count of the queues."""
    ours = json.loads((REPO / "report" / "reference" / "book_primes.json").read_text())
    assert "High Performance Python" in ours["source"]
    assert all(ours[experiment] for experiment in ours["copied_from"])
    for table in ours["primes_chunksize"].values():
        assert len(table["seconds"]) == len(table["chunksizes"])
    for table in ours["primes_chunks"].values():
        assert len(table["seconds"]) == len(table["nbr_chunks"])
    for edition, table in ours["primes_queue"].items():
        for method, seconds in table.items():
            assert not isinstance(seconds, list) or len(seconds) == len(table["procs"]), (edition, method)


def test_book_rows_cover_the_published_numbers():
    book = book_primes.load_book()
    raw = json.loads((REPO / "report" / "reference" / "book_primes.json").read_text())
    ed1_size = book[(book["source"] == "ed1") & (book["experiment"] == "primes_chunksize") & (book["method"] == "ordered")]
    table = raw["primes_chunksize"]["ed1_primes_pool_plot_chunksize_type1"]
    second = raw["primes_chunksize"]["ed1_primes_pool_plot_chunksize_type2"]  # the powers of two 1–64
    only_second = set(second["chunksizes"]) - set(table["chunksizes"])
    assert len(ed1_size) == len(table["chunksizes"]) + 1 + len(only_second)
    assert set(ed1_size["workers"]) == {4}  # 10^5 numbers, default chunk size 6250
    queue = book[book["experiment"] == "primes_queue"]
    assert len(queue) == 3 * (1 + 4) + 4  # serial and four worker counts per edition, ed1's odd-only series


def test_comparison_relates_each_source_to_its_own_reference():
    summary = pd.DataFrame([
        {"experiment": "primes_queue", "method": "serial", "workers": 1, "median_seconds": 2.0, "min_seconds": 1.0},
        {"experiment": "primes_queue", "method": "manager_queue", "workers": 2, "median_seconds": 10.0,
         "min_seconds": 9.0},
        {"experiment": "primes_chunksize", "method": "ordered", "workers": 2, "chunksize": 1, "median_seconds": 3.0,
         "min_seconds": 2.0, "median_chunksize_used": 1},
        {"experiment": "primes_chunksize", "method": "ordered", "workers": 2, "chunksize": 0, "median_seconds": 1.5,
         "min_seconds": 1.25, "median_chunksize_used": 125},
    ])
    table = book_primes.compare(summary)
    ours = table[table["source"] == OURS].set_index(["method", "workers"])
    # the book's queue timings are single runs: medians beside them
    assert ours.loc[("manager_queue", 2), "relative"] == 5.0
    # its chunk sweeps are the fastest of its repeats: our fastest trials beside them
    sizes = table[(table["source"] == OURS) & (table["experiment"] == "primes_chunksize")].set_index("chunksize")
    assert sizes.loc[1, "relative"] == 1.6 and sizes.loc[1, "seconds"] == 2.0 and sizes.loc[0, "chunksize_used"] == 125
    ed2 = table[(table["source"] == "ed2") & (table["experiment"] == "primes_queue")].set_index("workers")
    assert ed2.loc[2, "relative"] == pytest.approx(97 / 24)
    assert "primes_chunks" not in set(table["experiment"])  # only what we measured is compared
