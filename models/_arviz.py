"""ArviZ, imported once and quietly."""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__ = ["arviz"]


def arviz() -> Any:
    """Import arviz without its FutureWarning about the coming 1.0 refactor.

    The warning is addressed to library authors (we pin arviz < 1), not to
    someone reading plausibly's output. ArviZ gives it once a day per user
    (a stamp file in the user's cache), so it met a newcomer's first command.

    The filter names the warning by category and message, not by module:
    whoever imports arviz first must import it here, and PyMC imports it
    too, so :mod:`plausibly.models.pymc_model` and :mod:`~.sampling` call
    this before ``import pymc``.
    """
    if "arviz" in sys.modules:
        return sys.modules["arviz"]
    # arviz's ECDF module compiles a numba ufunc as it is imported, when numba is
    # installed (PyTensor brings it): 1 s of every command's time, for ECDF plots
    # nobody here draws. Hidden for the import only, numba is not imported and
    # that module falls back to plain numpy; arviz's other numba paths are lazy.
    hide = "numba" not in sys.modules
    if hide:
        sys.modules["numba"] = None  # type: ignore[assignment]  # import numba -> ImportError
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=QUIET, category=FutureWarning)
            import arviz as az
    finally:
        if hide:
            del sys.modules["numba"]
    return az


#: the start of the message of arviz's import-time FutureWarning (a regular expression)
QUIET = r"\s*ArviZ is undergoing a major refactor"
