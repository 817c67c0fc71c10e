"""Sampling settings and their defaults, in one light module.

The CLI reads them without importing numpy.

Measured on the bundled scenario, 2 chains, the five prior sets x 32 seeds
(160 runs), max R-hat taken over every parameter and every reported quantity:
300 tuning steps and 1,700 kept draws per chain stayed at or under 1.01 in
159 runs (the other reached 1.0144), with min bulk ESS 2,472 and min tail ESS
1,509. At the same cost, 500 + 1,500 crossed 1.01 in 3 of 120 runs (up to
1.0127), and 4 chains of 300 + 700 in 5 of 60: the longer the chains, the
steadier the R-hat. (The former 1,000 + 1,000 crossed it in 3 of 20.) After
the #60 ice row became a bound (``at_most``), 40 more runs of 300 + 1,700:
max R-hat 1.0072, min bulk ESS 2,401, min tail ESS 1,528.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from plausibly.models.errors import Problem, UsageError

__all__ = ["CHAINS", "DRAWS", "ESS_MIN", "HDI_PROB", "MAX_CHAINS", "MAX_DRAWS", "MAX_TUNE",
           "MEMORY_BUDGET", "MIN_CHAINS", "R_HAT_MAX", "SAMPLER", "SAMPLERS", "SEED", "SEED_MAX",
           "TUNE", "Settings", "cores", "too_few_chains"]

DRAWS = 1700
TUNE = 300
CHAINS = 2
SEED = 20171107  # the day of October, new style
#: NUTS implementations: BlackJAX on the model's JAX log density, compiled once and
#: cached (the default), and PyMC's own, the reference it is checked against
SAMPLERS = ("blackjax", "pymc")
SAMPLER = "blackjax"
HDI_PROB = 0.94
#: The most the commands accept, for memory. A kept draw of the bundled scenario costs
#: about 24 KB while a command runs (measured: 2 chains of 1,700 draws peak at 1.0 GB
#: over the main process and its workers, of 10,000 draws at 1.4 GB), so 8 chains of
#: 20,000 draws need about 4 GB; tuning steps are not kept (about 1 KB each, per chain).
MAX_DRAWS = 20_000
MAX_TUNE = 50_000
MAX_CHAINS = 8
#: Bytes one exact contraction (query or likelihood) may use for its largest table
MEMORY_BUDGET = 1 << 30
#: convergence criteria: R-hat at most this, bulk and tail ESS at least that
R_HAT_MAX = 1.01
ESS_MIN = 400
#: R-hat compares chains: with one there is none, and a run could never converge
MIN_CHAINS = 2
#: numpy seeds any integer >= 0, but a saved run keeps the seed as a NetCDF int64
SEED_MAX = 2**63 - 1


def cores() -> int:
    """How many cores this process may use (its CPU affinity, where the system has one)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, n or 1)


def too_few_chains(chains: int) -> str:
    """Why ``chains`` (below :data:`MIN_CHAINS`) is refused, in words."""
    return (f"{chains} chain{'s' if chains != 1 else ''} cannot show convergence: "
            f"rank-normalised R-hat compares at least {MIN_CHAINS} chains, so every run "
            f"would fail the R-hat <= {R_HAT_MAX} check")


@dataclass(frozen=True)
class Settings:
    """Sampling settings; the same settings and seed give the same numbers."""

    draws: int = DRAWS
    tune: int = TUNE
    chains: int = CHAINS
    seed: int = SEED
    #: "blackjax" (the default) or "pymc": see :data:`SAMPLERS`
    sampler: str = SAMPLER

    def __post_init__(self) -> None:
        problems = []
        if self.chains < MIN_CHAINS:
            problems.append(Problem("--chains", "", too_few_chains(self.chains),
                                    f"use --chains {MIN_CHAINS} or more (the default is {CHAINS})"))
        if not 0 <= self.seed <= SEED_MAX:
            problems.append(Problem("--seed", "", f"{self.seed} is not a seed: seeds run from 0 "
                                    f"to {SEED_MAX} (2**63 - 1)", "give a seed in that range"))
        if self.sampler not in SAMPLERS:
            problems.append(Problem("--sampler", "", f"{self.sampler!r} is not a sampler",
                                    f"use one of {', '.join(SAMPLERS)}"))
        if problems:
            raise UsageError(problems=problems)
