"""The report's parts that need no run: honest precision, table columns, the palette, the first screen's inputs."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

from experiments.registry import EXPERIMENTS
from report.claims.common import NOT_APPLICABLE
from report.figures.palette import STYLES
from report.render import (
    ExperimentView,
    data_downloads,
    format_estimate,
    has_interval,
    key_findings,
    machine_quiet,
    verdict_tally,
)


@pytest.mark.parametrize(("value", "low", "high", "text"), [
    (57.6026, 3.7769, 72.5237, "58× [4, 73]"),  # the example: no "57.60×" on a 4-to-73 interval
    (0.95386, 0.73296, 1.44117, "0.95× [0.73, 1.44]"),
    (1234.0, 100.0, 5000.0, "1200× [100, 5000]"),
    (0.75, 0.75, 0.75, "0.75× [0.75, 0.75]"),  # no width: three significant figures
    (2.5, None, None, "2.5×"),
])
def test_an_estimate_is_rounded_to_its_interval(value, low, high, text):
    assert format_estimate(value, low, high, "×") == text


def test_a_bound_that_would_round_to_zero_keeps_its_first_digit():
    assert format_estimate(5.0, 0.004, 40.0) == "5 [0.004, 40]"


def test_a_missing_value_says_so():
    assert format_estimate(None) == "n/a"


def test_an_interval_of_level_zero_or_without_bounds_is_not_shown():
    assert has_interval({"ci_low": 1.0, "ci_high": 2.0})
    assert has_interval({"ci_low": 1.0, "ci_high": 2.0, "interval_level": 0.75})
    assert not has_interval({"ci_low": 1.0, "ci_high": 2.0, "interval_level": 0.0})
    assert not has_interval({"ci_low": float("nan"), "ci_high": 2.0})


def _summary(experiment: str, **columns) -> pd.DataFrame:
    """Two points of ``experiment``'s first two methods, with the given extra columns."""
    methods = list(EXPERIMENTS[experiment].method_names)[:2]
    base = {"experiment": experiment, "method": methods, "workers": [1, 1], "median_seconds": [1.0, 2.0],
            "ci_low": [0.9, 1.8], "ci_high": [1.1, 2.2], "trials": [3, 3], "correct_trials": [3, 3]}
    params = {name: [1, 1] for name in EXPERIMENTS[experiment].params}  # one value each: no parameter column
    return pd.DataFrame({**base, **params, **columns})


def test_a_table_leaves_out_columns_without_any_value():
    summary = _summary("seeding", speedup=[float("nan")] * 2, median_duplicated_draws=[5.0, 0.0],
                       median_draws=[10.0, 10.0], efficiency=[float("nan")] * 2, cpu_utilisation=[1.0, 1.0])
    view = ExperimentView("seeding", summary)
    compact = [c["key"] for c in view.table_columns()]
    assert compact == ["method", "workers", "median_seconds", "median_duplicated_draws", "median_draws"]
    full = [c["key"] for c in view.table_columns(full=True)]
    assert "speedup" not in full and "efficiency" not in full and "cpu_utilisation" in full and "trials" in full


def test_a_scaling_table_shows_speedup_and_efficiency():
    summary = _summary("pi_python", speedup=[1.0, 0.5], speedup_low=[0.9, 0.4], speedup_high=[1.1, 0.6],
                       efficiency=[1.0, 0.5])
    keys = [c["key"] for c in ExperimentView("pi_python", summary).table_columns()]
    assert keys == ["method", "workers", "median_seconds", "speedup", "efficiency"]


def test_no_two_methods_of_an_experiment_share_a_colour_or_a_marker():
    for experiment in EXPERIMENTS.values():
        styles = [STYLES[name] for name in experiment.method_names]
        assert len({s.color for s in styles}) == len(styles), experiment.name
        assert len({s.marker for s in styles}) == len(styles), experiment.name


