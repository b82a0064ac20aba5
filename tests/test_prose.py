"""Sentences that state a direction follow the verdict or interval they quote, on both sides of its threshold.

Each test renders one part of the report from the committed reference run's tables, with one claim
or one point crafted to lie above, below or across its threshold, and reads the sentence that results.
"""

from __future__ import annotations

import collections
import json
import re

import pandas as pd
import pytest

from experiments.registry import EXPERIMENTS
from report.book import book_metadata
from report.load import primary, read_table
from report.render import build_context, environment

from conftest import REFERENCE_RUN

#: The macros report.html.j2 imports for every section.
MACROS = ('{% from "macros.html.j2" import figure, interval, scaling_lead, fastest_lead, points_table, book_table,'
          ' book_relative_table, book_wide_table with context %}{% set cores = machine.usable_cpus %}')


@pytest.fixture(scope="module")
def reference():
    """The reference run's tables, as the html step reads them."""
    return {
        "summary": read_table(REFERENCE_RUN / "summary.csv"),
        "claims": read_table(REFERENCE_RUN / "claims.csv"),
        "comparison": read_table(REFERENCE_RUN / "book_comparison.csv"),
        **{name: json.loads((REFERENCE_RUN / f"{name}.json").read_text()) for name in ("quality", "run", "config")},
    }


def render(reference, template: str, *, claims=None, summary=None) -> str:
    """The text of ``template`` rendered from the reference tables, with crafted ``claims`` or ``summary``."""
    summary = reference["summary"] if summary is None else summary
    context = build_context(summary=primary(summary), axes_summary=summary, comparison=reference["comparison"],
                            claims=reference["claims"] if claims is None else claims, quality=reference["quality"],
                            run=reference["run"], config=reference["config"], figures_dir=REFERENCE_RUN,
                            figure_names=[], book_meta=book_metadata())
    # the sentences are the point, not the drawings
    context["figures"] = context["figure_titles"] = collections.defaultdict(str)
    html = environment().from_string(MACROS + '{% include "' + template + '" %}').render(
        **context, downloads=[], quiet=None)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def crafted_claim(claims: pd.DataFrame, claim: str, verdict: str, value: float, low: float, high: float):
    claims = claims.copy()
    row = claims["claim"] == claim
    assert row.any(), f"the reference run has no claim {claim}"
    claims.loc[row, ["verdict", "value", "low", "high"]] = [verdict, value, low, high]
    return claims


@pytest.mark.parametrize(("value", "low", "high", "said", "unsaid"), [
    (1.5, 1.3, 1.7, "the RawValue with a Lock counted faster", "was the slower"),
    (0.7, 0.6, 0.8, "the RawValue with a Lock was the slower", "counted faster"),
    (1.0, 0.8, 1.2, "did not differ clearly", "counted faster"),
])
def test_the_counter_sentence_follows_the_lock_cost_interval(reference, value, low, high, said, unsaid):
    claims = crafted_claim(reference["claims"], "rawvalue-lock-fast", "inconclusive", value, low, high)
    text = render(reference, "sections/value_counter.html.j2", claims=claims)
    assert said in text
    assert unsaid not in text
    if value > 1.3:  # the book's figure comes from the claim, as the claims table gives it
        book = claims.set_index("claim").loc["rawvalue-lock-fast", "book"]
        assert f"(the book: {book})" in text


@pytest.mark.parametrize(("verdict", "said"), [
    ("reproduced", "extra workers only take turns"),
    ("not reproduced", "more workers still gained here"),
    ("inconclusive", "cannot tell whether extra workers gain anything"),
])
def test_the_beyond_the_cores_sentence_follows_its_verdict(reference, verdict, said):
    claims = crafted_claim(reference["claims"], "no-gain-beyond-cores", verdict, 1.0, 0.9, 1.1)
    text = render(reference, "sections/pi_python.html.j2", claims=claims)
    assert said in text
    others = {"extra workers only take turns", "more workers still gained here",
              "cannot tell whether extra workers gain anything"} - {said}
    assert not [sentence for sentence in others if sentence in text]


