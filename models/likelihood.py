"""The likelihood of history: the factual network with what happened as evidence.

Written once for numpy (every draw at once) and PyTensor (the graph NUTS
differentiates), through the array namespace ``xp``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import opt_einsum

from plausibly.models.factors import einsum_spec, evidence, mutilated, relevant, table
from plausibly.models.network import BATCH, Network

__all__ = ["log_likelihood"]


def log_likelihood(net: Network, a: Any, b: Any, xp: Any = np) -> Any:
    """Log P(history, data | a, b): the factual network with history as evidence.

    Events whose value and causes are all known are Bernoulli observations;
    they and the reference-class rows (binomial) form one vectorised term. A
    row whose count is only an upper bound adds log P(K <= k), the binomial
    CDF (as a regularised incomplete beta function).
    Only events touching unknown or soft history need a contraction. With
    ``xp=pytensor.tensor`` and symbolic ``a``, ``b`` of shape ``(1, N)``,
    ``(1, N, K)`` this builds the (small) PyTensor graph NUTS uses; with
    numpy arrays it evaluates every draw at once.
    """
    hard, soft = evidence(net)
    factors = relevant(mutilated(net, {}), set(hard) | set(soft))
    rows: list[tuple[int, tuple[float, ...], int, int]] = []
    operands: list[tuple[Any, tuple[int, ...]]] = []
    for f in factors:
        if all(v in hard for v in f.inputs + f.out):
            rows.append((f.node, tuple(float(hard[v]) for v in f.inputs), hard[f.out[0]], 1))
        else:
            operands.append(table(f, a, b, hard, xp))
    rows.extend(r[:4] for r in net.data if not r[4])
    bounds = [r[:4] for r in net.data if r[4] and r[2] < r[3]]  # at_most = trials: no evidence
    total = 0.0 * a[:, 0]
    width = b.shape[2] if xp is np else net.max_parents
    if rows or bounds:
        logits = _logits(rows + bounds, a, b, width)  # one gather for all rows
        if rows:
            counts = logits[:, : len(rows)]
            log_p, log_q = -_softplus(-counts, xp), -_softplus(counts, xp)
            k = np.array([r[2] for r in rows], dtype=float)
            n = np.array([r[3] for r in rows], dtype=float)
            const = sum(_log_choose(r[3], r[2]) for r in rows)
            total = total + const + (k * log_p + (n - k) * log_q).sum(axis=1)
        for m, r in enumerate(bounds):
            total = total + _log_binomial_cdf(logits[:, len(rows) + m], r[2], r[3], xp)
    for v, h in soft.items():
        operands.append((np.array([1.0 - h, h]), (v,)))
    if operands:
        spec = einsum_spec([idx for _, idx in operands], (BATCH,))
        if xp is np:
            z = opt_einsum.contract(spec, *[t for t, _ in operands], optimize="auto-hq")
        else:
            z = xp.einsum(spec, *[t for t, _ in operands], optimize="optimal")
        total = total + xp.log(z)
    return total


def _logits(rows: list[tuple[int, tuple[float, ...], int, int]], a: Any, b: Any,
            width: int) -> Any:
    """Log-odds of each row's event with its causes set as the row says, (S, rows)."""
    nodes = np.array([r[0] for r in rows])
    given = np.zeros((len(rows), width))
    for m, r in enumerate(rows):
        given[m, : len(r[1])] = r[1]
    return a[:, nodes] + (b[:, nodes, :] * given[None]).sum(axis=2)


def _log_binomial_cdf(x: Any, k: int, n: int, xp: Any) -> Any:
    """Log P(K <= k) for K ~ Binomial(n, expit(x)), x of shape (S,).

    P(K <= k) = I_q(n - k, k + 1), the regularised incomplete beta function,
    at q = expit(-x) (computed so, not as 1 - p, which loses the far tail).
    In PyTensor it is one compiled scalar op with its gradient; the sum of
    the k + 1 binomial terms instead cost more both to compile and per
    gradient (measured: 1.15 s against 0.75 s more per ``compare``). Where
    the probability underflows (|x| beyond ~50) its log is -inf.
    """
    if xp is np:
        from scipy.special import betainc, expit

        with np.errstate(divide="ignore"):
            return np.log(betainc(n - k, k + 1, expit(-x)))
    return xp.log(xp.betainc(np.float64(n - k), np.float64(k + 1), xp.sigmoid(-x)))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _softplus(x: Any, xp: Any) -> Any:
    return np.logaddexp(0.0, x) if xp is np else xp.softplus(x)