def test_a_method_name_and_a_start_method_keep_one_style_everywhere():
    assert STYLES["fork"] != STYLES["spawn"] != STYLES["forkserver"]
    # the pool_startup methods are the start methods: one style for both meanings
    assert {name for name in EXPERIMENTS["pool_startup"].method_names} >= {"fork", "spawn", "forkserver"}


def _claims() -> pd.DataFrame:
    return pd.DataFrame({
        "claim": ["threads-no-gain", "processes-linear", "numpy-10x", "cache-instant"],
        "verdict": ["inconclusive", NOT_APPLICABLE, "reproduced", "reproduced"],
        "statement": ["a", "b", "c", "d"], "value": [1.0, 0.5, 40.0, 58.0], "low": [0.7, 0.3, 31.0, 4.0],
        "high": [1.4, 0.7, 53.0, 73.0],
    })


def test_the_tally_counts_every_verdict():
    assert verdict_tally(_claims()) == [{"verdict": "reproduced", "count": 2}, {"verdict": "inconclusive", "count": 1},
                                        {"verdict": NOT_APPLICABLE, "count": 1}]


def test_the_findings_are_the_key_claims_in_their_order():
    assert [f["claim"] for f in key_findings(_claims())] == ["processes-linear", "threads-no-gain"]


def test_how_quiet_the_machine_was_needs_the_disturbance_columns():
    trials = pd.DataFrame({"warmup": [True, False, False], "seconds": [1.0, 2.0, 3.0]})
    assert machine_quiet(trials) is None
    empty = float("nan")
    assert machine_quiet(trials.assign(disturbed=pd.NA, foreign_cpu_seconds=empty, steal_seconds=empty)) is None
    quiet = machine_quiet(trials.assign(disturbed=[True, True, False], foreign_cpu_seconds=[9.0, 0.5, 0.25],
                                        steal_seconds=[0.0, 0.1, 0.0]))
    assert quiet == {"trials": 2, "disturbed": 1, "foreign_cpu_seconds": 0.75, "steal_seconds": 0.1,
                     "timed_seconds": 5.0}


def test_the_data_files_beside_the_report_are_embedded(tmp_path):
    (tmp_path / "summary.csv").write_text("a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("not data")
    [download] = data_downloads(tmp_path)
    assert download["name"] == "summary.csv"
    assert base64.b64decode(download["uri"].removeprefix("data:text/csv;base64,")) == b"a,b\n1,2\n"


def test_a_section_shows_its_declared_measurements_with_their_units_as_filters():
    from report.render import shown_measures

    counter = EXPERIMENTS["value_counter"]
    assert shown_measures(counter) == (("median_lost_updates", "lost updates", "count"),
                                       ("median_count_seconds", "counting time", "seconds"))
    assert shown_measures(EXPERIMENTS["numpy_sharing"])[0] == ("median_peak_pss_bytes", "peak PSS", "bytes")


def test_a_section_cannot_show_what_its_experiment_does_not_measure():
    import dataclasses

    from report.render import shown_measures

    wrong = dataclasses.replace(EXPERIMENTS["value_counter"], shown=("queue_items",))
    with pytest.raises(ValueError, match="value_counter shows 'queue_items'"):
        shown_measures(wrong)


def test_a_sweeps_section_table_keeps_each_methods_fastest_slowest_and_default_points():
    sizes = {0: 1.5, 1: 3.0, 10: 1.2, 100: 1.4, 1000: 2.0}
    summary = pd.DataFrame([{"experiment": "primes_chunksize", "method": "ordered", "workers": 2, "chunksize": size,
                             "first": 10**8, "count": 10**4,
                             "median_seconds": seconds, "ci_low": seconds, "ci_high": seconds}
                            for size, seconds in sizes.items()])
    view = ExperimentView("primes_chunksize", summary)
    assert sorted(row["chunksize"] for row in view.table_rows()) == [0, 1, 10]
    assert len(view.table_rows(full=True)) == len(sizes)