@pytest.mark.parametrize(("verdict", "value", "said"), [
    ("reproduced", 1.6, "here the fill alone did (1.60× faster)"),
    ("not reproduced", 1.04, "here it did not pay off"),
    ("inconclusive", 1.04, "cannot tell whether the fill alone got faster"),
    ("not applicable", 1.04, "cannot test whether the fill alone got faster (not applicable)"),
])
def test_the_random_fill_sentence_follows_its_verdict(reference, verdict, value, said):
    claims = crafted_claim(reference["claims"], "parallel-fill-faster", verdict, value, value - 0.1, value + 0.1)
    assert said in render(reference, "sections/random_fill.html.j2", claims=claims)


def crafted_point(summary: pd.DataFrame, experiment: str, method: str, workers: int | None, **columns) -> pd.DataFrame:
    """``summary`` with ``columns`` set on one point, or on the method's points at every worker count (None)."""
    summary = summary.copy()
    rows = primary(summary)
    chosen = (rows["experiment"] == experiment) & (rows["method"] == method)
    index = rows.index[chosen & (rows["workers"] == workers)] if workers is not None else rows.index[chosen]
    assert len(index) == 1 or workers is None and len(index), f"the reference run lacks {experiment}.{method}"
    for column, value in columns.items():
        summary.loc[index, column] = value
    return summary


def queue_workers(reference) -> int:
    return int(primary(reference["summary"]).query("experiment == 'primes_queue'")["workers"].max())


@pytest.mark.parametrize(("low", "high", "beats"), [(1.05, 1.4, True), (0.9, 1.4, False), (0.5, 0.8, False)])
def test_a_queue_beats_the_serial_loop_only_when_its_whole_interval_does(reference, low, high, beats):
    w = queue_workers(reference)
    summary = reference["summary"]
    for method in primary(summary).query("experiment == 'primes_queue' and workers == @w")["method"]:
        # every other queue clearly loses, so the sentence can only name the crafted one
        summary = crafted_point(summary, "primes_queue", method, w, speedup=0.5, speedup_low=0.4, speedup_high=0.6)
    summary = crafted_point(summary, "primes_queue", "queue_batched", w, speedup=(low + high) / 2,
                            speedup_low=low, speedup_high=high)
    text = render(reference, "sections/primes_queue.html.j2", summary=summary)
    label = EXPERIMENTS["primes_queue"].method("queue_batched").label
    assert (f"With {w} workers, only {label} beat the serial loop" in text) == beats
    assert (f"With {w} workers, no queue clearly beat the serial loop" in text) != beats


def numpy_advice(reference, threads_interval, processes_interval) -> str:
    summary = reference["summary"]
    for method, (low, high) in (("threads", threads_interval), ("processes", processes_interval)):
        summary = crafted_point(summary, "pi_numpy", method, None, speedup=(low + high) / 2,
                                speedup_low=low, speedup_high=high)
    return render(reference, "summary.html.j2", summary=summary)


@pytest.mark.parametrize(("threads", "processes", "said"), [
    ((1.9, 2.1), (1.5, 1.7), "threads are enough"),  # threads clearly ahead
    ((1.5, 1.8), (1.6, 1.9), "threads are enough"),  # no clear difference: the cheaper tool will do
    ((1.1, 1.3), (1.7, 1.9), "processes still win here"),
])
def test_the_numpy_advice_follows_the_two_intervals(reference, threads, processes, said):
    text = numpy_advice(reference, threads, processes)
    assert said in text
    assert ({"threads are enough", "processes still win here"} - {said}).pop() not in text


def with_winner(reference, experiment: str, method: str, ci_high: float):
    """The reference summary with every point of ``experiment`` at 2 s [1.9, 2.1] but ``method``'s, at 1 s [0.9, ci_high]."""
    summary = reference["summary"]
    for other in primary(summary).query("experiment == @experiment")["method"].unique():
        summary = crafted_point(summary, experiment, other, None, median_seconds=2.0, ci_low=1.9, ci_high=2.1)
    return crafted_point(summary, experiment, method, None, median_seconds=1.0, ci_low=0.9, ci_high=ci_high)


