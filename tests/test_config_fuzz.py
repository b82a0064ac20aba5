"""Configuration fuzzing: a few hundred bad configurations, each refused with one clear line.

Every case mutates config/config.yaml or config/smoke.yaml in a way that is wrong by
construction (a wrong type, a float for an integer, a negative or huge number, an
unknown key or name, an empty list, null where it is not allowed, nested garbage),
and goes through :func:`experiments.config.load_config`, what the workflow runs
before any job. None may end in anything but a :class:`ConfigError` of one line.
"""

from __future__ import annotations

import copy
import math
import random

import pytest
import yaml

from conftest import REPO, run_snakemake
from experiments.config import ConfigError, load_config

BASES = {name: yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text()) for name in ("config", "smoke")}
SCHEMA = yaml.safe_load((REPO / "config" / "config.schema.yaml").read_text())

#: Garbage that no key of the schema accepts.
NESTED_GARBAGE = [{"a": [None, {"b": float("nan")}]}, [[{"x": -1}]], {"": {}}, [[], [[]]]]

#: Bad replacements for a value, by the type of the value they replace. Each is wrong
#: wherever a value of that type stands in these files (null is left out for numbers:
#: memory_interval takes it; text for mappings: an interpreter may be given as either).
BAD_VALUES = {
    int: lambda value: [float(value), value + 0.5, -abs(value) - 1, 10**30, 2**64, "text", None, True, [value]],
    float: lambda value: [-1.0, -value, 1e300, math.nan, math.inf, -math.inf, "text", [value], {"value": value}],
    str: lambda value: ["", 123, [], None, {"name": value}, 1.5],
    list: lambda value: [[], "text", None, 7, [None], [{"a": 1}], {"0": value}],
    dict: lambda value: [[], None, 3, 2.5, True, [value]],
}


def value_paths(value, path=()):
    """Every (path, value) below ``value``, containers included, the root excepted."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*path, key), child
        yield from value_paths(child, (*path, key))


def replaced(config, path, new):
    """A copy of ``config`` with the value at ``path`` replaced."""
    changed = copy.deepcopy(config)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return changed


def with_key(config, path, key, value):
    """A copy of ``config`` with ``key: value`` added to the mapping at ``path``."""
    changed = copy.deepcopy(config)
    target = changed
    for part in path:
        target = target[part]
    target[key] = value
    return changed


def renamed(config, path):
    """A copy of ``config`` with the key at ``path`` misspelt (its last two letters swapped)."""
    changed = copy.deepcopy(config)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    name = path[-1]
    parent[name[:-2] + name[-1] + name[-2]] = parent.pop(name)
    return changed


def schema_type(path) -> str | None:
    """The schema's type for the value at ``path`` of a config file (None where it names none)."""
    node = SCHEMA
    for key in path:
        if "$ref" in node:
            node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
        children = node.get("properties", {})
        node = children.get(key) if isinstance(key, str) else node.get("items")
        if node is None:
            return None
    return SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]].get("type") if "$ref" in node else node.get("type")


def type_mutations(config):
    """Every value replaced by every bad value for its type."""
    for path, value in value_paths(config):
        if isinstance(value, dict) and not value and path[-1] != "experiments":
            continue  # an empty section is fine: its defaults fill it
        for bad in BAD_VALUES[type(value)](value):
            if isinstance(value, int) and isinstance(bad, float) and schema_type(path) == "number":
                continue  # 5.0 and 5.5 seconds are numbers, where a whole number was written
            if path[:1] == ("interpreters",) and len(path) == 2 and isinstance(bad, str) and bad:
                continue  # an interpreter may be given as a plain command name: valid
            yield f"{path} = {bad!r}", replaced(config, path, bad)


def key_mutations(config):
    """Unknown keys in every mapping, and every key misspelt."""
    mappings = [((), config), *((path, value) for path, value in value_paths(config) if isinstance(value, dict))]
    for path, mapping in mappings:
        # under interpreters a new name is allowed, but not a number for its executable
        yield f"{path} + bogus_key", with_key(config, path, "bogus_key", 1)
        for key in mapping:
            if isinstance(key, str) and len(key) > 2 and key[-1] != key[-2]:
                yield f"{path} rename {key}", renamed(config, (*path, key))


