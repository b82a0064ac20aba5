"""The registry is the one list: every experiment's declared columns, its config sections and the
report's family modules agree with it."""

from __future__ import annotations

import sys

import pytest
import yaml

from conftest import REPO
from experiments.config import load_config
from experiments.registry import COLUMNS, EXPERIMENTS, FAMILIES, declared_columns, family_modules
from experiments.spec import COLUMN_TYPES, START_METHODS, Column, Experiment
from report.load import TYPE_RULES

SCHEMA = yaml.safe_load((REPO / "config" / "config.schema.yaml").read_text())

#: The schema's type for a setting that gives a column of each type by the column's own name.
SCHEMA_TYPES = {"count": "integer", "integer": "integer", "number": "number", "yes/no": "integer"}

#: What a point's parameter of each type may be, as Python values.
PYTHON_VALUES = {
    "count": lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
    "yes/no": lambda value: value in (0, 1),
    "start method": lambda value: value in START_METHODS,
}


def section_properties(experiment: str) -> dict:
    """The keys of an experiment's section in the schema, each with its ``$ref`` resolved."""
    properties = SCHEMA["properties"]["experiments"]["properties"][experiment]["properties"]
    return {key: {**SCHEMA["$defs"][prop["$ref"].rsplit("/", 1)[1]], **prop} if "$ref" in prop else prop
            for key, prop in properties.items()}


def test_every_family_module_defines_experiments_of_its_own_family():
    for family in family_modules("experiments", missing_ok=False):
        name = family.__name__.rsplit(".", 1)[1]
        assert family.EXPERIMENTS and all(experiment.family == name for experiment in family.EXPERIMENTS), name
    assert {experiment.family for experiment in EXPERIMENTS.values()} == set(FAMILIES)


def test_a_column_that_experiments_share_is_declared_once():
    for experiment in EXPERIMENTS.values():
        for column in experiment.columns:
            assert column is COLUMNS[column.name], (experiment.name, column.name)


def test_two_different_declarations_of_one_column_are_refused():
    def toy(name: str, column: Column) -> Experiment:
        return Experiment(name=name, family="tests", title=name, methods=(), points=lambda settings: [],
                          verify=lambda point, answer: True, parameters=(column,))

    same_name = (Column("size", "count", "", "items"), Column("size", "number", "s", "how long"))
    with pytest.raises(ValueError, match="'size' differently"):
        declared_columns({"a": toy("a", same_name[0]), "b": toy("b", same_name[1])})


def test_a_column_of_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="not one of count"):
        Column("size", "float", "", "items")


def test_every_column_type_has_a_rule_for_its_cells():
    assert set(TYPE_RULES) == set(COLUMN_TYPES) == set(PYTHON_VALUES)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_the_points_of_the_default_grid_carry_exactly_the_declared_parameters(name):
    experiment = EXPERIMENTS[name]
    settings = load_config({"experiments": {name: {}}}, logical_cpus=2)[name]
    points = experiment.points(settings)
    assert points, name
    for point in points:
        assert tuple(point.params) == experiment.params, (name, point)
        for column in experiment.parameters:
            assert PYTHON_VALUES[column.type](point.params[column.name]), (name, column.name, point.params)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_the_schema_section_of_each_experiment_agrees_with_its_declarations(name):
    experiment = EXPERIMENTS[name]
    properties = section_properties(name)
    # a parameter set by the key of its own name has the schema type of its column; the others
    # (first and count from numbers, rows and columns from shapes...) are checked through the points above
    for column in experiment.parameters:
        if column.name in properties:
            assert properties[column.name]["type"] == SCHEMA_TYPES[column.type], (name, column.name)
    # the start-method axis applies to the methods that use a start method: elsewhere it would change nothing
    if "start_methods" in properties:
        assert any(method.uses_start_method for method in experiment.methods), name


@pytest.mark.parametrize("config", ["smoke.yaml", "config.yaml"])
def test_the_smoke_and_default_grids_run_every_experiment(config):
    # the smoke grid is the test of every experiment, and the default grid is the report of all of them
    sections = yaml.safe_load((REPO / "config" / config).read_text())["experiments"]
    assert set(sections) == set(EXPERIMENTS), config


def test_family_modules_are_found_in_registry_order_and_missing_ones_left_out(tmp_path, monkeypatch):
    package = tmp_path / "toy_report"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for family in (FAMILIES[-1], FAMILIES[0]):
        (package / f"{family}.py").write_text(f"NAME = {family!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = family_modules("toy_report")
        assert [module.NAME for module in found] == [FAMILIES[0], FAMILIES[-1]]
        with pytest.raises(ModuleNotFoundError):
            family_modules("toy_report", missing_ok=False)
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "toy_report"]:
            del sys.modules[name]


def test_the_report_packages_find_every_family_module_they_have():
    import report.book
    import report.claims
    import report.figures

    for package in (report.figures, report.claims, report.book):
        folder = REPO / "report" / package.__name__.split(".")[1]
        expected = [f"{package.__name__}.{family}" for family in FAMILIES if (folder / f"{family}.py").exists()]
        assert [module.__name__ for module in package.FAMILIES][: len(expected)] == expected


def test_the_smoke_run_measures_exactly_the_declared_columns(smoke_trials):
    for name, rows in smoke_trials.groupby("experiment"):
        measured = {column for column in COLUMNS if column in rows and rows[column].notna().any()}
        assert measured == {column.name for column in EXPERIMENTS[name].columns}, name
