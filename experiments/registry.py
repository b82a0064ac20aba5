"""The one list of experiment families, their experiments and the columns they declare.

The grid (``config/``), the Snakemake rules, the report's packages and the tests
all read :data:`FAMILIES` and :data:`EXPERIMENTS`, so adding a method is one entry
in its family module, and adding a family is its module plus one name here (and
its config section, see the README's "Adding an experiment").
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from experiments.spec import Column, Experiment

#: The families, in the order the report presents them: ``experiments/<family>.py`` defines
#: each one's ``EXPERIMENTS``; ``report/figures``, ``report/claims`` and ``report/book`` may have
#: a module of the same name.
FAMILIES = ("pi", "startup", "primes", "ipc", "sharing", "locking")


def family_modules(package: str, *, missing_ok: bool = True) -> tuple[ModuleType, ...]:
    """The module ``<package>.<family>`` of each family, in the order of :data:`FAMILIES`.

    A report package need not have one for every family (pool start-up has no
    claims): ``missing_ok`` leaves those out. ``rules/common.smk`` follows these
    imports as it follows static ones, so a rule's code inputs include them.
    """
    names = [f"{package}.{family}" for family in FAMILIES]
    if missing_ok:
        names = [name for name in names if importlib.util.find_spec(name) is not None]
    return tuple(importlib.import_module(name) for name in names)


EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for family in family_modules("experiments", missing_ok=False) for experiment in family.EXPERIMENTS
}


def declared_columns(experiments: dict[str, Experiment]) -> dict[str, Column]:
    """Every column the experiments declare, once, in the order they first declare it.

    Raises ValueError when two experiments declare one name differently: a column
    that several share is declared once, in its family module, and reused.
    """
    columns: dict[str, Column] = {}
    for experiment in experiments.values():
        for column in experiment.columns:
            if columns.setdefault(column.name, column) != column:
                raise ValueError(f"{experiment.name} declares the column {column.name!r} differently from another"
                                 " experiment: declare it once and reuse it")
    return columns


#: Every parameter and measurement column of every experiment.
COLUMNS = declared_columns(EXPERIMENTS)
