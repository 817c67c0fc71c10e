"""The likelihood of history: the factual network with what happened as evidence.

Written once for numpy (every draw at once) and PyTensor (the graph NUTS
differentiates), through the array namespace ``xp``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import opt_einsum

from plausibly.models.errors import ContractionTooLarge, Problem
from plausibly.models.factors import (
    Factor,
    einsum_spec,
    evidence,
    free_vars,
    fvar,
    mutilated,
    relevant,
    sizes,
    table,
)
from plausibly.models.network import BATCH, Network
from plausibly.models.settings import MEMORY_BUDGET

__all__ = ["log_likelihood"]


def log_likelihood(net: Network, a: Any, b: Any, xp: Any = np) -> Any:
    """Log P(history, data | a, b): the factual network with history as evidence.

    Events whose value and causes are all known are Bernoulli observations;
    they and the reference-class rows (binomial) form one vectorised term. A
    row whose count is only an upper bound adds log P(K <= k), the binomial
    CDF (as a regularised incomplete beta function).
    Only events touching unknown or soft history need a contraction. With
    ``xp=pytensor.tensor`` and symbolic ``a``, ``b`` of shape ``(1, N)``,
    ``(1, N, K)`` this builds the (small) PyTensor graph NUTS uses: the
    contraction as pairwise products and sums along an opt_einsum path,
    each intermediate rescaled to sum 1 (its log kept), so that it neither
    underflows nor needs an einsum PyTensor lacks. With numpy arrays it
    evaluates every draw at once (in chunks of draws within the memory
    budget).

    Raises
    ------
    ContractionTooLarge
        Before any table is built, when a factor table or an intermediate of
        the contraction would need more than :data:`MEMORY_BUDGET` per draw.
    """
    if a.ndim == 2:  # version 1's intercepts: one threshold per event
        a = a[:, :, None]
    hard, soft = evidence(net)
    factors = relevant(mutilated(net, {}), set(hard) | set(soft))
    tabled = [f for f in factors if not all(v in hard for v in f.inputs + f.out)]
    steps: tuple[tuple[int, ...], ...] = ()
    if tabled:
        steps, per_draw = _likelihood_plan(net, tabled, hard, soft)
        chunk = max(1, MEMORY_BUDGET // per_draw)
        if xp is np and a.shape[0] > chunk:  # bounded memory for many draws
            return np.concatenate([log_likelihood(net, a[s:s + chunk], b[s:s + chunk])
                                   for s in range(0, a.shape[0], chunk)])
    rows: list[tuple[int, tuple[float, ...], int, int]] = []
    ordinal: list[tuple[int, tuple[float, ...], int]] = []  # known events with states
    impossible = False
    operands: list[tuple[Any, tuple[int, ...]]] = []
    for f in factors:
        if all(v in hard for v in f.inputs + f.out):
            config = {p: hard[v] for p, v in zip(net.parents[f.node], f.inputs, strict=True)}
            state = hard[f.out[0]]
            if not net.gate_open(f.node, config):
                # a closed gate: the first state with certainty (a file whose history
                # says otherwise is refused by check; here it is impossible)
                impossible = impossible or state != 0
                continue
            act = tuple(float(x) for x in net.activations(f.node, config))
            if net.card(f.node) == 2:
                rows.append((f.node, act, state, 1))
            else:
                ordinal.append((f.node, act, state))
        else:
            operands.append(table(f, net, a, b, hard, xp))
    rows.extend(r[:4] for r in net.data if not r[4])
    bounds = [r[:4] for r in net.data if r[4] and r[2] < r[3]]  # at_most = trials: no evidence
    total = 0.0 * a[:, 0, 0]
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
    for event, act, state in ordinal:
        total = total + _log_ordinal(net, event, act, state, a, b, xp)
    if impossible:
        total = total - np.inf
    for v, h in soft.items():
        operands.append((np.array(h), (v,)))
    if operands:
        if xp is np:
            spec = einsum_spec([idx for _, idx in operands], (BATCH,))
            z = opt_einsum.contract(spec, *[t for t, _ in operands], optimize="auto")
            total = total + xp.log(z)
        else:
            total = total + _log_contract_pairwise(operands, steps, sizes(net, [
                v for _, idx in operands for v in idx]), xp)
    return total


def _log_ordinal(net: Network, event: int, act: tuple[float, ...], state: int, a: Any, b: Any,
                 xp: Any) -> Any:
    """Log P(X = state | causes) of an event with states whose causes are known, (S,).

    The first state is log sigmoid(-x_1), the last log sigmoid(x_{m-1}), a
    middle one log sigmoid(x_s) + log sigmoid(-x_{s+1}) + log(1 - exp(x_{s+1} -
    x_s)): no difference of probabilities, so no cancellation.
    """
    m = net.card(event)
    eta: Any = 0.0
    for t, on in enumerate(act):
        if on:
            eta = eta + b[:, event, t]

    def x(k: int) -> Any:  # the logit of P(X >= s_k)
        return a[:, event, k - 1] + eta

    if state == 0:
        return -_softplus(x(1), xp)
    if state == m - 1:
        return -_softplus(-x(m - 1), xp)
    gap = x(state + 1) - x(state)
    log1m = np.log(-np.expm1(gap)) if xp is np else xp.log(-xp.expm1(gap))
    return -_softplus(-x(state), xp) - _softplus(x(state + 1), xp) + log1m



#: The likelihood's contraction per einsum string: its path, the bytes it needs
#: per draw, and what needs them most (a factor's position in the list, or
#: ``-1 - k`` for step ``k`` of the path).
_LIKELIHOOD_PLANS: dict[str, tuple[tuple[tuple[int, ...], ...], int, int]] = {}



def _table_bytes(n_free: int) -> int:
    """Bytes :func:`table` needs for one draw of a factor with ``n_free`` entries.

    Besides the table's entries it lists the configurations as Python tuples
    and as an array of one column per variable, and keeps a few tables'
    worth of logits and probabilities: about 2n + 10 tables in all for n
    yes/no variables (measured with tracemalloc for n = 12 to 18).
    """
    return 8 * n_free * (2 * max(n_free.bit_length() - 1, 0) + 10)



def _likelihood_plan(net: Network, tabled: list[Factor], hard: Mapping[int, int],
                     soft: Mapping[int, tuple[float, ...]]
                     ) -> tuple[tuple[tuple[int, ...], ...], int]:
    """Contraction path of the likelihood (per draw, no draw axis) and bytes per draw.

    The operands are the tables of ``tabled`` then the soft-evidence vectors,
    as :func:`log_likelihood` builds them. The size of every factor table
    and of every pairwise product along the path is checked against
    :data:`MEMORY_BUDGET` from the variables alone, before anything is
    built; the path is planned once per evidence pattern.

    Raises
    ------
    ContractionTooLarge
        Naming the event whose table, or the events whose joint sum, is too large.
    """
    indices = [free_vars(f, hard) for f in tabled] + [(v,) for v in soft]
    card = sizes(net, [v for idx in indices for v in idx])

    def entries(idx: tuple[int, ...]) -> int:
        return math.prod(card[v] for v in idx)

    spec = einsum_spec(indices, ())
    if spec not in _LIKELIHOOD_PLANS:
        worst = max(range(len(tabled)), key=lambda k: entries(indices[k]))
        per_draw = _table_bytes(entries(indices[worst]))
        steps, _ = opt_einsum.contract_path(
            spec, *[tuple(card[v] for v in i) for i in indices], shapes=True, optimize="auto")
        path = tuple(tuple(int(k) for k in step) for step in steps)
        unions = _pairwise_unions(indices, path)
        widest = max(range(len(unions)), key=lambda k: entries(unions[k]))
        if 8 * entries(unions[widest]) > per_draw:
            per_draw, worst = 8 * entries(unions[widest]), -1 - widest
        _LIKELIHOOD_PLANS[spec] = (path, per_draw, worst)
    path, per_draw, worst = _LIKELIHOOD_PLANS[spec]
    if per_draw > MEMORY_BUDGET:
        raise ContractionTooLarge(problems=[_too_large(net, tabled, hard, indices, path,
                                                       per_draw, worst)])
    return path, per_draw



def _pairwise_unions(indices: list[tuple[int, ...]], path: tuple[tuple[int, ...], ...]
                     ) -> list[tuple[int, ...]]:
    """The variables of each step's product along ``path`` (opt_einsum's convention)."""
    live = [tuple(i) for i in indices]
    unions = []
    for step in path:
        taken = [live.pop(k) for k in sorted(step, reverse=True)]
        union = tuple(dict.fromkeys(v for idx in taken for v in idx))
        unions.append(union)
        rest = {v for idx in live for v in idx}
        live.append(tuple(v for v in union if v in rest))
    return unions



def _names(net: Network, variables: Sequence[int], most: int = 6) -> str:
    """Event ids of factual variables, quoted, the first ``most`` of them."""
    ids = [f"'{net.nodes[(v - 1) // 2]}'" for v in variables]
    more = f" and {len(ids) - most} more" if len(ids) > most else ""
    return ", ".join(ids[:most]) + more



def _too_large(net: Network, tabled: list[Factor], hard: Mapping[int, int],
               indices: list[tuple[int, ...]], path: tuple[tuple[int, ...], ...],
               per_draw: int, worst: int) -> Problem:
    """The likelihood's budget problem, naming the events responsible."""
    size = (f"the likelihood of history needs {per_draw / 2**30:.1f} GiB per draw for its "
            f"largest table (budget {MEMORY_BUDGET / 2**30:.1f} GiB)")
    if worst >= 0:  # one event's own table
        f = tabled[worst]
        event = net.nodes[f.node]
        causes = [v for v in indices[worst] if v != fvar(f.node)]
        own = "" if fvar(f.node) in hard else ", and its own history is " + (
            "unknown" if net.history[f.node] is None else "soft")
        return Problem(net.name, f"nodes.{event}",
                       f"{size}: '{event}' has {len(causes)} cause"
                       f"{'' if len(causes) == 1 else 's'} whose history is unknown or soft "
                       f"({_names(net, causes)}){own}",
                       f"record the history of some of these causes, or give '{event}' "
                       "fewer causes")
    union = _pairwise_unions(indices, path)[-1 - worst]
    return Problem(net.name, "",
                   f"{size}: {len(union)} events with unknown or soft history are summed "
                   f"out together ({_names(net, union)})",
                   "record more of the history, or give events fewer causes, so that the "
                   "events with unknown history are less densely connected")



