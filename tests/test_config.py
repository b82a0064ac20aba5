"""Configuration: defaults, the worker grid, and one clear error per bad input, before any job runs."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, run_snakemake
from experiments.config import ConfigError, default_workers, load_config, read_config_file
from experiments.registry import EXPERIMENTS

SMOKE = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


def changed(change: dict) -> dict:
    """The smoke config with top-level keys replaced and experiment sections updated."""
    config = copy.deepcopy(SMOKE)
    for key, value in change.items():
        if key == "experiments":
            for experiment, section in value.items():
                config["experiments"].setdefault(experiment, {}).update(section)
        else:
            config[key] = value
    return config


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


def test_every_config_file_loads():
    for path in (REPO / "config").glob("*.yaml"):
        if path.name != "config.schema.yaml":
            assert load_config(read_config_file(path), logical_cpus=2), path


def test_resolution_fills_methods_and_inherits_grid_keys():
    config = {"workers": "auto", "repeats": 4, "warmup": 1, "interpreters": {"other": "python3"},
              "experiments": {"pi_python": {"samples": 1000, "interpreters": ["main", "other"]},
                              "seeding": {"workers": [4, 2], "repeats": 2, "draws_per_worker": 5}}}
    resolved = load_config(config, logical_cpus=2)
    assert resolved["pi_python"]["interpreters"] == ["main", "other"]
    assert resolved["seeding"]["interpreters"] == ["main"]
    assert "start_methods" not in resolved["seeding"]
    assert resolved["pi_python"]["methods"] == list(EXPERIMENTS["pi_python"].method_names)
    assert resolved["pi_python"]["workers"] == [1, 2, 4]
    assert resolved["pi_python"]["repeats"] == 4
    assert resolved["seeding"]["workers"] == [2, 4]
    assert resolved["seeding"]["repeats"] == 2


def test_every_experiment_gets_the_round_keys_and_disturbance_limits_with_their_defaults():
    config = copy.deepcopy(SMOKE)
    for key in ("precision", "max_rounds", "time_budget_seconds", "trial_timeout_seconds", "disturbance"):
        config.pop(key, None)  # the schema's defaults, not the smoke grid's choices
    resolved = load_config(config, logical_cpus=2)
    assert set(resolved) == set(SMOKE["experiments"])
    for settings in resolved.values():
        assert settings["precision"] == 0.03 and settings["max_rounds"] == 40
        assert settings["time_budget_seconds"] == 60 and settings["trial_timeout_seconds"] is None
        assert settings["disturbance"] == {"max_foreign_share": 0.1, "min_foreign_seconds": 0.05, "max_remeasures": 3}
        assert settings["repeats"] <= settings["max_rounds"]


def test_an_experiment_overrides_round_keys_and_the_others_inherit_the_top_level_ones():
    config = changed({"precision": 0.1, "time_budget_seconds": 5, "trial_timeout_seconds": 30, "max_rounds": 9,
                      "disturbance": {"max_remeasures": 0},
                      "experiments": {"pi_python": {"precision": 0.01, "max_rounds": 3, "trial_timeout_seconds": None}}})
    resolved = load_config(config, logical_cpus=2)
    assert (resolved["pi_python"]["precision"], resolved["pi_python"]["max_rounds"]) == (0.01, 3)
    assert resolved["pi_python"]["trial_timeout_seconds"] is None and resolved["pi_python"]["time_budget_seconds"] == 5
    assert (resolved["seeding"]["precision"], resolved["seeding"]["max_rounds"]) == (0.1, 9)
    assert resolved["seeding"]["trial_timeout_seconds"] == 30
    assert resolved["seeding"]["disturbance"] == {"max_foreign_share": 0.1, "min_foreign_seconds": 0.05, "max_remeasures": 0}
    assert resolved["seeding"]["disturbance"] is not resolved["pi_python"]["disturbance"]


def test_defaults_are_filled_into_the_config_itself_for_the_record():
    config = copy.deepcopy(SMOKE)
    load_config(config, logical_cpus=2)
    assert config["disturbance"]["max_remeasures"] == 3 and config["analysis"]["confidence"] == 0.95
    assert config["experiments"]["primes_chunks"].get("chunksizes") is None
    assert config["experiments"]["primes_chunksize"]["chunksizes"] == [1, 100]


#: Bad values refused by load_config, what the workflow runs first: change → fragments of the one line.
REFUSED = {
    "repeats as a whole float": ({"repeats": 2.0}, ["at repeats:", "2.0 is not of type 'integer'", "without a decimal point"]),
    "workers as whole floats": ({"workers": [2.0]}, ["at workers[0]:", "2.0 is not of type 'integer'"]),
    "an experiment's repeats as a float": ({"experiments": {"seeding": {"repeats": 1.0}}}, ["experiments.seeding.repeats"]),
    "huge samples": ({"experiments": {"pi_python": {"samples": 10**30}}},
                     ["experiments.pi_python.samples", "greater than the maximum of 10000000000", "would take hours"]),
    "samples as a huge float": ({"experiments": {"pi_python": {"samples": 1e30}}}, ["experiments.pi_python.samples", "would take hours"]),
    "too many workers": ({"workers": [100000]}, ["workers[0]", "maximum of 1024", "CPUs"]),
    "too many chunks": ({"experiments": {"primes_chunks": {"max_chunks": 10**9}}},
                        ["experiments.primes_chunks.max_chunks", "maximum of 1000", "a round take hours"]),
    "too many increments": ({"experiments": {"file_counter": {"increments": 10**9}}}, ["increments", "hours"]),
    "NaN precision": ({"precision": float("nan")}, ["at precision:", "not of type 'number'", "finite"]),
    "infinite budget": ({"time_budget_seconds": float("inf")}, ["time_budget_seconds", "finite"]),
    "precision of 1": ({"precision": 1}, ["at precision:", "1 is greater than or equal to the maximum of 1"]),
    "no time budget": ({"time_budget_seconds": 0}, ["time_budget_seconds", "less than or equal to the minimum of 0"]),
    "a budget over a day": ({"time_budget_seconds": 90000}, ["time_budget_seconds", "maximum of 86400", "a day"]),
    "negative trial timeout": ({"trial_timeout_seconds": -1}, ["trial_timeout_seconds"]),
    "trial timeout as text": ({"experiments": {"pi_python": {"trial_timeout_seconds": "soon"}}},
                              ["experiments.pi_python.trial_timeout_seconds", "'soon' is not of type 'number', 'null'"]),
    "no rounds": ({"max_rounds": 0}, ["at max_rounds:", "minimum of 1"]),
    "repeats above max_rounds": ({"repeats": 5, "max_rounds": 3}, ["experiments.pi_python:", "repeats 5", "max_rounds 3"]),
    "an experiment's repeats above its max_rounds": ({"experiments": {"seeding": {"max_rounds": 1, "repeats": 2}}},
                                                     ["experiments.seeding:", "repeats 2", "max_rounds 1"]),
    "hold shorter than twice memory_interval": ({"memory_interval": 0.1, "experiments": {"numpy_sharing": {"hold_seconds": 0.15}}},
                                                ["experiments.numpy_sharing.hold_seconds", "0.15 is less than twice memory_interval (0.1 s)",
                                                 "at least 0.2"]),
    "memory sampled too often": ({"memory_interval": 0.001}, ["memory_interval", "minimum of 0.01", "CPU time"]),
    "unknown disturbance key": ({"disturbance": {"max_share": 0.2}}, ["at disturbance:", "'max_share'", "did you mean 'max_foreign_share'"]),
    "too many remeasures": ({"disturbance": {"max_remeasures": 21}}, ["disturbance.max_remeasures", "maximum of 20"]),
    "no foreign share": ({"disturbance": {"max_foreign_share": 0}}, ["disturbance.max_foreign_share"]),
    "disturbance as a number": ({"disturbance": 0.1}, ["at disturbance:", "0.1 is not of type 'object'"]),
    "an interpreter named by a number": ({"interpreters": {1: "python3"}}, ["interpreters", "1 is not of type 'string'"]),
    "analysis as text": ({"analysis": "fast"}, ["at analysis:", "'fast' is not of type 'object'"]),
    "nested garbage for workers": ({"workers": [{"a": [None, {"b": 1}]}]}, ["workers[0]", "is not of type 'integer'"]),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_bad_values_are_refused_with_one_line_and_the_reason(name):
    change, expected = REFUSED[name]
    with pytest.raises(ConfigError) as refused:
        load_config(changed(change), logical_cpus=2)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("invalid configuration at "), message
    for fragment in expected:
        assert fragment in message, message


def test_a_config_without_experiments_is_refused():
    with pytest.raises(ConfigError, match="at \\(top level\\): 'experiments' is a required property"):
        load_config({"repeats": 3}, logical_cpus=2)


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("run_name: smoke\nrepeats: [2\nwarmup: 1\n")
    with pytest.raises(ConfigError) as refused:
        read_config_file(path)
    assert str(refused.value) == (f"invalid configuration file {path}, line 3, column 7: expected ',' or ']', but got ':'"
                                  " (while parsing a flow sequence from line 2, column 10)")


def test_the_config_checker_names_a_broken_files_line_and_passes_good_ones(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("experiments:\n\tpi_python: {}\n")
    done = subprocess.run([sys.executable, "-m", "experiments.config", str(REPO / "config" / "smoke.yaml"), str(broken)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"invalid configuration file {broken}, line 2, column 1:"
                                        " found character '\\t' that cannot start any token"]


def test_a_yaml_syntax_error_in_the_default_config_names_its_line(tmp_path):
    # the default config is read by the Snakefile: break it in a copy of the workflow
    shutil.copy(REPO / "Snakefile", tmp_path)
    for folder in ("rules", "config", "experiments", "report"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    default = tmp_path / "config" / "config.yaml"
    text = default.read_text()
    default.write_text(text.replace("repeats: 6", "repeats: [6", 1))
    # the unclosed list is noticed where the next key starts, on the line after it
    after = next(number for number, line in enumerate(text.splitlines(), 1) if line.startswith("repeats:")) + 1
    done = subprocess.run([str(REPO / ".venv" / "bin" / "snakemake"), "-n", "--cores", "1"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    assert f"invalid configuration file {default}, line {after}, column 7: expected ',' or ']'" in output, output


@pytest.mark.parametrize("setting, expected", [
    ("repeats=2.0", ["at repeats:", "2.0 is not of type 'integer'"]),
    ("workers=[2]", ["at workers[0]:", "'2' is not of type 'integer'"]),
    ("analysis=fast", ["at analysis:", "'fast' is not of type 'object'"]),
])
def test_a_bad_value_given_with_config_is_refused_in_one_line(tmp_path, setting, expected):
    done = run_snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(REPO / "config" / "smoke.yaml"),
                         "--config", setting, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "invalid configuration" in line]
    for fragment in expected:
        assert fragment in line, line


def test_a_yaml_syntax_error_in_a_configfile_stops_snakemake_before_any_job(tmp_path):
    # Snakemake reads --configfile before our Snakefile runs, and names no line: the README points to the checker
    broken = tmp_path / "broken.yaml"
    broken.write_text((REPO / "config" / "smoke.yaml").read_text().replace("repeats: 2", "repeats: [2", 1))
    done = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(broken), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    assert "not valid JSON or YAML" in output
    assert not (tmp_path / "results").exists()


BAD_CONFIGS = {
    "zero workers": ({"workers": [0]}, ["workers[0]", "minimum of 1"]),
    "negative workers": ({"workers": [2, -1]}, ["workers[1]", "minimum of 1"]),
    "workers as a word": ({"workers": "two"}, ["workers", "'two'", '"auto"']),
    # a real method, then "threads" misspelt
    "unknown method": ({"experiments": {"pi_python": {"methods": [EXPERIMENTS["pi_python"].method_names[0], "thread"]}}},
                       ["experiments.pi_python.methods[1]", "'thread'", ", ".join(EXPERIMENTS["pi_python"].method_names),
                        "did you mean 'threads'"]),
    "fractional samples": ({"experiments": {"pi_python": {"samples": 2500.5}}}, ["experiments.pi_python.samples", "not of type 'integer'"]),
    "whole float repeats": ({"repeats": 2.0}, ["repeats", "2.0 is not of type 'integer'"]),
    "whole float workers": ({"workers": [2.0]}, ["workers[0]", "2.0 is not of type 'integer'"]),
    "huge samples": ({"experiments": {"pi_python": {"samples": 10**30}}}, ["experiments.pi_python.samples", "would take hours"]),
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
    config_path = tmp_path / "bad.yaml"
    config_path.write_text(yaml.safe_dump(changed(change)))
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
