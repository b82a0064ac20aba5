"""The real workflow on config/smoke.yaml: outputs, the tidy table, no overlapping trials; what an edit
reruns (in a copy of the checkout); the committed reference rebuilt without measuring."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from conftest import REFERENCE, REPO, copy_checkout, run_snakemake
from experiments.registry import EXPERIMENTS
from report.figures import figures_for
from report.load import EXTRA_COLUMNS, TIDY_COLUMNS


def test_run_produces_every_artefact(smoke_run, smoke_config):
    for name in ("report.html", "report.pdf", "trials.csv", "summary.csv", "book_comparison.csv", "run.json", "config.json"):
        assert (smoke_run / name).stat().st_size > 0, name
    for figure in figures_for(smoke_config["experiments"]):
        assert (smoke_run / "figures" / f"{figure}.svg").read_text().lstrip().startswith("<?xml")
    assert not list(smoke_run.glob("raw/*.partial.jsonl"))
    assert smoke_run.parent.parent.name == "results"


def interpreters_that_ran(section: dict, provenance: dict, experiment: str) -> list[str]:
    names = section.get("interpreters", ["main"])
    return [name for name in names if not provenance["jobs"][f"{experiment}@{name}"]["skipped"]]


def test_tidy_table_holds_every_trial_of_every_method(smoke_trials, smoke_config, smoke_provenance):
    assert list(smoke_trials.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert set(smoke_trials.columns) <= set(TIDY_COLUMNS) | set(EXTRA_COLUMNS)
    for name, section in smoke_config["experiments"].items():
        experiment = EXPERIMENTS[name]
        rows = smoke_trials[smoke_trials["experiment"] == name]
        assert set(rows["method"]) == set(experiment.method_names)
        assert set(rows["interpreter"]) == set(interpreters_that_ran(section, smoke_provenance, name))
        rounds = section.get("repeats", smoke_config["repeats"]) + section.get("warmup", smoke_config["warmup"])
        workers = section.get("workers", smoke_config["workers"])
        for method in experiment.methods:
            mine = rows[rows["method"] == method.name]
            # a point: interpreter, start method, worker count and parameters
            point = ["interpreter", "start_method", "workers", *experiment.params]
            measured_rounds = mine.groupby(point)["round"].nunique()
            expected_workers = workers if method.parallel else [1]
            assert sorted(set(measured_rounds.index.get_level_values("workers"))) == sorted(expected_workers)
            # every point in the warm-up and minimum rounds at least (rounds until precise may add more),
            # and one undisturbed trial per round at most (a disturbed one is measured again)
            assert (measured_rounds >= rounds).all()
            quiet = mine[~mine["disturbed"].astype(bool)]
            assert (quiet.groupby([*point, "round"]).size() == 1).all()
            expected_start_methods = (set(section["start_methods"]) if method.uses_start_method and "start_methods" in section
                                      else set(mine["job_start_method"]))
            assert set(mine["start_method"]) == expected_start_methods, (name, method.name)


def test_every_trial_gives_the_right_answer_unless_wrong_by_design(smoke_trials):
    for (experiment, method), rows in smoke_trials.groupby(["experiment", "method"]):
        if EXPERIMENTS[experiment].method(method).known_wrong:
            assert not rows["correct"].any()
        else:
            assert rows["correct"].all(), rows[["method", "workers", "result", "error"]]
            assert (rows["error"] == "").all()


def test_no_two_trials_overlap_in_time(smoke_trials):
    spans = sorted(zip(smoke_trials["started_at"], smoke_trials["ended_at"]))
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        assert start < end
        assert next_start >= end


def test_timed_jobs_record_their_thread_variables_and_provenance(smoke_provenance, smoke_config):
    assert set(smoke_provenance["jobs"]) == {f"{name}@{interpreter}" for name, section in smoke_config["experiments"].items()
                                             for interpreter in section.get("interpreters", ["main"])}
    for job in smoke_provenance["jobs"].values():
        if job["skipped"]:
            continue
        assert set(job["thread_variables"].values()) == {"1"}
        assert job["machine"]["logical_cpus"] == os.cpu_count()
        assert job["packages"]["numpy"] and job["start_method"] in ("fork", "spawn", "forkserver")
        assert job["git"]["commit"] is None or len(job["git"]["commit"]) == 40
        assert job["failed_trials"] == 0


def planned_or_ran(done) -> set[str]:
    """The rules of the jobs that Snakemake ran (listed on stderr) or planned in a dry run (on stdout)."""
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (done.stdout + done.stderr).splitlines()
    return {line.split()[-1].rstrip(":") for line in lines if line.startswith(("rule ", "localrule "))}


#: Seconds since the epoch for the sources, then the results, of the checkout copy: every result is
#: newer than every source, and no result is newer than another.
SOURCES_TIME, RESULTS_TIME = 1_700_000_000, 1_700_003_600


def set_mtimes(folder, seconds: int) -> None:
    """Date every file under ``folder``; the linked venv and interpreters are not followed."""
    for parent, _, names in os.walk(folder):
        for name in names:
            os.utime(os.path.join(parent, name), (seconds, seconds), follow_symlinks=False)


@pytest.fixture(scope="module")
def finished_checkout(smoke_run, tmp_path_factory):
    """A copy of the checkout holding the smoke run's results, up to date and safe to change:
    a change of its code or templates plans exactly what Snakemake reruns in the real checkout."""
    checkout = copy_checkout(tmp_path_factory.mktemp("finished") / "checkout")
    shutil.copytree(smoke_run.parent.parent, checkout / "results")
    set_mtimes(checkout, SOURCES_TIME)
    set_mtimes(checkout / "results", RESULTS_TIME)
    return checkout


def smoke_in(checkout, *args: str):
    """The smoke workflow of ``checkout``, run there."""
    return run_snakemake(checkout, "--cores", "4", "--configfile", str(checkout / "config" / "smoke.yaml"), *args,
                         checkout=checkout)


def dry_run_after_touching(checkout, relative: str):
    """A dry run once ``relative`` is newer than every result; the file's time is put back after."""
    path = checkout / relative
    path.touch()
    try:
        return smoke_in(checkout, "-n")
    finally:
        os.utime(path, (SOURCES_TIME, SOURCES_TIME))