def _log_contract_pairwise(operands: list[tuple[Any, tuple[int, ...]]],
                           path: tuple[tuple[int, ...], ...], card: Mapping[int, int],
                           xp: Any) -> Any:
    """Log of the full contraction of ``operands`` to the draw axis, pair by pair.

    ``operands`` are ``(tensor, variables)``: factor tables with the draw
    axis first, and soft-evidence vectors without it. Each step of ``path``
    (opt_einsum's convention: positions taken out of the list, the result
    appended) contracts two operands as a product and a sum on at most five
    axes (draws, kept shared, kept of one, summed shared, kept of the other),
    whatever the number of variables: the same few compiled PyTensor ops
    serve every scenario. Every intermediate is divided by its sum over all
    but the draw axis and the log of that sum kept, so a product of many
    small probabilities does not underflow. Only reshapes, products, sums
    and logs: the same code runs in numpy, and PyTensor differentiates it.
    """
    live = [(t, idx) if idx[:1] == (BATCH,) else (t[None], (BATCH, *idx)) for t, idx in operands]
    log_scale: Any = 0.0
    for step in path:
        taken = [live.pop(k) for k in sorted(step, reverse=True)]
        keep = {v for _, idx in live for v in idx}
        table, idx = taken[0]
        if len(taken) == 1:
            table, idx = _contract_pair(table, idx, None, (BATCH,), keep, card)
        for k in range(1, len(taken)):  # opt_einsum's steps take one or two
            rest = {v for _, i in taken[k + 1:] for v in i}
            table, idx = _contract_pair(table, idx, *taken[k], keep | rest, card)
        if len(idx) > 1:  # rescale: sum 1 over all but the draw axis
            shape = tuple(card[v] for v in idx[1:])
            flat = table.reshape((-1, math.prod(shape)))
            scale = flat.sum(axis=1)
            flat = flat / xp.where(scale > 0, scale, 1.0)[:, None]
            log_scale = log_scale + xp.log(scale)
            table = flat.reshape((-1, *shape))
        live.append((table, idx))
    [(last, _)] = live  # the draw axis alone: every variable is summed out
    return log_scale + xp.log(last)



