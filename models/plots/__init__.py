"""Pictures: the scenario graph (DOT text, or drawn), the forest plot, posterior densities.

Every picture has a ``*_figure`` function returning a matplotlib Figure (for
tests and notebooks) and a function returning the file's bytes, reproducible
for the same numbers.
"""

from __future__ import annotations

from plausibly.models.lazy import lazy_exports

_EXPORTS = {
    "figure_bytes": "_render",
    "forest_figure": "forest",
    "forest_plot": "forest",
    "density_figure": "density",
    "density_plot": "density",
    "to_dot": "dot",
    "Overlay": "graph",
    "draw_graph": "graph",
    "graph_figure": "graph",
    "render_graph": "graph",
    "run_overlay": "graph",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