@pytest.mark.parametrize(("ci_high", "clearly"), [(1.1, True), (1.95, False)])
def test_a_figure_calls_a_method_the_fastest_only_when_its_interval_is_below_every_other(reference, ci_high, clearly):
    method = EXPERIMENTS["pool_startup"].methods[0]
    summary = with_winner(reference, "pool_startup", method.name, ci_high)
    text = render(reference, "sections/pool_startup.html.j2", summary=summary)
    assert (f"{method.label} is the fastest at every worker count" in text) == clearly


@pytest.mark.parametrize(("ci_high", "clearly"), [(1.1, True), (1.95, False)])
def test_the_advice_calls_a_method_the_fastest_only_when_its_interval_is_below_every_other(reference, ci_high, clearly):
    advice = render(reference, "summary.html.j2", summary=with_winner(reference, "pi_python", "processes", ci_high))
    assert f"{EXPERIMENTS['pi_python'].method('processes').label} with" in advice
    assert ("was the fastest by its median, though not clearly ahead" in advice) != clearly


def test_a_point_without_usable_trials_reads_n_a_and_breaks_no_sentence(reference):
    """Every trial of a point set aside (disturbed, or wrong): its ratios say n/a, and the section still renders."""
    summary = reference["summary"]
    said = {"primes_chunksize": "No chunk size had a usable trial"}
    for experiment in ("primes_queue", "primes_chunksize", "pool_startup", "numpy_sharing"):
        for method in primary(summary).query("experiment == @experiment")["method"].unique():
            summary = crafted_point(summary, experiment, method, None, median_seconds=float("nan"),
                                    ci_low=float("nan"), ci_high=float("nan"))
        text = render(reference, f"sections/{experiment}.html.j2", summary=summary)
        assert said.get(experiment, "n/a") in text, experiment


def crafted_failures(summary: pd.DataFrame, failures: dict) -> pd.DataFrame:
    """The summary with no failed trial but ``failures``: (interpreter, method, start method, workers) → (failed, error)."""
    summary = summary.copy()
    summary["wrong_trials"], summary["error"] = 0, ""
    for (interpreter, method, start_method, workers), (failed, error) in failures.items():
        row = ((summary["experiment"] == "primes_pool") & (summary["interpreter"] == interpreter)
               & (summary["method"] == method) & (summary["start_method"] == start_method) & (summary["workers"] == workers))
        assert row.sum() == 1, f"the reference run has no primes_pool point {interpreter} {method} {start_method} {workers}"
        summary.loc[row, ["wrong_trials", "error"]] = [failed, error]
    return summary


def test_a_run_without_failures_says_so_and_lists_none(reference):
    summary = crafted_failures(reference["summary"], {})
    assert "failed, at" not in render(reference, "summary.html.j2", summary=summary)
    text = render(reference, "report.html.j2", summary=summary)
    assert "No trial failed" in text and "Failed trials" not in text


def test_failed_trials_on_any_interpreter_reach_the_first_screen_and_the_appendix_with_their_errors(reference):
    summary = crafted_failures(reference["summary"], {
        ("pypy3", "executor_map", "spawn", 2): (6, "AttributeError: no _adjust_process_count"),
        ("cpython-3.13", "pool_map", "forkserver", 1): (2, ""),
    })
    assert "8 timed trials failed, at 2 points on cpython-3.13, pypy3" in render(reference, "summary.html.j2",
                                                                                 summary=summary)
    text = render(reference, "report.html.j2", summary=summary)
    assert "Points whose trials failed (an error, or an answer that failed its check), on any interpreter: 2" in text
    assert ("Finding primes with a process pool pypy3 spawn ProcessPoolExecutor.map 2 6 of "
            in text) and "AttributeError: no _adjust_process_count" in text
    assert "cpython-3.13 forkserver Pool.map 1 2 of " in text and " wrong answer " in text
