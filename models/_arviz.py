"""ArviZ, imported once and quietly."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["arviz"]


def arviz() -> Any:
    """Import arviz without its FutureWarning about the coming 1.0 refactor.

    The warning is addressed to library authors (we pin arviz < 1), not to
    someone reading plausibly's output.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
        import arviz as az
    return az