def _contract_pair(x: Any, xi: tuple[int, ...], y: Any, yi: tuple[int, ...],
                   keep: set[int], card: Mapping[int, int]) -> tuple[Any, tuple[int, ...]]:
    """Multiply two tables (draw axis first) and sum out the variables not in ``keep``.

    Both are brought to five axes, ``(draws, kept shared, kept, summed
    shared, summed own)``, by a transpose and a reshape; the own summed
    axis is summed at once, then the product sums over the shared one. With
    ``y`` None, ``x`` alone is summed down to ``keep``.
    """
    xs, ys = xi[1:], yi[1:]
    shared = [v for v in xs if v in ys]
    h = [v for v in shared if v in keep]
    c = [v for v in shared if v not in keep]
    xk = [v for v in xs if v not in ys and v in keep]
    yk = [v for v in ys if v not in xs and v in keep]

    def five(t: Any, ti: tuple[int, ...], groups: list[list[int]]) -> Any:
        own = [v for v in ti[1:] if v not in shared and v not in keep]
        order = [0] + [ti.index(v) for g in [*groups, own] for v in g]
        shape = (-1, *(math.prod(card[v] for v in g) for g in [*groups, own]))
        return t.transpose(order).reshape(shape).sum(axis=4)

    if y is None:
        kept = [v for v in xs if v in keep]
        out = five(x, xi, [kept, [], []]).reshape((-1, *(card[v] for v in kept)))
        return out, (BATCH, *kept)
    left = five(x, xi, [h, xk, c])  # (draws, H, XK, C)
    right = five(y, yi, [h, c, yk])  # (draws, H, C, YK)
    product = (left[:, :, :, :, None] * right[:, :, None, :, :]).sum(axis=3)
    out = h + xk + yk
    return product.reshape((-1, *(card[v] for v in out))), (BATCH, *out)



