"""What the benchmarks print about the machine they ran on (shared by estimate.py and sweep.py)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version

#: the packages whose versions decide the sampler's speed
PACKAGES = ("jax", "jaxlib", "blackjax", "pymc", "pytensor", "numpy")


def machine() -> str:
    """Cores, system, Python and the sampler's package versions, on one line."""
    versions = ", ".join(f"{p} {version(p)}" for p in PACKAGES)
    return (f"machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; {versions}")


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
