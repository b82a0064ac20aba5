"""Configuration: defaults, the worker grid, and one clear error per bad input, before any job runs."""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO, run_snakemake
from experiments.config import default_workers, resolve_experiments
from experiments.registry import EXPERIMENTS


@pytest.mark.parametrize("cpus, expected", [(1, [1, 2]), (2, [1, 2, 4]), (3, [1, 2, 3, 4]), (6, [1, 2, 4, 6, 8]), (8, [1, 2, 4, 8, 16])])
def test_auto_workers_are_powers_of_two_up_to_twice_the_cpus_plus_the_cpu_count(cpus, expected):
    assert default_workers(cpus) == expected


def test_schema_lists_exactly_the_registered_experiments():
    schema = yaml.safe_load((REPO / "config" / "config.schema.yaml").read_text())
    assert set(schema["properties"]["experiments"]["properties"]) == set(EXPERIMENTS)


def test_every_config_file_names_only_registered_experiments():
    for path in (REPO / "config").glob("*.yaml"):
        if path.name != "config.schema.yaml":
            assert set(yaml.safe_load(path.read_text())["experiments"]) <= set(EXPERIMENTS), path


def test_resolution_fills_methods_and_inherits_grid_keys():
    config = {"workers": "auto", "repeats": 4, "warmup": 1, "interpreters": {"other": "python3"},
              "experiments": {"pi_python": {"samples": 10, "interpreters": ["main", "other"]},
                              "seeding": {"workers": [4, 2], "repeats": 2, "draws_per_worker": 5}}}
    resolved = resolve_experiments(config, logical_cpus=2)
    assert resolved["pi_python"]["interpreters"] == ["main", "other"]
    assert resolved["seeding"]["interpreters"] == ["main"]
    assert "start_methods" not in resolved["seeding"]
    assert resolved["pi_python"]["methods"] == list(EXPERIMENTS["pi_python"].method_names)
    assert resolved["pi_python"]["workers"] == [1, 2, 4]
    assert resolved["pi_python"]["repeats"] == 4
    assert resolved["seeding"]["workers"] == [2, 4]
    assert resolved["seeding"]["repeats"] == 2


BAD_CONFIGS = {
    "zero workers": ({"workers": [0]}, ["workers[0]", "minimum of 1"]),
    "negative workers": ({"workers": [2, -1]}, ["workers[1]", "minimum of 1"]),
    "workers as a word": ({"workers": "two"}, ["workers", "'two'", '"auto"']),
    "unknown method": ({"experiments": {"pi_python": {"methods": ["serial", "thread"]}}},
                       ["experiments.pi_python.methods[1]", "'thread'", "serial, threads, processes, joblib", "did you mean 'threads'"]),
    "fractional samples": ({"experiments": {"pi_python": {"samples": 2500.5}}}, ["experiments.pi_python.samples", "not of type 'integer'"]),
    "negative samples": ({"experiments": {"pi_numpy": {"samples": -5}}}, ["experiments.pi_numpy.samples", "minimum of 1000"]),
    "unknown experiment": ({"experiments": {"pi_pyton": {}}}, ["experiments", "'pi_pyton'", "pi_python", "did you mean 'pi_python'"]),
    "zero repeats": ({"repeats": 0}, ["repeats", "minimum of 1"]),
    "repeats as text": ({"repeats": "five"}, ["repeats", "'five' is not of type 'integer'"]),
    "unknown top-level key": ({"repeat": 3}, ["'repeat'", "did you mean 'repeats'"]),
    "unknown interpreter": ({"experiments": {"pi_python": {"interpreters": ["main", "pypy"]}}},
                            ["experiments.pi_python.interpreters[1]", "'pypy'", "allowed: main, ", "same-again"]),
    "interpreter called main": ({"interpreters": {"main": "python3"}}, ["interpreters", "'main'"]),
    "unknown start method": ({"experiments": {"pi_python": {"start_methods": ["fork", "threads"]}}},
                             ["experiments.pi_python.start_methods[1]", "'threads'"]),
    "start methods where no method uses one": ({"experiments": {"seeding": {"start_methods": ["spawn"]}}},
                                               ["experiments.seeding", "'start_methods'"]),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_fails_before_any_job_with_one_clear_line(name, tmp_path):
    change, expected = BAD_CONFIGS[name]
    config = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    for key, value in change.items():
        if key == "experiments":
            for experiment, section in value.items():
                config["experiments"].setdefault(experiment, {}).update(section)
        else:
            config[key] = value
    config_path = tmp_path / "bad.yaml"
    config_path.write_text(yaml.safe_dump(config))
    earlier = tmp_path / "results" / "earlier-machine" / "smoke" / "report.html"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("an earlier report")

    done = run_snakemake(tmp_path, "--cores", "4", "--configfile", str(config_path))

    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "invalid configuration" in line]
    assert len(lines) == 1, done.stderr
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    assert earlier.read_text() == "an earlier report"
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["earlier-machine"]
