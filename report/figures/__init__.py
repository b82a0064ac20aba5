"""Summary tables → SVG figures, with matplotlib's object-oriented API.

One module per experiment family declares its figures (``FIGURES``); this
package collects them. Each figure names the experiments it draws from, so a
run that skips an experiment skips its figures too. Every figure is drawn on its
own ``Figure`` (no pyplot state carried between figures) and saved with a
per-figure salt for SVG ids, so several figures can be inlined in one page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

from report.figures import ipc, locking, pi, primes, sharing, startup
from report.figures.common import SVG_RC, FigureInputs, FigureSpec

FAMILIES = (pi, startup, primes, ipc, sharing, locking)

FIGURES: tuple[FigureSpec, ...] = tuple(spec for family in FAMILIES for spec in family.FIGURES)

__all__ = ["FIGURES", "FigureInputs", "FigureSpec", "draw_figures", "figures_for"]


def figures_for(experiments: Mapping[str, object] | Iterable[str]) -> list[str]:
    """Names of the figures a run of these experiments draws."""
    present = set(experiments)
    return [spec.name for spec in FIGURES if present.intersection(spec.needs)]


def draw_figures(inputs: FigureInputs, names: Iterable[str], folder: Path) -> list[Path]:
    """Draw the named figures into ``folder`` as ``<name>.svg``."""
    specs = {spec.name: spec for spec in FIGURES}
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.svg"
        # the salt makes clip-path ids unique across figures inlined in one page
        with matplotlib.rc_context({**SVG_RC, "svg.hashsalt": name}):
            specs[name].draw(inputs).savefig(path, format="svg", metadata={"Date": None})
        paths.append(path)
    return paths
