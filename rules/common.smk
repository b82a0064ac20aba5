# Configuration: validated against the schema, method names checked against the
# registry, machine-dependent values resolved. Everything that fails here fails
# before any job runs, so no earlier result is touched.

import ast
import json
import functools
import os
import shlex
import sys
import tempfile
from pathlib import Path

from snakemake.exceptions import WorkflowError

from experiments.config import load_config, resolve_interpreters
from experiments.interpreters import MAIN
from experiments.machine import machine_id
from experiments.registry import EXPERIMENTS, FAMILIES

#: Each configured experiment's settings: methods, workers, round keys, parameters. Checking
#: (not snakemake.utils.validate, which takes 2.0 for an integer and dumps the failing
#: sub-schema) also fills the schema's defaults into config.
SETTINGS = load_config(config)

#: One folder per machine and run; nothing else decides where results go.
RUN_DIR = Path(config["results_dir"]) / (config["machine_name"] or machine_id()) / config["run_name"]

#: The interpreter Snakemake runs on runs the report, and the experiments on interpreter "main".
PYTHON = sys.executable

#: The grid's other interpreters: name → executable.
INTERPRETERS = resolve_interpreters(config, Path(workflow.basedir))

#: One timed job per experiment and interpreter it runs on: "<experiment>@<interpreter>".
JOBS = [f"{name}@{interpreter}" for name, settings in SETTINGS.items() for interpreter in settings["interpreters"]]

#: A timed job claims every core Snakemake may use, so no other job runs beside it.
#: Cluster executors have no local core count: there the profile asks for whole nodes.
try:
    TIMED_JOB_THREADS = workflow.cores
except WorkflowError:
    TIMED_JOB_THREADS = 1

#: Shell commands call plain ``python``: under --use-conda, Snakemake activates the rule's
#: environment first on PATH; otherwise the interpreter Snakemake runs on (the venv's) comes first.
SEARCH_PATH = os.environ["PATH"]
os.environ["PATH"] = os.pathsep.join([str(Path(PYTHON).parent), SEARCH_PATH])

#: Where every rule's software is described, for --use-conda (the default run uses the venv).
ENVIRONMENT = Path(workflow.basedir) / "environment.yml"

#: The project's top-level packages: only their modules count as a rule's sources.
PACKAGES = ("experiments", "report")


def module_file(name):
    """The file of project module ``name`` (a module or a package), or None for any other module."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = Path(workflow.basedir).joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.cache  # every rule asks again; parsing each module once saves a second per workflow start
def imported_modules(name, path):
    """Every module that module ``name`` (at ``path``) imports, imports inside functions included (the
    commands import lazily), and the family modules it imports through the registry's ``family_modules``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            # ``from experiments import pi`` imports a module, not a name
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "family_modules":
            found += family_imports(name, node.args[0])
    return tuple(found)


def family_imports(name, package):
    """``<package>.<family>`` for every family of the registry, where ``package`` is the first argument
    of a ``family_modules`` call in module ``name``: a string, or ``__name__``. A family without a
    module there imports nothing."""
    prefix = name if isinstance(package, ast.Name) and package.id == "__name__" else ast.literal_eval(package)
    return [f"{prefix}.{family}" for family in FAMILIES]


def python_sources(*modules, stop=()):
    """The source files that running ``modules`` executes: theirs and those of every project module
    they import, however deep. The files of ``stop`` count, but not what they import: a command's
    ``__main__`` imports every step's modules, and each rule runs one step."""
    found = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in found or path is None:
            continue
        found[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:end]) for end in range(1, len(parts)))  # its packages' __init__ run first
        if name not in stop:
            todo.extend(imported_modules(name, path))
    return sorted(set(found.values()))


def report_step_sources(*modules):
    """The sources of one step of ``python -m report``: its ``__main__`` and the modules the step imports."""
    return python_sources("report.__main__", *modules, stop={"report.__main__"})


#: A published run (results/intel-xeon-2cpu-7957c13c/reference) keeps its tidy table but not the raw
#: trials it was collected from: its table is a source, which no change of code can rebuild.
PUBLISHED = (RUN_DIR / "trials.csv").exists() and not (RUN_DIR / "raw").exists()


def experiment_sources(wildcards):
    """The sources of one timed job: the harness (``python -m experiments`` without the registry's
    other families) and the experiment's family module, so editing experiments/pi.py reruns the π jobs.
    None for a published run: its tidy table stands for the trials, which no edit may remeasure."""
    if PUBLISHED:
        return []
    family = EXPERIMENTS[wildcards.experiment].family
    return python_sources("experiments.__main__", f"experiments.{family}", stop={"experiments.registry"})


def runs_to_compare(wildcards=None):
    """Run folders of the same run name: this machine's and any other machine's present now."""
    found = {path.parent for path in Path(config["results_dir"]).glob(f"*/{config['run_name']}/summary.csv")}
    return sorted(found | {RUN_DIR})
