"""The chapter's conclusions as claims, each tested on our data: one module per family (named after
it in experiments/registry.py, which finds it), and ``interpreters`` for the interpreter axis.

:func:`evaluate_claims` turns the tidy trials into one row per claim: its
statement, where the evidence is (section, figure), the measured ratio with its
interval, the verdict (reproduced / not reproduced / inconclusive / not run) and
the book's figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from experiments.registry import family_modules
from report.analysis import AnalysisSettings
from report.claims import interpreters
from report.claims.common import NOT_RUN, Claim, Evidence, Measurements, MissingPoint

FAMILIES = (*family_modules(__name__), interpreters)

CLAIMS: tuple[Claim, ...] = tuple(claim for family in FAMILIES for claim in family.CLAIMS)

CLAIM_COLUMNS = ("claim", "section", "figure", "statement", "verdict", "measure", "value", "low", "high", "book")


def evaluate_claims(trials: pd.DataFrame, machine: Mapping[str, Any], settings: AnalysisSettings = AnalysisSettings(),
                    *, every_interpreter: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim (columns :data:`CLAIM_COLUMNS`); a claim whose points were not measured is ``not run``.

    ``trials`` are what the book's claims judge (the workflow's interpreter); the families that
    compare interpreters (``ALL_INTERPRETERS``) judge ``every_interpreter`` (by default the same).
    """
    own = Measurements(trials, machine, settings)
    axis = own if every_interpreter is None else Measurements(every_interpreter, machine, settings)
    judged_on = {claim.id: axis if getattr(family, "ALL_INTERPRETERS", False) else own
                 for family in FAMILIES for claim in family.CLAIMS}
    rows = []
    for claim in CLAIMS:
        try:
            evidence = claim.evaluate(judged_on[claim.id])
        except MissingPoint as missing:
            evidence = Evidence(NOT_RUN, str(missing))
        rows.append({"claim": claim.id, "section": claim.section, "figure": claim.figure, "statement": claim.statement,
                     "verdict": evidence.verdict, "measure": evidence.measure, "value": evidence.value,
                     "low": evidence.low, "high": evidence.high, "book": evidence.book})
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