def planned_after_touching(checkout, relative: str) -> set[str]:
    """The rules a dry run plans once ``relative`` is newer than every result."""
    return planned_or_ran(dry_run_after_touching(checkout, relative))


def test_a_finished_run_has_nothing_left_to_do(finished_checkout):
    assert planned_or_ran(smoke_in(finished_checkout, "-n")) == set()


def test_editing_a_figure_module_redraws_the_figures_without_rerunning_experiments(finished_checkout):
    assert planned_after_touching(finished_checkout, "report/figures/pi.py") == {"draw_figures", "render_html", "render_pdf", "all"}


def test_editing_the_analysis_reanalyses_without_rerunning_experiments(finished_checkout):
    planned = planned_after_touching(finished_checkout, "report/analysis.py")
    assert "analyze_trials" in planned and not planned & {"run_experiment", "collect_trials"}


def test_editing_a_family_module_reruns_its_jobs_and_no_unrelated_one(finished_checkout, smoke_config):
    done = dry_run_after_touching(finished_checkout, "experiments/pi.py")
    rerun = set(re.findall(r"wildcards: experiment=(\w+),", done.stdout))
    families = {name: EXPERIMENTS[name].family for name in smoke_config["experiments"]}
    assert {name for name, family in families.items() if family == "pi"} <= rerun
    # a family module that imports experiments.pi (sharing uses its split) reruns too; the others do not
    unrelated = {name for name, family in families.items()
                 if family != "pi" and "experiments.pi " not in (REPO / "experiments" / f"{family}.py").read_text()}
    assert unrelated and not rerun & unrelated


