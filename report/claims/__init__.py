"""The chapter's conclusions as claims, each tested on our data: one module per family.

:func:`evaluate_claims` turns the tidy trials into one row per claim: its
statement, where the evidence is (section, figure), the measured ratio with its
interval, the verdict (reproduced / not reproduced / inconclusive / not run) and
the book's figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from report.analysis import AnalysisSettings
from report.claims import locking, pi, sharing
from report.claims.common import NOT_RUN, Claim, Evidence, Measurements, MissingPoint

FAMILIES = (pi, sharing, locking)

CLAIMS: tuple[Claim, ...] = tuple(claim for family in FAMILIES for claim in family.CLAIMS)

CLAIM_COLUMNS = ("claim", "section", "figure", "statement", "verdict", "measure", "value", "low", "high", "book")


def evaluate_claims(trials: pd.DataFrame, machine: Mapping[str, Any], settings: AnalysisSettings = AnalysisSettings()) -> pd.DataFrame:
    """One row per claim (columns :data:`CLAIM_COLUMNS`); a claim whose points were not measured is ``not run``."""
    measurements = Measurements(trials, machine, settings)
    rows = []
    for claim in CLAIMS:
        try:
            evidence = claim.evaluate(measurements)
        except MissingPoint as missing:
            evidence = Evidence(NOT_RUN, str(missing))
        rows.append({"claim": claim.id, "section": claim.section, "figure": claim.figure, "statement": claim.statement,
                     "verdict": evidence.verdict, "measure": evidence.measure, "value": evidence.value,
                     "low": evidence.low, "high": evidence.high, "book": evidence.book})
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
