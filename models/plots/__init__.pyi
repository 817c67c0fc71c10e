"""Type information for the lazily imported names of plausibly.models.plots (see __init__.py)."""

from plausibly.models.plots._render import figure_bytes as figure_bytes
from plausibly.models.plots.density import (
    density_figure as density_figure,
)
from plausibly.models.plots.density import (
    density_plot as density_plot,
)
from plausibly.models.plots.dot import to_dot as to_dot
from plausibly.models.plots.forest import forest_figure as forest_figure
from plausibly.models.plots.forest import forest_plot as forest_plot
from plausibly.models.plots.graph import (
    Overlay as Overlay,
)
from plausibly.models.plots.graph import (
    draw_graph as draw_graph,
)
from plausibly.models.plots.graph import (
    graph_figure as graph_figure,
)
from plausibly.models.plots.graph import (
    render_graph as render_graph,
)
from plausibly.models.plots.graph import (
    run_overlay as run_overlay,
)

__all__ = [
    "Overlay",
    "density_figure",
    "density_plot",
    "draw_graph",
    "figure_bytes",
    "forest_figure",
    "forest_plot",
    "graph_figure",
    "render_graph",
    "run_overlay",
    "to_dot",
]