def test_editing_a_template_rerenders_only_the_html_and_pdf(finished_checkout):
    assert planned_after_touching(finished_checkout, "report/templates/report.html.j2") == {"render_html", "render_pdf", "all"}


def test_a_changed_template_is_rendered_without_rerunning_anything_else(finished_checkout):
    style = finished_checkout / "report" / "templates" / "style.css"
    marker = "/* re-render check */"
    style.write_text(style.read_text() + marker + "\n")
    try:
        assert planned_or_ran(smoke_in(finished_checkout)) == {"render_html", "render_pdf", "all"}
    finally:
        os.utime(style, (SOURCES_TIME, SOURCES_TIME))
    (report,) = (finished_checkout / "results").glob("*/smoke/report.html")
    assert marker in report.read_text()


def test_a_job_on_another_interpreter_runs_there_and_a_missing_one_is_skipped(smoke_run, smoke_provenance, smoke_config):
    jobs = smoke_provenance["jobs"]
    again = jobs["pi_python@same-again"]
    assert again["interpreter"]["executable"] == str(REPO / smoke_config["interpreters"]["same-again"])
    assert again["machine_id"] == jobs["pi_python@main"]["machine_id"] and again["trials"] > 0
    absent = jobs["pi_python@absent"]
    assert absent["skipped"] == "no-such-python3 was not found" and absent["trials"] == 0
    assert smoke_provenance["interpreters"]["absent"]["skipped"] == {"pi_python": "no-such-python3 was not found"}
    assert "skipped on interpreter absent" in (smoke_run / "logs" / "pi_python@absent.log").read_text()


def test_the_start_method_axis_is_measured_and_summarised_per_start_method(smoke_run, smoke_config):
    from report.analysis import point_keys
    from report.load import primary, read_table

    summary = read_table(smoke_run / "summary.csv")
    processes = summary[(summary["experiment"] == "pi_python") & (summary["method"] == "processes")
                        & (summary["interpreter"] == "main")]
    start_methods = smoke_config["experiments"]["pi_python"]["start_methods"]
    assert set(processes["start_method"]) == set(start_methods)
    # each start method has its own speedup over the one serial baseline
    assert processes.groupby("start_method")["speedup"].count().min() == len(smoke_config["workers"])
    # the sections and claims see only the job's own start method and interpreter: one row per point
    kept = primary(summary)
    for experiment, rows in kept.groupby("experiment"):
        keys = [key for key in point_keys(experiment) if key not in ("interpreter", "start_method")]
        assert not rows.duplicated(keys).any(), experiment


RERUN = "amd-epyc-2cpu-db7325b1-rerun"


def test_the_committed_reference_run_and_comparison_build_without_running_experiments(tmp_path):
    for machine in (REFERENCE[0], RERUN):
        committed = REPO / "results" / machine / REFERENCE[1]
        copy = tmp_path / "results" / machine / REFERENCE[1]
        copy.mkdir(parents=True)
        for path in committed.glob("*.csv"):
            shutil.copy(path, copy / path.name)
        for name in ("run.json", "config.json"):
            shutil.copy(committed / name, copy / name)
    # older than every source, as a clone may leave them: still no experiment may rerun
    set_mtimes(tmp_path / "results", SOURCES_TIME)

    done = run_snakemake(tmp_path, "--cores", "2", "all", "compare",
                         "--config", f"machine_name={REFERENCE[0]}", f"run_name={REFERENCE[1]}")

    assert not planned_or_ran(done) & {"run_experiment", "collect_trials"}
    report = (tmp_path / "results" / REFERENCE[0] / REFERENCE[1] / "report.html").read_text()
    assert "cpython-3.13t" in report and "What the start method costs" in report
    comparison = (tmp_path / "results" / "_compare" / REFERENCE[1] / "compare.html").read_text()
    assert REFERENCE[0] in comparison and RERUN in comparison
