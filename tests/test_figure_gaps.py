"""A point with no usable trial (all failed, or all set aside as disturbed) is a gap in its figure, not a crash."""

from __future__ import annotations

import pandas as pd

from report.analysis import summarize
from report.figures import FigureInputs, draw_figures
from report.load import read_table
from tests.test_analysis import trials


def test_figures_draw_a_point_without_any_usable_trial_as_a_gap(tmp_path):
    table = trials({("serial", 1): 1.0, ("processes", 2): 0.6, ("threads", 2): 1.0}, rounds=6)
    table.loc[table["method"] == "threads", "disturbed"] = True
    # through a CSV, as the workflow reads it: the empty medians come back as pandas' NA
    summarize(table).to_csv(tmp_path / "summary.csv", index=False)
    summary = read_table(tmp_path / "summary.csv")
    assert summary["median_seconds"].isna().any()
    inputs = FigureInputs(summary=summary, comparison=pd.DataFrame(columns=["experiment", "source"]), cpus=2, darts=100)
    (path,) = draw_figures(inputs, ["pi_python"], tmp_path / "figures")
    assert path.read_text().startswith("<?xml")