def _logits(rows: list[tuple[int, tuple[float, ...], int, int]], a: Any, b: Any,
            width: int) -> Any:
    """Log-odds of each row's event with its causes set as the row says, (S, rows)."""
    nodes = np.array([r[0] for r in rows])
    given = np.zeros((len(rows), width))
    for m, r in enumerate(rows):
        given[m, : len(r[1])] = r[1]
    return a[:, nodes, 0] + (b[:, nodes, :] * given[None]).sum(axis=2)


def _log_binomial_cdf(x: Any, k: int, n: int, xp: Any) -> Any:
    """Log P(K <= k) for K ~ Binomial(n, expit(x)), x of shape (S,), at any x.

    Where the probability is at least ``exp(TAIL_LOG_CDF)`` it is the
    regularised incomplete beta function, P(K <= k) = I_q(n - k, k + 1) at
    q = expit(-x) (computed so, not as 1 - p, which loses the far tail). In
    PyTensor that is one compiled scalar op with its gradient; the sum of
    the k + 1 binomial terms instead cost more both to compile and per
    gradient (measured: 1.15 s against 0.75 s more per ``compare``), and
    allows no large ``k``.

    Beyond that (x above :func:`_tail_start`), I_q underflows to 0 while the
    log is finite (about -1,386 for ``at_most = 0`` of 2,000 trials at
    x = 0), and log 0 = -inf gave NUTS a "Bad initial energy". There it is
    log T_k + log S: the largest term T_k = C(n, k) p^k q^(n-k) in log space,
    and S the sum of the terms relative to it, by Horner's rule in the
    ratios r_j = T_{j-1} / T_j = j q / ((n - j + 1) p): the 16 largest terms
    exactly, the rest as a geometric series in the last ratio, an upper
    bound that is tight because the ratios shrink as j falls and are below
    1 there (the bound's k lies below the mean). S lies between 1 and
    1 / (1 - r_k): no underflow, no cancellation, and a few scalar
    operations that PyTensor fuses into one. Each branch sees only inputs
    inside its own range, so neither makes a NaN in the other's gradient.
    """
    x0 = _tail_start(k, n)
    if xp is np:
        from scipy.special import betainc, expit

        with np.errstate(divide="ignore"):
            main = np.log(betainc(n - k, k + 1, expit(-np.minimum(x, x0))))
        return np.where(x > x0, _log_far_tail(np.maximum(x, x0), k, n, np), main)
    main = xp.log(xp.betainc(np.float64(n - k), np.float64(k + 1),
                             xp.sigmoid(-xp.minimum(x, x0))))
    return xp.switch(x > x0, _log_far_tail(xp.maximum(x, x0), k, n, xp), main)


#: how many binomial terms the far tail sums exactly before the geometric rest
_TAIL_TERMS = 16
#: log P(K <= k) below which the far-tail sum replaces the incomplete beta function
TAIL_LOG_CDF = -500.0


def _log_far_tail(x: Any, k: int, n: int, xp: Any) -> Any:
    """Log P(K <= k) as log T_k + log S (see :func:`_log_binomial_cdf`), for x >= x0."""
    y = xp.exp(-x)  # q / p; r_j = c_j y with c_j = j / (n - j + 1)
    last = max(k - _TAIL_TERMS + 1, 0)  # the smallest term summed exactly
    inner: Any = 1.0 if last == 0 else 1.0 / (1.0 - (last / (n - last + 1)) * y)
    for j in range(last + 1, k + 1):
        inner = 1.0 + (j / (n - j + 1)) * y * inner
    log_p, log_q = -_softplus(-x, xp), -_softplus(x, xp)
    return _log_choose(n, k) + k * log_p + (n - k) * log_q + xp.log(inner)


@functools.lru_cache(maxsize=256)
def _tail_start(k: int, n: int) -> float:
    """The logit above which log P(K <= k) < :data:`TAIL_LOG_CDF` (bisection, with scipy).

    There the ratio of term k - 1 to term k is below 1 (so the geometric rest
    converges): P(K <= k) is tiny only for k below the mean.
    """
    from scipy.special import betainc, expit

    def log_cdf(x: float) -> float:
        with np.errstate(divide="ignore"):
            return float(np.log(betainc(n - k, k + 1, expit(-x))))

    lo, hi = -1.0, 800.0  # at 800, expit(-x) is 0 and so is the probability
    while log_cdf(lo) <= TAIL_LOG_CDF:
        lo *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if log_cdf(mid) > TAIL_LOG_CDF:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, abs(lo)):
            break
    return lo


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _softplus(x: Any, xp: Any) -> Any:
    return np.logaddexp(0.0, x) if xp is np else xp.softplus(x)
