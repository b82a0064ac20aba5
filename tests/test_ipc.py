"""The prime-verification family: verdicts under every start method, the early exit, Redis, the book's roles."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from conftest import START_METHODS
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from experiments import ipc, redis_server
from experiments.spec import Point
from report.book.ipc import ROLE_ORDER, number_roles
from report.figures.ipc import smallest_factors

REPO = Path(__file__).resolve().parent.parent

#: Small numbers with the book's structure: a tiny factor, two large factors, prime.
TINY_FACTOR, LARGE_FACTORS, PRIME = 10_000_015, 54_001 * 185_183, 10_000_000_019
CHECK_EVERY = 100


def _next_prime(n: int) -> int:
    while not ipc.is_prime(n):
        n += 1
    return n


#: A non-prime whose smallest factor is the first candidate after the serial pass,
#: with √n ≈ 10^7: a worker finds it at once, the other slice is millions of candidates long.
EARLY_FACTOR = _next_prime(ipc.SERIAL_CUTOFF)
EARLY = EARLY_FACTOR * _next_prime(10**14 // EARLY_FACTOR)
FLAG_METHODS = [m.name for m in ipc.METHODS if m.name not in ("serial", "naive_pool", "less_naive_pool")]


@pytest.fixture(scope="module")
def redis_resources():
    with redis_server.private_redis() as resources:
        yield resources


def _check(method: str, number: int, context: str | None, resources: dict) -> dict:
    return ipc.IPC_FLAGS.method(method).run(
        workers=2, start_method=None, number=number, check_every=CHECK_EVERY, context=context, **resources
    )


def _redis_servers() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"}


# --- the arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize("start, stop, parts", [(3, 100, 2), (3, 4, 3), (1001, 5000, 4), (3, 3, 2), (5, 1_000_001, 7)])
def test_slices_cover_every_odd_candidate_once(start, stop, parts):
    slices = ipc.split_odd_range(start, stop, parts)
    assert len(slices) == parts
    covered = [i for a, b in slices for i in range(a, b, 2)]
    assert covered == list(range(start, stop, 2))


def test_exact_primality_test_agrees_with_trial_division():
    assert [n for n in range(2000) if ipc.is_prime(n)] == [n for n in range(2, 2000) if all(n % d for d in range(2, math.isqrt(n) + 1))]
    roles = [ipc.is_prime(n) for n in ipc.BOOK_NUMBERS]
    assert roles == [False, False, False, True, True]


def _kind(n: int) -> str:
    if ipc.is_prime(n):
        return "prime"
    return "small factor" if any(n % d == 0 for d in range(2, ipc.SERIAL_CUTOFF)) else "large factors"


@pytest.mark.parametrize("experiment, kinds", [
    ("ipc_flags", ["small factor", "large factors", "large factors", "prime", "prime"]),
    ("ipc_contexts", ["large factors", "prime"]),
])
def test_the_default_numbers_have_the_books_structure(experiment, kinds):
    schema = yaml.safe_load((REPO / "config" / "config.schema.yaml").read_text())
    numbers = schema["properties"]["experiments"]["properties"][experiment]["properties"]["numbers"]["default"]
    assert [_kind(n) for n in numbers] == kinds
    assert [_kind(n) for n in ipc.numbers_of({"numbers": "book"})] == ["small factor", "large factors", "large factors", "prime", "prime"]


# --- verdicts under every start method ---------------------------------------------------


def test_every_method_finds_a_tiny_factor_without_a_pool_or_with_one(redis_resources):
    for method in ipc.METHODS:
        answer = _check(method.name, TINY_FACTOR, None, redis_resources)
        assert ipc.verify_verdict(Point(method.name, 2, {"number": TINY_FACTOR}), answer), (method.name, answer)
        assert answer["factor"] == 5


@pytest.mark.parametrize("context", START_METHODS)
@pytest.mark.parametrize("method", [m.name for m in ipc.METHODS])
def test_every_method_gives_the_right_verdict_under_every_start_method(method, context, redis_resources):
    composite = _check(method, LARGE_FACTORS, context, redis_resources)
    assert composite["result"] == 0 and composite["factor"] == 54_001
    prime = _check(method, PRIME, context, redis_resources)
    assert prime["result"] == 1 and prime["factor"] is None
    # a prime leaves no early exit: every candidate up to the square root was tried
    assert prime["candidates"] == len(range(3, math.isqrt(PRIME) + 1, 2))
    for number, answer in ((LARGE_FACTORS, composite), (PRIME, prime)):
        assert ipc.verify_verdict(Point(method, 2, {"number": number}), answer)


@pytest.mark.parametrize("method", [m.name for m in ipc.METHODS])
def test_edge_cases_no_candidates_squares_and_factors_at_the_cutoff(method, redis_resources):
    for number in (3, 5, 9, 25, 997 * 997, EARLY_FACTOR**2, 2 * 500_009):
        answer = _check(method, number, "fork", redis_resources)
        assert ipc.verify_verdict(Point(method, 2, {"number": number}), answer), (number, answer)


def test_verification_rejects_wrong_verdicts_and_false_factors():
    point = Point("serial", 1, {"number": LARGE_FACTORS})
    assert not ipc.verify_verdict(point, {"result": 1, "factor": None})
    assert not ipc.verify_verdict(point, {"result": 0, "factor": 7})
    assert not ipc.verify_verdict(Point("serial", 1, {"number": PRIME}), {"result": 0, "factor": 3})


# --- the early exit --------------------------------------------------------------------------


@pytest.mark.parametrize("context", START_METHODS)
@pytest.mark.parametrize("method", FLAG_METHODS)
def test_a_found_factor_stops_every_worker_under_every_start_method(method, context, redis_resources):
    answer = _check(method, EARLY, context, redis_resources)
    full = len(range(ipc.SERIAL_CUTOFF, math.isqrt(EARLY) + 1, 2))
    assert answer["factor"] == EARLY_FACTOR
    assert answer["stopped_early"] == 1
    # the other worker read the flag and stopped long before the end of its slice (the
    # bound leaves it tens of milliseconds, for a loaded machine; without a flag it is half of all)
    assert answer["candidates"] < full // 10
    # the countdown loops read once per check_every candidates, the look-ahead and block loops twice as often
    assert 0 < answer["flag_reads"] < full // 10 // (CHECK_EVERY // 2)
    assert answer["stop_latency"] >= 0


class _NeverSet:
    """A flag nobody sets, counting its reads."""

    def __init__(self):
        self.reads = 0

    def is_set(self) -> bool:
        self.reads += 1
        return False

    def set(self) -> None:
        raise AssertionError("a prime has no factor to report")


@pytest.mark.parametrize("loop, candidates_per_read", [
    ("countdown", CHECK_EVERY), ("lookahead", CHECK_EVERY // 2), ("blocks", CHECK_EVERY // 2),
    ("blocks_local", CHECK_EVERY // 2)])
def test_the_book_loops_read_the_flag_as_often_as_the_books(loop, candidates_per_read):
    # the look-ahead and block loops step through numbers, the odd half of which are candidates
    flag = _NeverSet()
    outcome = ipc.LOOPS[loop](PRIME, 3, 3 + 2 * 10_000, flag, CHECK_EVERY)
    assert outcome.stopped == "end" and outcome.candidates == 10_000
    assert flag.reads == outcome.flag_reads
    assert abs(flag.reads - 10_000 // candidates_per_read) <= 1


def test_without_a_flag_the_other_workers_search_to_the_end(redis_resources):
    answer = _check("less_naive_pool", EARLY, "fork", redis_resources)
    assert answer["factor"] == EARLY_FACTOR
    assert answer["stopped_early"] == 0
    assert answer["candidates"] >= len(range(ipc.SERIAL_CUTOFF, math.isqrt(EARLY) + 1, 2)) // 2
    assert answer["flag_reads"] == 0


# --- Redis: a real server, and none ------------------------------------------------------------


def test_the_redis_server_lives_exactly_as_long_as_the_job(monkeypatch):
    before = _redis_servers()
    settings = {"methods": ["redis"]}
    with ipc.IPC_FLAGS.session(settings) as resources:
        socket = Path(resources["redis_socket"])
        started = _redis_servers() - before
        assert len(started) == 1 and socket.exists()
        answer = ipc.IPC_FLAGS.method("redis").run(workers=2, start_method="fork", number=EARLY, check_every=CHECK_EVERY, **resources)
        assert answer["stopped_early"] == 1
        assert redis_server.connect(str(socket)).dbsize() == 0  # the trial's key is gone

        def broken_search(*args):
            raise ZeroDivisionError("a worker failed")

        monkeypatch.setitem(ipc.LOOPS, "countdown", broken_search)  # forked workers inherit the patch
        with pytest.raises(ZeroDivisionError, match="a worker failed"):
            ipc.IPC_FLAGS.method("redis").run(workers=2, start_method="fork", number=PRIME, check_every=CHECK_EVERY, **resources)
    assert not socket.parent.exists()
    assert not (_redis_servers() & started)
    assert not [c for c in psutil.Process().children(recursive=True) if c.pid in started]


def test_no_redis_server_is_started_when_the_redis_method_is_not_selected():
    with ipc.IPC_FLAGS.session({"methods": ["serial", "rawvalue"]}) as resources:
        assert resources == {"redis_socket": None, "redis_problem": "redis is not measured"}


def test_without_redis_server_only_the_redis_trials_fail_with_an_install_hint(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    with ipc.IPC_FLAGS.session({"methods": ["redis", "rawvalue"]}) as resources:
        with pytest.raises(redis_server.RedisUnavailable, match="redis-server is not installed: install it with tools/setup.sh"):
            _check("redis", PRIME, "fork", resources)
        assert _check("rawvalue", PRIME, "fork", resources)["result"] == 1


def test_a_job_without_redis_server_completes_and_records_why(tmp_path):
    settings = {"methods": ["serial", "redis"], "numbers": [LARGE_FACTORS], "workers": [2], "repeats": 1,
                "warmup": 0, "check_every": CHECK_EVERY}
    output = tmp_path / "ipc_flags.csv"
    env = {**os.environ, "PATH": str(tmp_path)}  # no redis-server on it
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "run", "ipc_flags", "--settings", json.dumps(settings),
         "--output", str(output), "--provenance", str(tmp_path / "p.json"), "--cores", str(tmp_path / "cores.csv"),
         "--lock-folder", str(tmp_path),
         "--memory-interval", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "redis-server is not installed: install it with tools/setup.sh" in done.stderr
    trials = pd.read_csv(output).set_index("method")
    assert bool(trials.loc["serial", "correct"])
    assert not bool(trials.loc["redis", "correct"])
    assert trials.loc["redis", "error"].startswith("RedisUnavailable: redis-server is not installed")


# --- the grid, the figure's sieve, the book's roles ----------------------------------------


def test_contexts_are_a_point_parameter_of_every_method():
    settings = {"methods": ["serial", "mmap"], "numbers": [PRIME], "workers": [2], "check_every": 10,
                "contexts": ["spawn", "forkserver"]}
    points = ipc.IPC_CONTEXTS.points(settings)
    assert {(p.method, p.workers, p.params["context"]) for p in points} == {
        ("serial", 1, "spawn"), ("serial", 1, "forkserver"), ("mmap", 2, "spawn"), ("mmap", 2, "forkserver")}


def test_smallest_factor_sieve_matches_trial_division():
    factors = smallest_factors(500)
    for n in range(500):
        divisors = [d for d in range(2, math.isqrt(n) + 1) if n % d == 0]
        assert factors[n] == (divisors[0] if divisors else 0), n


def test_book_numbers_get_the_books_roles():
    triples = [(n, ipc.is_prime(n), None if ipc.is_prime(n) else f)
               for n, f in zip(ipc.BOOK_NUMBERS, (5, 95_362_951, 171_656_941, None, None))]
    roles = number_roles(triples)
    assert [roles[n] for n in ipc.BOOK_NUMBERS] == list(ROLE_ORDER)
