"""The interpreter axis: probing another Python, a job that cannot run on it, interpreters
with environment variables of their own, and the methods that run on the extra
interpreters tools/setup.sh builds (subinterpreters, PyPy), checked there."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from experiments import subinterpreters
from experiments.harness import TRIAL_COLUMNS
from experiments.interpreters import Interpreter, Unusable, child_environment, from_config, parse_env, probe
from experiments.pi import PI_PYTHON
from experiments.primes import PRIMES_POOL
from experiments.spec import unavailable_methods
from experiments.startup import POOL_STARTUP

#: The extra interpreters of the default grid, where tools/setup.sh puts them.
BUILT = {
    "cpython-3.13t": REPO / ".interpreters" / "cpython-3.13t" / "bin" / "python3.13t",
    "cpython-3.13": REPO / ".interpreters" / "cpython-3.13" / "bin" / "python3.13",
    "pypy3": REPO / ".interpreters" / "pypy3" / "bin" / "python",
}


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A real Python without the experiments' packages: a fresh venv of this one."""
    folder = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python")


def test_probe_describes_a_python_that_can_run_the_experiments():
    info = probe(sys.executable)
    assert info["version"] == platform.python_version()
    assert info["implementation"] == platform.python_implementation()
    assert info["gil_enabled"] is getattr(sys, "_is_gil_enabled", lambda: True)()


def test_probe_refuses_a_missing_interpreter():
    with pytest.raises(Unusable, match="no-such-python3.99 was not found"):
        probe("no-such-python3.99")


def test_probe_names_the_package_a_python_lacks(bare_python):
    with pytest.raises(Unusable, match=r"cannot import the experiments: ModuleNotFoundError: No module named '\w+'"):
        probe(bare_python)


def test_a_job_on_a_python_that_lacks_packages_is_recorded_as_skipped(bare_python, tmp_path):
    outputs = {name: tmp_path / f"job.{name}" for name in ("csv", "json", "cores.csv", "log")}
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "run", "pi_python", "--settings", json.dumps({"samples": 1000}),
         "--output", str(outputs["csv"]), "--provenance", str(outputs["json"]), "--cores", str(outputs["cores.csv"]),
         "--log", str(outputs["log"]), "--lock", str(tmp_path / "lock"), "--interpreter", "bare", "--python", bare_python],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert outputs["csv"].read_text().splitlines() == [",".join(TRIAL_COLUMNS)]
    provenance = json.loads(outputs["json"].read_text())
    assert provenance["interpreter"] == {"name": "bare", "executable": bare_python, "env": {}}
    assert "No module named" in provenance["skipped"] and provenance["trials"] == 0
    assert "skipped on interpreter bare" in outputs["log"].read_text()


def built(name: str) -> str:
    """The path of an interpreter tools/setup.sh builds; the test is skipped without it."""
    path = BUILT[name]
    if not path.exists():
        pytest.skip(f"{name} is not built (tools/setup.sh builds it)")
    return str(path)


