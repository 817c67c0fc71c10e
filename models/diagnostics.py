"""Convergence of a run: R-hat, bulk and tail ESS, divergences, and the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plausibly.models import settings

__all__ = ["Diagnostics", "diagnose_run"]


@dataclass(frozen=True)
class Diagnostics:
    """Convergence of one run; ``exact`` when every parameter was fixed."""

    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    exact: bool = False

    R_HAT_MAX = settings.R_HAT_MAX
    ESS_MIN = settings.ESS_MIN

    @property
    def converged(self) -> bool:
        """R-hat <= 1.01, bulk and tail ESS >= 400 and no divergence (or exact)."""
        return self.exact or (self.r_hat_max <= self.R_HAT_MAX
                              and self.ess_bulk_min >= self.ESS_MIN
                              and self.ess_tail_min >= self.ESS_MIN
                              and self.divergences == 0)

    def problems(self) -> list[str]:
        """Each failed criterion, in words."""
        out: list[str] = []
        if self.exact:
            return out
        if not self.r_hat_max <= self.R_HAT_MAX:
            out.append(f"max R-hat {self.r_hat_max:.3f} > {self.R_HAT_MAX}")
        if not self.ess_bulk_min >= self.ESS_MIN:
            out.append(f"min bulk ESS {self.ess_bulk_min:.0f} < {self.ESS_MIN}")
        if not self.ess_tail_min >= self.ESS_MIN:
            out.append(f"min tail ESS {self.ess_tail_min:.0f} < {self.ESS_MIN}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def summary(self) -> str:
        """The figures in one line (without the verdict)."""
        if self.exact:
            return "exact (every parameter fixed: nothing to sample)"
        return (f"R-hat max {self.r_hat_max:.3f}, bulk ESS min {self.ess_bulk_min:.0f}, "
                f"tail ESS min {self.ess_tail_min:.0f}, divergences {self.divergences}")

    def __str__(self) -> str:
        if self.exact:
            return self.summary()
        verdict = "converged" if self.converged else "NOT converged: " + "; ".join(
            self.problems())
        return f"{self.summary()} ({verdict})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (DESIGN.md's keys first)."""
        return {"r_hat_max": _round(self.r_hat_max), "ess_bulk_min": _round(self.ess_bulk_min, 0),
                "divergences": int(self.divergences), "ess_tail_min": _round(self.ess_tail_min, 0),
                "exact": self.exact, "converged": self.converged}


def _round(x: float, digits: int = 6) -> float | int | None:
    if not math.isfinite(x):
        return None
    return round(x) if digits == 0 else round(float(x), digits)


def diagnose_run(z: np.ndarray, values: np.ndarray, divergences: int) -> Diagnostics:
    """R-hat, bulk and tail ESS over every parameter and every reported quantity.

    ``z`` is (chain, draw, param) and ``values`` (chain, draw, ...). A quantity
    that is constant across draws (an event the POD cannot reach) has no
    R-hat, and is skipped there; its ESS is the number of draws, as in arviz.
    The quantities are diagnosed in a thread per core (the same numbers).
    """
    from plausibly.models.convergence import diagnose

    checked = np.concatenate([z.reshape(*z.shape[:2], -1),
                              values.reshape(*values.shape[:2], -1)], axis=-1)
    rhat, bulk, tail = diagnose(checked, threads=settings.cores())

    def extreme(vals: np.ndarray, fn: Any) -> float:
        vals = vals[np.isfinite(vals)]
        return float(fn(vals)) if vals.size else float("nan")

    return Diagnostics(extreme(rhat, np.max), extreme(bulk, np.min), extreme(tail, np.min),
                       divergences)
