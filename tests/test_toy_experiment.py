"""Adding an experiment is cheap: a toy family added to a copy of the checkout, with the six edits the
README's "Adding an experiment" lists, runs through the workflow into the tidy table and the report."""

from __future__ import annotations

import re

import pandas as pd
import yaml

from conftest import copy_checkout, run_snakemake

TOY_MODULE = '''"""A toy family: the sum of the integers below n, serially and over a thread pool."""

from concurrent.futures import ThreadPoolExecutor

from experiments.spec import Column, Experiment, Method, grid_points

SIZE = Column("size", "count", "", "integers summed per trial")
PARTS = Column("parts", "count", "", "partial sums added up")


def _serial(*, workers, start_method, size):
    return {"result": sum(range(size)), "parts": 1}


def _threads(*, workers, start_method, size):
    with ThreadPoolExecutor(workers) as pool:
        sums = list(pool.map(lambda first: sum(range(first, size, workers)), range(workers)))
    return {"result": sum(sums), "parts": len(sums)}


def _verify(point, answer):
    """The sum of the integers below n is n(n - 1) / 2."""
    size = point.params["size"]
    return answer["result"] == size * (size - 1) // 2


TOY_SUM = Experiment(
    name="toy_sum",
    family="toy",
    title="A toy: summing integers",
    methods=(Method("serial", "serial", _serial, parallel=False), Method("threads", "thread pool", _threads)),
    points=lambda settings: grid_points(settings, TOY_SUM.params, TOY_SUM.methods),
    verify=_verify,
    parameters=(SIZE,),
    measurements=(PARTS,),
    baseline="serial",
)

EXPERIMENTS = (TOY_SUM,)
'''

TOY_TEMPLATE = '<p>The toy sums the integers below {{ views.toy_sum.distinct("size")[0] | count }}.</p>\n'


def edit_yaml(path, change) -> None:
    """Rewrite a YAML file of the copy with ``change`` applied to its contents (comments are lost)."""
    content = yaml.safe_load(path.read_text())
    change(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def add_toy_family(checkout) -> None:
    """The edits that add a family: its module and its template, its name in the registry, and its
    experiment's sections in the schema and in the default and smoke grids."""
    (checkout / "experiments" / "toy.py").write_text(TOY_MODULE)
    (checkout / "report" / "templates" / "sections" / "toy_sum.html.j2").write_text(TOY_TEMPLATE)
    registry = checkout / "experiments" / "registry.py"
    registry.write_text(re.sub(r'^(FAMILIES = \(.*)\)$', r'\1, "toy")', registry.read_text(), count=1, flags=re.M))

    def add_schema_section(schema):
        sections = schema["properties"]["experiments"]["properties"]
        # the grid keys, as pool_startup (which has no settings of its own) has them, and the toy's size
        grid = sections["pool_startup"]["properties"]
        size = {"description": "Integers summed per trial.", "type": "integer", "minimum": 1, "maximum": 10**7,
                "default": 1000}
        sections["toy_sum"] = {"type": "object", "additionalProperties": False, "properties": {**grid, "size": size}}

    edit_yaml(checkout / "config" / "config.schema.yaml", add_schema_section)
    edit_yaml(checkout / "config" / "config.yaml", lambda config: config["experiments"].update(toy_sum={}))
    edit_yaml(checkout / "config" / "smoke.yaml", lambda config: config["experiments"].update(toy_sum={"size": 20000}))


def test_a_toy_family_runs_into_the_tidy_table_and_the_report(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    add_toy_family(checkout)
    # the smoke grid, restricted to the toy: only its job runs
    config = yaml.safe_load((checkout / "config" / "smoke.yaml").read_text())
    config["experiments"] = {"toy_sum": config["experiments"]["toy_sum"]}
    only_toy = tmp_path / "toy.yaml"
    only_toy.write_text(yaml.safe_dump(config))

    run_folder = checkout / "results" / "toy-machine" / config["run_name"]
    done = run_snakemake(checkout, "--cores", "2", "--configfile", str(only_toy), "--config", "machine_name=toy-machine",
                         "--", str(run_folder.relative_to(checkout) / "report.html"), checkout=checkout, timeout=300)

    assert done.returncode == 0, done.stderr[-5000:]
    trials = pd.read_csv(run_folder / "trials.csv")
    assert set(trials["experiment"]) == {"toy_sum"} and set(trials["method"]) == {"serial", "threads"}
    assert trials["correct"].all() and set(trials["size"]) == {20000}
    assert set(trials.loc[trials["method"] == "threads", "parts"]) == set(config["workers"])
    report = (run_folder / "report.html").read_text()
    assert '<section id="toy_sum">' in report and "<h2>A toy: summing integers</h2>" in report
    assert "The toy sums the integers below 20,000." in report
