"""Figure bytes: PNG or SVG, trimmed, reproducible (the same numbers give the same file)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_bytes"]


def figure_bytes(fig: Figure, fmt: str, dpi: float | None = None) -> bytes:
    """Render a figure to PNG or SVG bytes, trimmed to its content.

    Parameters
    ----------
    fig : Figure
    fmt : {"png", "svg"}
    dpi : float, optional
        Resolution of a PNG (the figure's own by default).

    Returns
    -------
    bytes
        The same figure always gives the same bytes (fixed metadata, fixed
        SVG id salt).
    """
    import matplotlib

    buf = io.BytesIO()
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {
        "Software": "plausibly"}
    with matplotlib.rc_context({"svg.hashsalt": "plausibly", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=metadata,
                    dpi="figure" if dpi is None else dpi, facecolor="white")
    return buf.getvalue()
