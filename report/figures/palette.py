"""One colour and one marker per method name and per start method, the same in every figure.

A method keeps its style wherever it appears: in its experiment's figures, in
the book panels, in the axes section and in the cross-machine comparison. The
styles are assigned once, over the registry: a few methods that recur across
experiments get a fixed colour (serial is dark grey, thread pools blue, process
pools orange, each start method its own), and every other method takes the first
colour and the first marker that no method it ever shares an experiment with has,
so no two methods of one experiment share either.
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib

from experiments.registry import EXPERIMENTS
from experiments.spec import START_METHODS

#: Well-separated colours, in the order they are handed out: tab10, then darker and lighter tones of other hues.
PALETTE = (
    *(matplotlib.colors.to_hex(matplotlib.colormaps["tab10"](i)) for i in range(10)),
    "#003f5c", "#b8860b", "#6a3d9a", "#01665e", "#e7298a", "#8c6d31", "#66a61e", "#525252",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")

#: Colours fixed by meaning, before the rest are handed out (names are method names or start methods).
FIXED_COLORS = {
    "serial": "#3b3b3b",
    "threads": PALETTE[0],
    "processes": PALETTE[1],
    "fork": PALETTE[2],
    "spawn": PALETTE[3],
    "forkserver": PALETTE[4],
}


class Style(NamedTuple):
    """How one method (or start method) is drawn."""

    color: str
    marker: str


def _neighbours(groups: list[list[str]]) -> dict[str, set[str]]:
    """Each name → the names it shares a figure with (the other methods of its experiments)."""
    found: dict[str, set[str]] = {}
    for names in groups:
        for name in names:
            found.setdefault(name, set()).update(other for other in names if other != name)
    return found


def _assign() -> dict[str, Style]:
    """Styles for every method name of the registry and every start method.

    A greedy colouring of the graph of names that share an experiment: each name,
    in the registry's order, takes the first colour and marker none of its
    neighbours has. Colours fixed by meaning are kept for their names.
    """
    groups = [list(START_METHODS), *(list(e.method_names) for e in EXPERIMENTS.values())]
    neighbours = _neighbours(groups)
    colors: dict[str, str] = {name: color for name, color in FIXED_COLORS.items() if name in neighbours}
    free_colors = [c for c in PALETTE if c not in FIXED_COLORS.values()]
    markers: dict[str, str] = {}
    for name in neighbours:
        taken_colors = {colors[other] for other in neighbours[name] if other in colors}
        taken_markers = {markers[other] for other in neighbours[name] if other in markers}
        colors.setdefault(name, next(c for c in free_colors if c not in taken_colors))
        markers[name] = next(m for m in MARKERS if m not in taken_markers)
    return {name: Style(colors[name], markers[name]) for name in neighbours}


#: Method name or start method → its style.
STYLES: dict[str, Style] = _assign()

#: Method name or start method → its colour (the palette's colour view, for callers that need only that).
COLORS: dict[str, str] = {name: style.color for name, style in STYLES.items()}


def style(name: str) -> Style:
    """The style of a method or start method."""
    return STYLES[name]
