"""Pooling prior sets: linear (a mixture weighted by history) and logarithmic.

Linear pool
    The pooled posterior is a mixture of each set's posterior. Conditioning on
    history re-weights the sets: set k's posterior weight is proportional to
    its prior weight times its marginal likelihood of history
    ``Z_k = E_prior[P(history | theta)]`` (estimated by Monte Carlo over the
    set's prior draws, with a standard error). The school that found real
    history least surprising gains weight — performance weights from known
    history, in the spirit of Cooke's classical model.

Logarithmic pool
    The normalised weighted geometric mean of the prior densities. For Normal
    priors on the same logit it is Normal again, with precision
    ``sum_k w_k / sigma_k^2`` and mean ``sum_k w_k mu_k / sigma_k^2`` divided
    by that precision. Optionally the pooled log-odds are *extremized*
    (multiplied by ``d > 1``): averaging shrinks forecasts toward 1/2 when
    experts hold partly independent information (Baron et al. 2014; Satopää
    et al. 2014).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from plausibly.models.errors import Problem, UsageError
from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network
from plausibly.models.scenario import Scenario
from plausibly.priors.fit import FittedPriors, LogitNormal

__all__ = [
    "Evidence",
    "check_poolable",
    "log_pool",
    "marginal_likelihood",
    "normalise_weights",
    "posterior_weights",
]


#: Prior weights of the sets in a pool: numbers or an array (equal when None).
Weights = Sequence[float] | np.ndarray | None


def normalise_weights(weights: Weights, n: int) -> np.ndarray:
    """Weights as an array summing to one (equal by default)."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise UsageError(problems=[Problem(
            "--weight", "", f"needs {n} non-negative weights, got {list(weights)}",
            "give one weight per prior set, e.g. --weight 1 --weight 2")])
    return w / w.sum()


def _pool_one(params: Sequence[LogitNormal], w: np.ndarray, d: float) -> LogitNormal:
    fixed = [(wk, p.mu) for wk, p in zip(w, params, strict=True) if p.fixed and wk > 0]
    if fixed:
        # point masses dominate a geometric mean; several of them pool to their
        # weighted mean (the limit of equally tight Normals)
        total = sum(wk for wk, _ in fixed)
        return LogitNormal(d * sum(wk * mu for wk, mu in fixed) / total, 0.0, "pooled")
    # a set of weight 0 drops out (it may be a point mass: 0 / 0)
    live = [(wk, p) for wk, p in zip(w, params, strict=True) if wk > 0]
    precision = sum(wk / p.sigma**2 for wk, p in live)
    mean = sum(wk * p.mu / p.sigma**2 for wk, p in live) / precision
    return LogitNormal(d * mean, 1.0 / math.sqrt(precision), "pooled")


def _layout(s: FittedPriors) -> tuple[tuple[object, ...], ...]:
    """What must agree for two sets' cells to be pooled one by one."""
    return (tuple((c.name, c.state, tuple(sorted(c.context.items()))) for c in s.cells)
            + tuple((p.pod, p.event) for p in s.strengths))


def check_poolable(sets: Sequence[FittedPriors]) -> None:
    """Refuse a log pool of sets whose cells differ (other anchors, other POD strengths).

    Raises
    ------
    UsageError
        Naming the first set that differs from the first one, with the fix.
    """
    first = _layout(sets[0]) if sets else ()
    for other in sets[1:]:
        if _layout(other) != first:
            raise UsageError(problems=[Problem(
                "--pool", "", f"prior sets '{sets[0].priors}' and '{other.priors}' judge "
                "different cells (other anchors or other soft-POD strengths), so the log "
                "pool cannot combine them cell by cell",
                "use --pool linear, or judge both sets in the same anchor")])


def log_pool(sets: Sequence[FittedPriors], weights: Weights = None,
             extremize: float = 1.0, pool_id: str = "log_pool") -> FittedPriors:
    """Logarithmic pool of fitted prior sets (closed form, see module docstring).

    Cell by cell: every set must judge the same cells in the same contexts
    (the same anchors) and the same soft-POD strengths.

    Raises
    ------
    UsageError
        When two sets' cells differ (the fix: ``--pool linear``).
    """
    if not sets:
        raise UsageError(problems=[Problem("-p", "", "no prior set to pool",
                                                 "name at least one prior set")])
    if not (extremize > 0 and math.isfinite(extremize)):
        raise UsageError(problems=[Problem(
            "--extremize", "", f"must be a finite positive number, got {extremize}",
            "use 1 for no extremizing, or a value such as 1.5")])
    check_poolable(sets)
    w = normalise_weights(weights, len(sets))
    cells = tuple(replace(c, prior=_pool_one([s.cells[k].prior for s in sets], w, extremize))
                  for k, c in enumerate(sets[0].cells))
    strengths = tuple(replace(p, prior=_pool_one([s.strengths[k].prior for s in sets], w, 1.0))
                      for k, p in enumerate(sets[0].strengths))
    names = " x ".join(s.priors for s in sets)
    return FittedPriors(sets[0].scenario, pool_id, f"log pool of {names}", cells, strengths)


@dataclass(frozen=True)
class Evidence:
    """Monte Carlo estimate of log Z = log E_prior[P(history | theta)]."""

    priors: str
    log_z: float
    se_log_z: float  # delta-method standard error of log Z
    draws: int


def marginal_likelihood(fitted: FittedPriors, scenario: Scenario, net: Network | None = None,
                        draws: int = 20_000, seed: int = 0) -> Evidence:
    """Estimate a prior set's marginal likelihood of history by sampling its prior.

    ``net`` is ``scenario``'s network (built when not given).
    """
    net = net if net is not None else Network.from_scenario(scenario)
    a, b = fitted.sample(scenario, draws, seed)
    ll = log_likelihood(net, a, b)
    top = ll.max()
    w = np.exp(ll - top)
    mean = w.mean()
    se_rel = w.std(ddof=1) / math.sqrt(draws) / mean
    return Evidence(fitted.priors, float(top + math.log(mean)), float(se_rel), draws)


def posterior_weights(evidence: Sequence[Evidence], weights: Weights = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior weights of the sets in a linear pool and their standard errors.

    ``w_k ∝ prior_k Z_k``; the standard error propagates each ``se(log Z_k)``
    by the delta method (the estimates are independent).
    """
    prior = normalise_weights(weights, len(evidence))
    log_w = np.log(np.where(prior > 0, prior, 1e-300)) + np.array([e.log_z for e in evidence])
    log_w[prior == 0] = -np.inf
    post = np.exp(log_w - log_w.max())
    post /= post.sum()
    se = np.array([e.se_log_z for e in evidence])
    # d w_k / d log Z_j = w_k (delta_kj - w_j)
    jac = np.diag(post) - np.outer(post, post)
    return post, np.sqrt((jac**2) @ se**2)
