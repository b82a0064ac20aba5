"""Summary tables → SVG figures, with matplotlib's object-oriented API.

One module per experiment family declares its figures (``FIGURES``), named after
the family in experiments/registry.py, which finds it; ``axes`` adds the figures
of the start-method and interpreter axes. Each figure names the experiments it
draws from, so a run that skips an experiment skips its figures too. Every figure is drawn on its
own ``Figure`` (no pyplot state carried between figures) and saved with a
per-figure salt for SVG ids, so several figures can be inlined in one page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

from experiments.registry import family_modules
from report.figures import axes
from report.figures.common import SVG_RC, FigureInputs, FigureSpec, add_hover_titles

FAMILIES = family_modules(__name__)

FIGURES: tuple[FigureSpec, ...] = (*(spec for family in FAMILIES for spec in family.FIGURES), *axes.FIGURES)

__all__ = ["FIGURES", "FigureInputs", "FigureSpec", "draw_figures", "figures_for"]


def figures_for(experiments: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Names of the figures a run of these experiments (name → config section or settings) draws."""

    def drawn(spec: FigureSpec) -> bool:
        needed = [experiments[name] for name in spec.needs if name in experiments]
        return bool(needed) and (spec.axis is None or any(len(section.get(spec.axis) or []) > 1 for section in needed))

    return [spec.name for spec in FIGURES if drawn(spec)]


def draw_figures(inputs: FigureInputs, names: Iterable[str], folder: Path) -> list[Path]:
    """Draw the named figures into ``folder`` as ``<name>.svg``, with their points' hover titles."""
    specs = {spec.name: spec for spec in FIGURES}
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.svg"
        # the salt makes clip-path ids unique across figures inlined in one page
        with matplotlib.rc_context({**SVG_RC, "svg.hashsalt": name}):
            figure = specs[name].draw(inputs)
            buffer = io.StringIO()
            # the title travels in the file: the HTML step reads it there, without importing matplotlib
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": specs[name].title})
        path.write_text(add_hover_titles(buffer.getvalue(), figure, name))
        paths.append(path)
    return paths
