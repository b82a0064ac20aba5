"""The report's interpreter axis on a crafted summary of the default grid's interpreters:
which pair answers which question, subinterpreters, and the serial figure."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.registry import EXPERIMENTS
from report.claims.common import below
from report.figures import FigureInputs, draw_figures
from report.render import ExperimentView, axis_values, environment, has_interval

#: Serial seconds of the pure-Python π per interpreter; threads help on cpython-3.13t alone.
SERIAL = {"main": 1.5, "cpython-3.13t": 1.7, "cpython-3.13t-gil": 1.75, "cpython-3.13": 2.0, "pypy3": 0.2}


def point(experiment: str, interpreter: str, method: str, workers: int, seconds: float, speedup: float) -> dict:
    return {"experiment": experiment, "interpreter": interpreter, "method": method, "workers": workers,
            "start_method": "fork", "job_start_method": "fork", "median_seconds": seconds, "ci_low": seconds * 0.98,
            "ci_high": seconds * 1.02, "speedup": speedup, "speedup_low": speedup * 0.95,
            "speedup_high": speedup * 1.05, "interval_level": 0.95, "samples": 4_000_000}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    rows = []
    for interpreter, serial in SERIAL.items():
        rows.append(point("pi_python", interpreter, "serial", 1, serial, 1.0))
        for workers in (1, 2):
            gain = workers if interpreter == "cpython-3.13t" else 1
            rows.append(point("pi_python", interpreter, "threads", workers, serial / gain, gain))
            rows.append(point("pi_python", interpreter, "processes", workers, serial / workers, workers))
            if interpreter.startswith("cpython-3.13"):
                rows.append(point("pi_python", interpreter, "subinterpreters", workers, serial / workers, workers))
    for method, seconds in (("fork", 0.03), ("spawn", 0.15), ("subinterpreters", 0.02)):
        rows.append(point("pool_startup", "cpython-3.13", method, 2, seconds, 0.03 / seconds))
    rows.append(point("pool_startup", "main", "fork", 2, 0.03, 1.0))
    return pd.DataFrame(rows)


def described(name: str, **facts) -> dict:
    return {"name": name, "executable": f"/x/{name}", "implementation": "CPython", "version": "3.13.5",
            "free_threaded_build": False, "gil_enabled": True, "python_gil": None,
            "interpreters_module": "_interpreters", "skipped": {}, **facts}


INTERPRETERS = {
    "main": described("main", version="3.11.7", interpreters_module=None),
    "cpython-3.13t": described("cpython-3.13t", executable="/x/3.13t", free_threaded_build=True, gil_enabled=False),
    "cpython-3.13t-gil": described("cpython-3.13t-gil", executable="/x/3.13t", free_threaded_build=True, python_gil="1"),
    "cpython-3.13": described("cpython-3.13"),
    "pypy3": described("pypy3", implementation="PyPy", version="3.9.16", interpreters_module=None),
}


def rendered(summary: pd.DataFrame, template: str) -> str:
    jobs = {f"{experiment}@{name}": {"experiment": experiment, "interpreter": {"name": name}, "skipped": None,
                                      "start_method": "fork",
                                      "unavailable_methods": {} if INTERPRETERS[name]["interpreters_module"]
                                      else {"subinterpreters": f"{name} has neither module"}}
            for experiment, name in set(zip(summary["experiment"], summary["interpreter"]))}
    views = {name: ExperimentView(name, summary) for name in EXPERIMENTS}
    context = {"axes": axis_values(summary), "axes_views": views, "views": views, "interpreters": INTERPRETERS,
               "jobs": jobs, "main_interpreter": "main", "cores": 2, "ci": "95%", "figures": {}, "figure_titles": {},
               "has_interval": has_interval, "thread_gain": 1.2, "config": {"analysis": {"confidence": 0.95}},
               "threads_gain_verdict": lambda row: below(1.2, row["speedup"], row["speedup_low"], row["speedup_high"])}
    return " ".join(environment().get_template(template).render(**context).split())


def test_each_pair_of_interpreters_is_named_for_the_question_it_answers(summary):
    html = rendered(summary, "axes.html.j2")
    assert ("What the GIL does, with nothing else changed: <code>cpython-3.13t</code> against"
            " <code>cpython-3.13t-gil</code>") in html
    assert "What the free-threaded build costs: <code>cpython-3.13t</code> against <code>cpython-3.13</code>" in html
    assert "Version and build mixed: <code>main</code> against <code>cpython-3.13t</code>" in html
    assert "PyPy: <code>pypy3</code> against <code>main</code>" in html
    # the build pair: 1.7 s against 2 s serially, and two threads at 2.00× against 1.00×
    assert "takes 0.85× the time of the second" in html
    assert "2 threads ran 2.00× as fast as the serial loop on <code>cpython-3.13t</code>, 1.00× on <code>cpython-3.13</code>" in html


def test_subinterpreters_are_explained_with_their_module_and_start_up(summary):
    html = rendered(summary, "axes.html.j2")
    assert "own GIL (PEP 684)" in html and "is copied" in html and "preview" in html
    assert "<code>cpython-3.13</code> used <code>_interpreters</code>" in html
    assert "pypy3</code></td>" in html and "pi_python.subinterpreters skipped: pypy3 has neither module" in html
    assert "starting 2 subinterpreters, giving each one task and closing them took 20 ms" in html
    assert "150 ms under <code>spawn</code>" in html


def test_the_glance_lists_the_serial_loop_and_subinterpreters_per_interpreter(summary):
    html = rendered(summary, "glance/axes.html.j2")
    assert "200 ms on <code>pypy3</code>" in html
    assert "2 subinterpreters against it: 2.00× on <code>cpython-3.13t</code>" in html


def test_the_serial_figure_has_a_bar_per_interpreter_main_first(summary, tmp_path):
    inputs = FigureInputs(summary=summary, comparison=pd.DataFrame(), cpus=2, darts=300, axes_summary=summary)
    (path,) = draw_figures(inputs, ["pi_python_interpreter_serial"], tmp_path)
    svg = path.read_text()
    positions = [svg.index(f">{name}<") for name in SERIAL]
    assert positions == sorted(positions)
