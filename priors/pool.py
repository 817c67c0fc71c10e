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

Stacking
    Weights that make the mixture of the sets' leave-one-event-out
    predictive densities of history as good as possible (Yao et al. 2018):
    ``az.compare(..., method="stacking")`` on each set's pointwise
    log-likelihood (one term per observed event and reference-class row, see
    :mod:`plausibly.models.pointwise`), gathered into one variable with a
    ``term`` dimension. They reward a set for predicting each event from the
    others, not for the prior's luck on all of history at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from plausibly.models.errors import Problem, UsageError
from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network
from plausibly.models.psis import Loo, psis_loo, stacking
from plausibly.models.scenario import Scenario
from plausibly.priors.fit import FittedPriors, LogitNormal

__all__ = [
    "LOG_LIKELIHOOD",
    "Evidence",
    "Stacking",
    "check_poolable",
    "log_pool",
    "marginal_likelihood",
    "normalise_weights",
    "pointwise_loo",
    "posterior_weights",
    "stacking_weights",
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


#: the name of the log-likelihood variable (dims chain, draw, term) handed to arviz
LOG_LIKELIHOOD = "history"


@dataclass(frozen=True)
class Stacking:
    """Stacking weights of prior sets, from leave-one-event-out predictive densities.

    Attributes
    ----------
    priors : tuple of str
    weights : numpy.ndarray
        Sum to 1 (equal when no history is recorded: nothing to predict).
    elpd_loo, elpd_loo_se : numpy.ndarray
        Each set's expected log predictive density of history, term by term
        left out (PSIS-LOO; exact for a set with every parameter fixed), and
        its standard error.
    pareto_warning : tuple of bool
        Whether PSIS found a Pareto k above its threshold for the set (its
        leave-one-out estimate is then rough).
    """

    priors: tuple[str, ...]
    weights: np.ndarray
    elpd_loo: np.ndarray
    elpd_loo_se: np.ndarray
    pareto_warning: tuple[bool, ...]


def _combined(log_lik: xr.Dataset) -> xr.DataArray:
    """The per-event log-likelihood variables as one, with a ``term`` dimension."""
    names = list(log_lik.data_vars)
    return xr.concat([log_lik[n] for n in names], dim="term").assign_coords(
        term=names).transpose("chain", "draw", "term")


def pointwise_loo(log_lik: xr.Dataset, posterior: xr.Dataset | None) -> Loo:
    """A set's PSIS-LOO over its log-likelihood terms (``az.loo(pointwise=True)``'s numbers).

    ``log_lik`` holds one variable per term, dims (chain, draw), as the
    ``log_likelihood`` group of a run; ``posterior`` the sampled parameters
    (for the relative efficiency), ``None`` for a run with every parameter
    fixed: its one draw's terms are then the exact leave-one-out densities
    (the posterior does not depend on the data). See
    :mod:`plausibly.models.psis`, checked against ArviZ.
    """
    ll = _combined(log_lik)
    if posterior is None or ll.sizes["chain"] * ll.sizes["draw"] == 1:
        loo_i = ll.isel(chain=0, draw=0, drop=True).values
        n = loo_i.size
        return Loo(float(loo_i.sum()), float(np.sqrt(n * np.var(loo_i))), 0.0, 1, n, False,
                   loo_i, np.zeros(n), 0.7)
    samples = ll.values.reshape(-1, ll.sizes["term"])
    return psis_loo(samples, relative_efficiency(posterior))


def relative_efficiency(posterior: xr.Dataset) -> float:
    """PSIS-LOO's relative efficiency: the mean ESS of the mean over every posterior scalar.

    What ``az.loo`` computes when given none, but with every scalar at once
    (:func:`plausibly.models.convergence.ess_mean`) instead of arviz's loop
    over them, which took most of the stacking's time.
    """
    from plausibly.models.convergence import ess_mean

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if chains == 1:
        return 1.0
    columns = [posterior[v].transpose("chain", "draw", ...).values.reshape(chains, draws, -1)
               for v in posterior.data_vars]
    return float(ess_mean(np.concatenate(columns, axis=-1)).mean() / (chains * draws))


def stacking_weights(loos: Mapping[str, Loo]) -> Stacking:
    """Stacking weights (Yao et al. 2018) of the sets: ``az.compare(method="stacking")``.

    ``loos`` maps each prior set's id to its :func:`pointwise_loo`, in the
    sets' order. With one set, or no recorded history to predict, the
    weights are equal (there is nothing to stack).
    """
    ids = tuple(loos)
    elpd = np.array([v.elpd_loo for v in loos.values()])
    se = np.array([v.se for v in loos.values()])
    warn = tuple(v.warning for v in loos.values())
    n = len(ids)
    terms = next(iter(loos.values())).n_data_points if loos else 0
    if n <= 1 or terms == 0:
        return Stacking(ids, np.full(n, 1.0 / max(n, 1)), elpd, se, warn)
    w = np.clip(stacking(list(loos.values())), 0.0, None)
    return Stacking(ids, w / w.sum(), elpd, se, warn)
