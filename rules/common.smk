# Configuration: validated against the schema, method names checked against the
# registry, machine-dependent values resolved. Everything that fails here fails
# before any job runs, so no earlier result is touched.

import json
import shlex
import sys
import tempfile
from pathlib import Path

import jsonschema
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from experiments.config import ConfigError, explain_schema_error, resolve_experiments, resolve_interpreters
from experiments.interpreters import MAIN
from experiments.machine import machine_id, usable_cpus
from experiments.registry import EXPERIMENTS
from report.figures import figures_for

try:
    validate(config, schema="../config/config.schema.yaml")
except WorkflowError as error:
    # Snakemake's message dumps the whole failing sub-schema; the jsonschema error
    # it was raised from (its context) has what one clear line needs.
    if not isinstance(error.__context__, jsonschema.ValidationError):
        raise
    raise ConfigError(explain_schema_error(error.__context__)) from None

#: Each configured experiment's settings: methods, workers, repeats, warmup, parameters.
SETTINGS = resolve_experiments(config, logical_cpus=usable_cpus())

#: One folder per machine and run; nothing else decides where results go.
RUN_DIR = Path(config["results_dir"]) / (config["machine_name"] or machine_id()) / config["run_name"]

#: The interpreter Snakemake runs on runs the report, and the experiments on interpreter "main".
PYTHON = sys.executable

#: The grid's other interpreters: name → executable.
INTERPRETERS = resolve_interpreters(config, Path(workflow.basedir))

#: One timed job per experiment and interpreter it runs on: "<experiment>@<interpreter>".
JOBS = [f"{name}@{interpreter}" for name, settings in SETTINGS.items() for interpreter in settings["interpreters"]]

FIGURES = figures_for(SETTINGS)

#: A timed job claims every core Snakemake may use, so no other job runs beside it.
#: Cluster executors have no local core count: there the profile asks for whole nodes.
try:
    TIMED_JOB_THREADS = workflow.cores
except WorkflowError:
    TIMED_JOB_THREADS = 1
