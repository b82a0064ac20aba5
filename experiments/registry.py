"""The one list of experiments and their methods.

The grid (``config/``), the Snakemake rules, the report sections and the tests
all iterate :data:`EXPERIMENTS`, so adding a method is one entry in its family
module, and adding a family is one line here (plus its config section).
"""

from __future__ import annotations

from experiments import ipc, locking, pi, primes, sharing, startup
from experiments.spec import Experiment

FAMILIES = (pi, startup, primes, ipc, sharing, locking)

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment for family in FAMILIES for experiment in family.EXPERIMENTS
}
