"""What a comparison may be asked for: pools, weightings, rankings, prior-set ids.

Checked before any work, every problem at once (exit 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from plausibly.models.errors import Problem, UsageError
from plausibly.models.results import RANK_BY
from plausibly.priors.elicitation import POOL_IDS

__all__ = ["POOLS", "WEIGHTINGS", "check_ids", "check_request"]

#: the weightings of prior sets (``--weights``), each with the one line that says what it means
WEIGHTINGS = {
    "equal": "equal: every school counts the same, whatever history says",
    "history": "history: schools that found real history least surprising count more "
               "(Bayes: prior weight x marginal likelihood of history)",
    "stacking": "stacking: the mix that best predicts each recorded event from the others "
                "(leave-one-event-out, Yao et al. 2018)",
}


def check_ids(ids: Sequence[str]) -> None:
    """Refuse prior-set ids that are repeated or taken by a pool: keys must not collide.

    Results, diagnostics and weights are keyed by prior-set id, and the pool's
    by its own id; a set with the pool's id would have its diagnostics
    replaced by the pool's (and an unconverged run pass the exit-3 gate).
    """
    problems = [Problem(pid, "id", f"the id '{pid}' is reserved for the pool of prior sets",
                        "give this prior set another id") for pid in dict.fromkeys(ids)
                if pid in POOL_IDS]
    problems += [Problem(pid, "id", f"two prior sets have the id '{pid}'",
                         "give each prior set its own id")
                 for pid in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise UsageError(problems=problems)


#: the pooling rules
POOLS = ("linear", "log")


def check_request(pool: str, sets: int, weights: Sequence[float] | None = None,
                  extremize: float = 1.0, weighting: str = "history",
                  rank_by: str = "counterfactual") -> None:
    """Refuse a comparison that cannot be done as asked, before any work (exit 2).

    Every problem at once: an unknown pool, a count of ``--weight`` that is
    not one per prior set, an ``--extremize`` that is not a finite number
    above 0 or that is given for the linear pool, which it does not touch.
    (Before, a bad ``--extremize`` was found only after every set had been
    sampled.)
    """
    problems = []
    if pool not in POOLS:
        problems.append(Problem("--pool", "", f"unknown pool {pool!r}", "use linear or log"))
    if weights is not None and len(weights) not in (0, sets):
        problems.append(Problem(
            "--weight", "", f"{len(weights)} weight{'s' if len(weights) != 1 else ''} for "
            f"{sets} prior set{'s' if sets != 1 else ''}",
            "give one --weight per -p, in the same order, or none"))
    if not (extremize > 0 and math.isfinite(extremize)):
        problems.append(Problem("--extremize", "", f"must be a finite number above 0, got "
                                f"{extremize:g}", "use 1 for none, or a value such as 1.5"))
    elif extremize != 1.0 and pool != "log":
        problems.append(Problem("--extremize", "", f"{extremize:g} applies to the log pool "
                                f"only (it scales the pooled log-odds), and the pool is {pool}",
                                "add --pool log, or leave --extremize out"))
    if weighting not in WEIGHTINGS:
        problems.append(Problem("--weights", "", f"unknown weighting {weighting!r}",
                                f"use one of: {', '.join(WEIGHTINGS)}"))
    if rank_by not in RANK_BY:
        problems.append(Problem("--rank", "", f"unknown ranking {rank_by!r}",
                                f"use one of: {', '.join(RANK_BY)}"))
    if problems:
        raise UsageError(problems=problems)
