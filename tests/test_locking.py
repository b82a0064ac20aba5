"""The locking family: locked counters exact under every start method, unlocked ones checked
for what they can do, private folders removed, and Redis failing alone when it is missing."""

from __future__ import annotations

import io
from conftest import START_METHODS
from pathlib import Path

import pytest

from experiments import locking, redis_server
from experiments.harness import run_trials
from experiments.spec import Point

WORKERS, INCREMENTS = 3, 150
EXPECTED = WORKERS * INCREMENTS
CASES = [(e, m.name) for e in locking.EXPERIMENTS for m in e.methods]


def _workers(experiment, method: str) -> int:
    """The worker count the harness gives a method: one for those that are not parallel."""
    return WORKERS if experiment.method(method).parallel else 1


@pytest.fixture(scope="module")
def redis():
    with locking.VALUE_COUNTER.session({"methods": ["redis_incr"]}) as resources:
        yield resources


def _counter_folders() -> set[Path]:
    return set(Path(locking.COUNTER_PARENT or locking.tempfile.gettempdir()).glob("mp-report-counter-*"))


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("experiment, method", CASES, ids=[f"{e.name}-{m}" for e, m in CASES])
def test_locked_counters_are_exact_and_unlocked_ones_pass_their_own_check(experiment, method, start_method, redis):
    folders = _counter_folders()
    resources = redis if experiment is locking.VALUE_COUNTER else {}
    workers = _workers(experiment, method)
    answer = experiment.method(method).run(workers=workers, start_method=start_method, increments=INCREMENTS, **resources)
    point = Point(method, workers, {"increments": INCREMENTS})
    assert experiment.verify(point, answer), answer
    assert answer["lost_updates"] == workers * INCREMENTS - answer["result"]
    assert answer["count_seconds"] > 0
    if method not in locking.UNLOCKED:
        assert answer["result"] == workers * INCREMENTS
    elif experiment is locking.VALUE_COUNTER:
        assert 0 < answer["result"] <= EXPECTED  # a shared integer only loses updates
    assert _counter_folders() == folders  # the trial's private folder is gone


@pytest.mark.parametrize("final, locked_ok, file_ok, value_ok", [
    (EXPECTED, True, True, True),
    (EXPECTED - 7, False, True, True),
    (EXPECTED + 7, False, True, False),  # only a file can run ahead
    (0, False, False, False),
])
def test_checks_demand_exact_locked_counts_and_bound_unlocked_integers(final, locked_ok, file_ok, value_ok):
    answer = locking.counter_answer(final, [(0.0, 1.0)], workers=WORKERS, increments=INCREMENTS)
    point = Point("get_lock", WORKERS, {"increments": INCREMENTS})
    assert locking.VALUE_COUNTER.verify(point, answer) == locked_ok
    assert locking.FILE_COUNTER.verify(Point("lock_each", WORKERS, point.params), answer) == locked_ok
    assert locking.FILE_COUNTER.verify(Point("no_lock", WORKERS, point.params), answer) == file_ok
    assert locking.VALUE_COUNTER.verify(Point("no_lock", WORKERS, point.params), answer) == value_ok


def test_a_stale_short_number_written_over_a_long_one_runs_the_file_ahead(tmp_path):
    # what two unlocked workers can do: one opens the file for writing after the other wrote "1000"
    path = tmp_path / "counter.txt"
    path.write_text("1000")
    with path.open("r+") as late_writer:  # positioned at 0, like a worker whose "w" open came first
        late_writer.write("99")
    assert locking.read_count(path) == 9900


def test_the_books_reader_counts_from_zero_on_an_empty_file_and_ours_waits(tmp_path):
    path = tmp_path / "counter.txt"
    path.write_text("")
    assert locking.read_count_or_zero(path) == 0
    locking.increment_file(path, locking.read_count_or_zero)
    assert path.read_text() == "1"
    path.write_text("41")
    assert locking.read_count_or_zero(path) == 41


def test_one_process_without_a_lock_counts_exactly_and_is_measured_at_one_worker():
    method = locking.FILE_COUNTER.method("one_process")
    assert not method.parallel
    answer = method.run(workers=1, start_method="fork", increments=INCREMENTS)
    assert answer["result"] == INCREMENTS
    # it takes no lock, but nobody interleaves with it: judged like a locked counter
    assert not locking.FILE_COUNTER.verify(Point("one_process", 1, {"increments": INCREMENTS}),
                                           {**answer, "result": INCREMENTS - 1})


def test_counting_time_spans_all_workers():
    answer = locking.counter_answer(10, [(1.0, 2.0), (1.5, 3.5)], workers=2, increments=5)
    assert answer == {"result": 10, "lost_updates": 0, "count_seconds": 2.5}


def test_without_redis_server_only_the_redis_trials_fail_with_its_message(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    rows = []
    settings = {"methods": ["get_lock", "redis_incr"], "workers": [2], "repeats": 1, "warmup": 0, "increments": 50}
    outcome = run_trials(locking.VALUE_COUNTER, settings, start_method="fork", on_trial=rows.append,
                          progress=io.StringIO(), memory_interval=None)
    by_method = {row["method"]: row for row in rows}
    assert outcome.failures == 1
    assert by_method["get_lock"]["correct"] and by_method["get_lock"]["result"] == 100
    assert not by_method["redis_incr"]["correct"]
    assert by_method["redis_incr"]["error"].startswith("RedisUnavailable: redis-server is not installed: install it with")


def test_no_server_is_started_when_redis_is_not_measured(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("private_redis must not start")

    monkeypatch.setattr("experiments.redis_server.private_redis", fail)
    with locking.VALUE_COUNTER.session({"methods": ["no_lock"]}) as resources:
        assert resources["redis_socket"] is None
