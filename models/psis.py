"""PSIS-LOO and stacking weights, as ArviZ computes them, without importing ArviZ.

ArviZ's ``loo`` and ``compare(method="stacking")`` are the reference: the
same estimators (Vehtari, Gelman & Gabry 2017; Vehtari et al. 2024 for
Pareto smoothing; Zhang & Stephens 2009 for the generalised Pareto fit; Yao
et al. 2018 for stacking) in the same arithmetic order, checked against
ArviZ in ``tests/models/test_psis.py``. Importing ArviZ costs ``compare``
about a second of its main process (matplotlib and scipy.stats come with
it) only to carry out these few lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = ["Loo", "psis_loo", "stacking"]


@dataclass(frozen=True)
class Loo:
    """A PSIS-LOO estimate (log scale), as ArviZ's ``ELPDData`` from ``az.loo(pointwise=True)``."""

    elpd_loo: float
    se: float
    p_loo: float
    n_samples: int
    n_data_points: int
    warning: bool  # some Pareto k above ``good_k``: importance sampling is unreliable there
    loo_i: np.ndarray  # (n_data_points,)
    pareto_k: np.ndarray  # (n_data_points,)
    good_k: float


def psis_loo(log_lik: np.ndarray, reff: float) -> Loo:
    """PSIS-LOO of pointwise log-likelihoods ``log_lik`` (samples, data points).

    ``reff`` is the relative efficiency of the samples (ESS / samples).
    """
    log_lik = np.asarray(log_lik, dtype=float)
    n_samples, n = log_lik.shape
    weights, k = psislw(-log_lik.T, reff)
    weights += log_lik.T
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    loo_i = logsumexp(weights, axis=1)
    lppd = float(np.sum(logsumexp(log_lik.T, axis=1) - np.log(n_samples)))
    elpd = float(loo_i.sum())
    return Loo(elpd, float((n * np.var(loo_i)) ** 0.5), lppd - elpd, n_samples, n,
               bool(np.any(k > good_k)), loo_i, k, good_k)


def psislw(log_weights: np.ndarray, reff: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed, truncated and normalised log weights of each row ``(rows, samples)``.

    Returns the weights and each row's Pareto shape ``k`` (``inf`` when the
    tail is too short to fit), as ``arviz.psislw``.
    """
    log_weights = np.array(log_weights, dtype=float, copy=True)
    n_samples = log_weights.shape[-1]
    cutoff = -int(np.ceil(min(n_samples / 5.0, 3 * (n_samples / reff) ** 0.5))) - 1
    floor = np.log(np.finfo(float).tiny)
    k = np.empty(log_weights.shape[:-1])
    for row in np.ndindex(*log_weights.shape[:-1]):
        log_weights[row], k[row] = _smoothed(log_weights[row], cutoff, floor)
    return log_weights, k


def _smoothed(x: np.ndarray, cutoff: int, floor: float) -> tuple[np.ndarray, float]:
    """One row of :func:`psislw`: its right tail replaced by a fitted GPD's quantiles."""
    x = x - np.max(x)
    order = np.argsort(x)
    x_cut = max(x[order[cutoff]], floor)
    exp_cut = np.exp(x_cut)
    (tail,) = np.where(x > x_cut)
    k = math.inf
    if len(tail) > 4:  # enough of a tail to fit
        tail_order = np.argsort(x[tail])
        k, sigma = _gpdfit((np.exp(x[tail]) - exp_cut)[tail_order])
        if np.isfinite(k):  # the fit worked: smooth the tail with its quantiles
            quantiles = _gpinv(np.arange(0.5, len(tail)) / len(tail), k, sigma)
            x[tail[tail_order]] = np.log(quantiles + exp_cut)
            x[x > 0] = 0  # truncated at the largest raw weight
    return x - logsumexp(x), k


def _gpdfit(ary: np.ndarray) -> tuple[float, float]:
    """Empirical-Bayes shape and scale of a generalised Pareto fit to sorted ``ary``."""
    prior_bs, prior_k = 3, 10
    n = len(ary)
    m = 30 + int(n**0.5)
    b = 1 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    b /= prior_bs * ary[int(n / 4 + 0.5) - 1]
    b += 1 / ary[-1]
    k = np.log1p(-b[:, None] * ary).mean(axis=1)
    length = n * (np.log(-(b / k)) - k - 1)
    weights = 1 / np.exp(length - length[:, None]).sum(axis=1)
    real = weights >= 10 * np.finfo(float).eps  # drop negligible weights
    if not np.all(real):
        weights, b = weights[real], b[real]
    weights /= weights.sum()
    b_post = np.sum(b * weights)
    k_post = np.log1p(-b_post * ary).mean()
    sigma = -k_post / b_post
    k_post = (n * k_post + prior_k * 0.5) / (n + prior_k)  # shrunk towards 0.5
    return float(k_post), float(sigma)


def _gpinv(probs: np.ndarray, kappa: float, sigma: float) -> np.ndarray:
    """Quantiles of the generalised Pareto distribution (``probs`` strictly inside (0, 1))."""
    if sigma <= 0:
        return np.full_like(probs, np.nan)
    if abs(kappa) < np.finfo(float).eps:
        return -np.log1p(-probs) * sigma
    return np.expm1(-kappa * np.log1p(-probs)) / kappa * sigma


def stacking(loos: list[Loo]) -> np.ndarray:
    """Stacking weights (Yao et al. 2018) of models with these PSIS-LOO estimates.

    Maximises the leave-one-out log score of the weighted mixture on the
    simplex, with scipy's SLSQP from equal weights, the models taken in
    decreasing ``elpd_loo`` as ``az.compare(method="stacking")`` takes them.
    """
    from scipy.optimize import Bounds, LinearConstraint, minimize

    order = sorted(range(len(loos)), key=lambda j: -loos[j].elpd_loo)
    dens = np.exp(np.stack([loos[j].loo_i for j in order], axis=1))
    cols = dens.shape[1]

    def score(w: np.ndarray) -> float:
        return float(-np.sum(np.log(dens @ w)))

    def gradient(w: np.ndarray) -> np.ndarray:
        return -np.sum(dens / (dens @ w)[:, None], axis=0)

    found = minimize(fun=score, x0=np.full(cols, 1.0 / cols), jac=gradient,
                     bounds=Bounds(lb=np.zeros(cols), ub=np.ones(cols)),
                     constraints=LinearConstraint(np.ones(cols), lb=1.0, ub=1.0))
    out = np.empty(cols)
    out[order] = found.x
    return out