def name_and_grid_mutations(config):
    """Unknown method and start method names, and keys that contradict each other."""
    for name in config["experiments"]:
        yield f"{name} methods", with_key(config, ("experiments", name), "methods", ["no_such_method"])
        yield f"{name} start_methods", with_key(config, ("experiments", name), "start_methods", ["forkk"])
        yield f"{name} interpreters", with_key(config, ("experiments", name), "interpreters", ["main", "pypy"])
        yield f"{name} garbage", with_key(config, ("experiments", name), "workers", NESTED_GARBAGE[0])
    yield "repeats above max_rounds", {**copy.deepcopy(config), "repeats": 5, "max_rounds": 1}
    yield "hold_seconds below twice memory_interval", {**copy.deepcopy(config), "memory_interval": 1.0}
    yield "disturbance garbage", {**copy.deepcopy(config), "disturbance": {"max_foreign_share": NESTED_GARBAGE[1]}}
    yield "disturbance share of 0", {**copy.deepcopy(config), "disturbance": {"max_foreign_share": 0}}
    yield "21 remeasures", {**copy.deepcopy(config), "disturbance": {"max_remeasures": 21}}
    yield "precision of 1", {**copy.deepcopy(config), "precision": 1}
    yield "no time budget", {**copy.deepcopy(config), "time_budget_seconds": 0}
    yield "negative trial timeout", {**copy.deepcopy(config), "trial_timeout_seconds": -1}
    yield "interpreter named by a number", {**copy.deepcopy(config), "interpreters": {1: "python3"}}
    for index, garbage in enumerate(NESTED_GARBAGE):
        yield f"top level garbage {index}", garbage


def all_mutations():
    """Mutations of both files, sampled with a fixed seed, then some with a second wrong value on top."""
    singles = [(f"{base}: {what}", config) for base, original in BASES.items()
               for generate in (type_mutations, key_mutations, name_and_grid_mutations)
               for what, config in generate(original)]
    rng = random.Random(16)
    chosen = rng.sample(singles, 300)
    return chosen + [second_mutation(rng, *rng.choice(singles)) for _ in range(60)]


def second_mutation(rng, what, config):
    """``config`` with one more wrong value: -1 for a number of its file that the first mutation left."""
    base = BASES[what.split(":")[0]]
    numbers = [path for path, value in value_paths(base) if type(value) in (int, float) and _exists(config, path)]
    path = rng.choice(numbers)
    return f"{what}, and {path} = -1", replaced(config, path, -1)


def _exists(config, path) -> bool:
    """Whether ``path`` still leads to a value in ``config`` (a mutation may have replaced its parent)."""
    target = config
    for key in path:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and isinstance(key, int) and key < len(target):
            target = target[key]
        else:
            return False
    return True


MUTATIONS = all_mutations()


def test_there_are_a_few_hundred_mutations_of_both_files():
    assert len(MUTATIONS) >= 300
    assert {what.split(":")[0] for what, _ in MUTATIONS} == set(BASES)


def test_both_files_load_unmutated():
    for original in BASES.values():
        load_config(copy.deepcopy(original), logical_cpus=2)


@pytest.mark.parametrize("index", range(len(MUTATIONS)), ids=[what[:90] for what, _ in MUTATIONS])
def test_every_bad_config_is_refused_with_one_line(index):
    what, config = MUTATIONS[index]
    with pytest.raises(ConfigError) as refused:
        load_config(copy.deepcopy(config), logical_cpus=2)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("invalid configuration at "), message
    assert len(message) < 1000, message


#: A few of them through the real command line, as a user would start it (a file whose top level
#: is not a mapping gets Snakemake's own message, without "invalid configuration").
END_TO_END = random.Random(9).sample([index for index, (_, config) in enumerate(MUTATIONS) if isinstance(config, dict)], 4)


@pytest.mark.parametrize("index", END_TO_END)
def test_the_workflow_refuses_them_without_a_traceback(index, tmp_path):
    what, config = MUTATIONS[index]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    done = run_snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(path), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0, what
    assert "Traceback" not in output, output
    assert len([line for line in output.splitlines() if "invalid configuration" in line]) == 1, output