def run_on(executable: str, code: str, env: dict[str, str] | None = None) -> object:
    """What ``code`` prints (JSON, on its last line) when run on ``executable`` with the checkout importable."""
    done = subprocess.run([executable, "-c", code], env=child_environment(env), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- interpreters with environment variables -------------------------------------------


def test_a_config_entry_is_an_executable_or_one_with_environment_variables():
    base = Path("/checkout")
    assert from_config("python3", base) == Interpreter("python3")
    assert from_config(".interpreters/x/bin/python", base) == Interpreter("/checkout/.interpreters/x/bin/python")
    entry = {"executable": "/opt/python3.13t", "env": {"PYTHON_GIL": 1}}
    assert from_config(entry, base) == Interpreter("/opt/python3.13t", {"PYTHON_GIL": "1"})


def test_an_interpreters_variables_travel_as_job_options_and_come_back():
    interpreter = Interpreter("/opt/python3.13t", {"PYTHON_GIL": "1", "PYTHONHASHSEED": "0"})
    arguments = interpreter.job_arguments()
    assert arguments[:2] == ["--python", "/opt/python3.13t"]
    assert parse_env(argument.split("=", 1)[1] for argument in arguments[2:]) == interpreter.env
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_env(["PYTHON_GIL"])


def test_the_child_environment_carries_the_interpreters_variables_over_ours(monkeypatch):
    monkeypatch.setenv("PYTHON_GIL", "0")
    env = child_environment({"PYTHON_GIL": "1"})
    assert env["PYTHON_GIL"] == "1" and env["PYTHONPATH"] == str(REPO)
    assert child_environment()["PYTHON_GIL"] == "0"


def test_python_gil_1_switches_the_gil_on_in_the_free_threaded_binary():
    python = built("cpython-3.13t")
    off = probe(python)
    on = probe(python, env={"PYTHON_GIL": "1"})
    assert off["free_threaded_build"] and on["free_threaded_build"]
    assert (off["gil_enabled"], off["python_gil"]) == (False, None)
    assert (on["gil_enabled"], on["python_gil"]) == (True, "1")


def test_the_gil_build_of_the_same_source_has_the_gil():
    info = probe(built("cpython-3.13"))
    assert info["version"].startswith("3.13.") and not info["free_threaded_build"] and info["gil_enabled"]


# --- subinterpreters -------------------------------------------------------------------


def test_without_an_interpreters_module_the_methods_are_left_out_with_the_reason(monkeypatch):
    monkeypatch.setattr(subinterpreters, "MODULES", ("no_such_interpreters_module",))
    reason = subinterpreters.unavailable()
    assert "has neither concurrent.interpreters" in reason and platform.python_version()[:3] in reason
    for experiment, settings in ((PI_PYTHON, {"samples": 1000}), (PRIMES_POOL, {"numbers": "1e3+1e2"}),
                                 (POOL_STARTUP, {})):
        grid = {**settings, "methods": list(experiment.method_names), "workers": [1, 2]}
        assert "subinterpreters" not in {point.method for point in experiment.points(grid)}
        assert unavailable_methods(experiment, grid) == {"subinterpreters": reason}
        # a method left out by the config is not reported as unavailable
        assert unavailable_methods(experiment, {**grid, "methods": ["serial"]}) == {}


#: On another interpreter: every method's answer and its check, for π, the primes and the pool start.
METHOD_ANSWERS = """
import json
from experiments import subinterpreters
from experiments.pi import PI_PYTHON
from experiments.primes import PRIMES_POOL, number_range
from experiments.spec import Point
from experiments.startup import POOL_STARTUP

def check(experiment, method, workers, **params):
    point = Point(method, workers, params)
    answer = experiment.method(method).run(workers=workers, start_method=None, **params)
    return [experiment.name, method, workers, bool(experiment.verify(point, answer))]

unavailable = subinterpreters.unavailable()
methods = ["serial", "threads", "processes"] + ([] if unavailable else ["subinterpreters"])
results = [check(PI_PYTHON, method, 2, samples=200000) for method in methods]
results += [check(PRIMES_POOL, method, 2, **number_range("1e6+1e4"))
            for method in ["serial", "pool_map"] + methods[3:]]
results += [check(POOL_STARTUP, method, 3) for method in ["fork", "spawn"] + methods[3:]]
print(json.dumps({"module": subinterpreters.interpreters_module(), "unavailable": unavailable, "results": results}))
"""


@pytest.mark.parametrize("name", ["cpython-3.13", "cpython-3.13t"])
def test_subinterpreters_give_right_answers_on_both_313_builds(name):
    answers = run_on(built(name), METHOD_ANSWERS)
    assert answers["module"] == "_interpreters" and answers["unavailable"] is None
    assert [row[1] for row in answers["results"]].count("subinterpreters") == 3
    assert all(ok for *_, ok in answers["results"]), answers["results"]


def test_a_failure_in_a_subinterpreter_fails_the_call_with_its_message():
    code = """
import json
from experiments.subinterpreters import map_in_interpreters
def broken(n):
    return n / 0
try:
    map_in_interpreters(broken, [(1,), (2,)], workers=2)
except RuntimeError as error:
    print(json.dumps(str(error)))
"""
    assert "ZeroDivisionError: division by zero" in run_on(built("cpython-3.13"), code)


def test_work_dealt_out_to_subinterpreters_comes_back_in_order():
    code = """
import json, math
from experiments.subinterpreters import interpreter_id, map_in_interpreters
def root(n):
    return math.isqrt(n)
print(json.dumps([map_in_interpreters(root, [(n * n,) for n in range(50)], workers=3),
                  sorted(set(map_in_interpreters(interpreter_id, [()] * 6, workers=3)))]))
"""
    roots, ids = run_on(built("cpython-3.13"), code)
    assert roots == list(range(50))
    assert len(ids) == 3 and 0 not in ids  # three interpreters, none of them the main one


# --- PyPy --------------------------------------------------------------------------------


def test_pypy_imports_the_experiments_and_runs_the_pools_but_not_subinterpreters():
    python = built("pypy3")
    assert probe(python)["implementation"] == "PyPy"
    answers = run_on(python, METHOD_ANSWERS)
    assert answers["module"] is None and "PyPy 3.9 has neither" in answers["unavailable"]
    assert {row[1] for row in answers["results"]} == {"serial", "threads", "processes", "pool_map", "fork", "spawn"}
    assert all(ok for *_, ok in answers["results"]), answers["results"]
