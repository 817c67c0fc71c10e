"""Rank-normalised split R-hat and bulk / tail ESS, for many quantities at once.

The estimators are those of Vehtari, Gelman, Simpson, Carpenter and Bürkner
(2021), "Rank-normalization, folding, and localization: an improved R-hat",
*Bayesian Analysis* 16(2), exactly as ``arviz.rhat(method="rank")`` and
``arviz.ess(method="bulk" | "tail")`` compute them; ``tests/test_convergence.py``
holds the two to 1e-10 on chains built to reach every branch.

Why not call arviz: it loops in Python over every scalar quantity (about
1 ms per quantity and diagnostic), and a run checks every parameter and
every reported probability: about 100 quantities, three diagnostics, per
prior set. Here each step is one numpy operation over all of them.

Every function takes draws of shape ``(chain, draw, *quantities)`` and
returns an array of shape ``quantities``; NaN where arviz gives NaN (too
few draws or chains, a NaN among the draws, or a constant quantity's R-hat).
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.fft import irfft, next_fast_len, rfft

from plausibly.models.workers import in_blocks

__all__ = ["diagnose", "ess_bulk", "ess_mean", "ess_tail", "rhat"]

#: Blom's (1958) fractional offset for back-transforming ranks to normal scores
_BLOM = 3 / 8


def _columns(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(chain, draw, *q)`` -> ``(chain, draw, K)`` and ``q``."""
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"draws need shape (chain, draw, ...), got {x.shape}")
    return x.reshape(x.shape[0], x.shape[1], -1), x.shape[2:]


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain's halves as separate chains (the middle draw of an odd count goes)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _ranks(rows: np.ndarray) -> np.ndarray:
    """Average ranks (1-based; ties share the mean of their ranks) along each row.

    ``scipy.stats.rankdata(method="average")``, which is general and about
    8x slower on many short rows.
    """
    k, n = rows.shape
    order = np.argsort(rows, axis=1)
    ordered = np.take_along_axis(rows, order, axis=1)
    starts = np.ones((k, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # a new value starts a tie group
    flat = starts.ravel()
    first = np.flatnonzero(flat)
    size = np.diff(np.append(first, flat.size))
    mean_rank = first % n + (size + 1) / 2.0
    out = np.empty((k, n))
    np.put_along_axis(out, order, mean_rank[np.cumsum(flat) - 1].reshape(k, n), axis=1)
    return out


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks, pooled over chains and draws, per column."""
    c, d, k = x.shape
    n = c * d
    ranks = _ranks(x.reshape(n, k).T)
    return special.ndtri((ranks - _BLOM) / (n - 2 * _BLOM + 1)).T.reshape(c, d, k)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Classic potential scale reduction of ``(chain, draw, K)``."""
    d = x.shape[1]
    between = d * x.mean(axis=1).var(axis=0, ddof=1)
    within = x.var(axis=1, ddof=1).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + d - 1) / d)


def _too_short(x: np.ndarray, min_chains: int) -> bool:
    """Too few chains or draws for the estimator (arviz gives NaN)."""
    return x.shape[0] < min_chains or x.shape[1] < 4


def _rhat_rank(split: np.ndarray, z: np.ndarray) -> np.ndarray:
    """R-hat from split chains and their normal scores ``z``."""
    bulk = _rhat(z)
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    tail = _rhat(_z_scale(folded))
    # arviz takes Python's max(bulk, tail): NaN only when the bulk one is NaN
    return np.where(np.isnan(bulk) | ~(tail > bulk), bulk, tail)


def rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) one."""
    x, shape = _columns(draws)
    if _too_short(x, min_chains=2):
        return np.full(shape, np.nan)
    split = _split(x)
    return _with_nan(x, _rhat_rank(split, _z_scale(split)), shape)


def _with_nan(x: np.ndarray, out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """NaN for every column holding a NaN draw, as arviz; then the caller's shape."""
    return np.where(np.isnan(x).any(axis=(0, 1)), np.nan, out).reshape(shape)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance at every lag along the draw axis (biased, as arviz)."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    spectrum = rfft(centred, n=next_fast_len(2 * n), axis=1)
    return irfft(spectrum * np.conjugate(spectrum), n=next_fast_len(2 * n), axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of ``(chain, draw, K)`` with Geyer's initial monotone sequence.

    arviz walks the lags in pairs in a Python loop; here the stopping pair is
    found with ``argmax`` and the monotone adjustment is a running minimum of
    the pair sums, which is what the loop computes.
    """
    c, d, k = x.shape
    size = c * d
    constant = (x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution
    acov = _autocov(x)
    mean_var = acov[:, 0].mean(axis=0) * d / (d - 1.0)
    var_plus = mean_var * (d - 1.0) / d
    if c > 1:
        var_plus = var_plus + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (draw, K)
    rho[0] = 1.0
    pairs = rho[0: 2 * (d // 2): 2] + rho[1: 2 * (d // 2): 2]  # (d // 2, K)
    last = (d - 3) // 2  # the last pair the loop may reach
    cols = np.arange(k)
    if last >= 1:
        ends = pairs[1: last + 1] <= 0
        stop = np.where(ends.any(axis=0), 1 + ends.argmax(axis=0), last)
        stop = np.where(pairs[0] > 0, stop, 0)
    else:
        stop = np.zeros(k, dtype=int)
    monotone = np.minimum.accumulate(pairs, axis=0)
    kept = np.arange(pairs.shape[0])[:, None] < stop[None, :]
    head = np.where(kept, monotone, 0.0).sum(axis=0)
    at_stop = rho[2 * stop, cols]
    tail = np.where((at_stop > 0) | (pairs[stop, cols] >= 0), at_stop, 0.0)
    tau = np.maximum(-1.0 + 2.0 * head + tail, 1.0 / np.log10(size))
    ess = size / tau
    ess = np.where(np.isnan(rho).any(axis=0), np.nan, ess)
    return np.where(constant, float(size), ess)


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    x, shape = _columns(draws)
    if _too_short(x, min_chains=1):
        return np.full(shape, np.nan)
    return _with_nan(x, _ess(_z_scale(_split(x))), shape)


def ess_mean(draws: np.ndarray) -> np.ndarray:
    """ESS of the mean (``arviz.ess(method="mean")``): the split chains, not ranked.

    PSIS-LOO's relative efficiency is the average of it over the posterior.
    """
    x, shape = _columns(draws)
    if _too_short(x, min_chains=1):
        return np.full(shape, np.nan)
    return _with_nan(x, _ess(_split(x)), shape)


def _quantile(ordered: np.ndarray, p: float) -> np.ndarray:
    """The type 7 quantile of each column of sorted draws, as arviz computes it.

    The arithmetic is that of ``scipy.stats.mstats.mquantiles(alphap=1,
    betap=1)``. ``numpy.quantile`` is the same estimator, but it interpolates as
    ``x + g (y - x)``, which can differ by one ulp: when tied draws (a NUTS
    step that stayed put) sit at the quantile, that ulp moves them across it
    and the tail ESS by a few tenths of a percent.
    """
    n = ordered.shape[0]
    aleph = n * p + (1.0 - p)
    k = int(np.floor(np.clip(aleph, 1, n - 1)))
    gamma = float(np.clip(aleph - k, 0.0, 1.0))
    return (1.0 - gamma) * ordered[k - 1] + gamma * ordered[k]


def _ess_tail(x: np.ndarray, prob: float) -> np.ndarray:
    ordered = np.sort(x.reshape(-1, x.shape[2]), axis=0)
    out = np.full(x.shape[2], np.inf)
    for p in (prob, 1.0 - prob):
        below = (x <= _quantile(ordered, p)).astype(float)
        out = np.minimum(out, _ess(_split(below)))
    return out


def ess_tail(draws: np.ndarray, prob: float = 0.05) -> np.ndarray:
    """Tail effective sample size at the ``prob`` and ``1 - prob`` quantiles.

    The smaller ESS of the indicators of lying below either quantile (type 7,
    as R and arviz).
    """
    x, shape = _columns(draws)
    if _too_short(x, min_chains=1):
        return np.full(shape, np.nan)
    return _with_nan(x, _ess_tail(x, prob), shape)


#: columns diagnosed together: the unit of work of :func:`diagnose`'s threads
_BLOCK = 32


def diagnose(draws: np.ndarray, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rhat, ess_bulk, ess_tail)`` at once: what a run reports.

    The draws are ranked once for both R-hat and bulk ESS. The quantities
    are diagnosed in blocks of :data:`_BLOCK` columns, spread over
    ``threads`` threads (numpy's sorts and the FFTs let go of Python's lock).
    The blocks, not the threads, fix the arithmetic (an FFT of many columns
    may round the last bit of a column differently from one of a few), so
    the numbers are the same to the bit for any number of threads.
    """
    x, shape = _columns(draws)
    if _too_short(x, min_chains=1):
        return np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    parts = in_blocks(lambda cols: _diagnose(x[:, :, cols]), x.shape[2], _BLOCK, threads)
    r, bulk, tail = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _with_nan(x, r, shape), _with_nan(x, bulk, shape), _with_nan(x, tail, shape)


def _diagnose(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`diagnose` of ``(chain, draw, K)``, before the NaN columns."""
    split = _split(x)
    z = _z_scale(split)
    r = _rhat_rank(split, z) if x.shape[0] >= 2 else np.full(x.shape[2], np.nan)
    return r, _ess(z), _ess_tail(x, 0.05)
