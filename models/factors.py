"""Exact interventional and counterfactual queries by tensor contraction.

Every event X is binary with ``P(X=1 | c) = sigmoid(a_X + sum_j b_Xj c_j)``.
A query is a sum over all joint states of a product of small factors (one
per event), i.e. an einsum; :mod:`opt_einsum` finds a contraction order
(variable elimination) and the parameter draws ride along as a batch axis,
so thousands of draws cost one contraction.

Counterfactuals use Pearl's twin network with a shared noise
``U_X ~ Uniform(0, 1)``: ``X = 1[U_X < p]`` factually and ``X* = 1[U_X < q]``
counterfactually (a comonotone coupling, an assumption: the POD changes the
odds, and the luck of history is kept). The pair factor is::

    P(1,1) = min(p, q)   P(1,0) = max(0, p - q)
    P(0,1) = max(0, q - p)   P(0,0) = 1 - max(p, q)

Events the POD cannot reach keep one shared copy (their two copies are equal
under the coupling), and observed (hard) history is sliced into the factors
rather than carried as an index, which keeps the contractions small.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import opt_einsum
from scipy.special import expit

from plausibly.models.network import BATCH, Network

__all__ = ["Factor", "cvar", "einsum_spec", "evidence", "free_vars", "fvar", "mutilated",
           "relevant", "table", "twin"]


@dataclass(frozen=True, eq=False)
class DrawWeights:
    """A POD's weights over an event's states drawn per posterior draw, ``(S, states)``.

    Compared and hashed by identity: one object per POD and query batch.
    """

    values: np.ndarray


#: what a POD puts in place of an event's mechanism: constant weights over its
#: states, or weights per draw
Setting = tuple[float, ...] | DrawWeights


@dataclass(frozen=True)
class Factor:
    """One event's factor: a CPT (one copy) or a twin-network pair factor.

    ``out`` holds the einsum variables it is a distribution over (one for a
    CPT, factual then counterfactual for a pair); ``fpar``/``cpar`` the
    variables of the event's parents (in ``net.parents`` order) that give the
    factual and the counterfactual mechanism. ``q`` are weights over the
    event's states replacing the counterfactual mechanism (a POD), and for a
    CPT the mechanism itself (an interventional POD).
    """

    node: int
    out: tuple[int, ...]
    fpar: tuple[int, ...]
    cpar: tuple[int, ...] = ()
    q: Setting | None = None

    @property
    def children(self) -> tuple[int, ...]:
        """The variables this factor is a distribution over."""
        return self.out

    @property
    def inputs(self) -> tuple[int, ...]:
        """The variables it is conditioned on (factual parents, then counterfactual)."""
        return self.fpar + self.cpar


def sigmoid(x: Any, xp: Any) -> Any:
    """Logistic function without overflow (numpy) or through PyTensor."""
    if xp is np:
        return expit(x)
    return xp.sigmoid(x)


def event_of(v: int) -> int:
    """The event of an einsum variable (factual or counterfactual copy)."""
    return (v - 1) // 2


def sizes(net: Network, variables: Sequence[int]) -> dict[int, int]:
    """Each variable's number of states (the draw axis: 1)."""
    return {v: 1 if v == BATCH else net.card(event_of(v)) for v in variables}


def table(f: Factor, net: Network, a: Any, b: Any, fixed: Mapping[int, int], xp: Any = np
          ) -> tuple[Any, tuple[int, ...]]:
    """Evaluate a factor over its free variables; return (tensor, einsum indices).

    ``a`` is ``(S, N, T)`` (thresholds), ``b`` is ``(S, N, K)`` (term weights).
    The tensor has the draw axis first, then one axis per free variable, as
    long as its event has states; fixed (observed) variables are sliced at
    their state. Every probability is computed where it keeps its precision:
    P(first state) as sigmoid(-logit), not 1 - P(X >= s_1), and a middle
    state as ``F_s (1 - F_{s+1}) (1 - exp(x_{s+1} - x_s))``, not a difference.
    """
    scope = list(dict.fromkeys(f.inputs + f.out))
    free = [v for v in scope if v not in fixed]
    cards = [net.card(event_of(v)) for v in free]
    configs = np.array(list(itertools.product(*[range(c) for c in cards])), dtype=int)
    configs = configs.reshape(len(configs), len(free))
    col = {v: configs[:, k] for k, v in enumerate(free)}
    n_conf = len(configs)
    i, m = f.node, net.card(f.node)
    zero = 0.0 * a[:, i, :1]  # (S, 1): broadcasts constants over the draws

    def value(v: int) -> np.ndarray:
        return col[v] if v in col else np.full(n_conf, fixed[v])

    def logits(par: tuple[int, ...]) -> tuple[list[Any], np.ndarray | None]:
        """x_k = a_k + eta for k = 1..m-1, each (S, n_conf); the gates' open mask."""
        states = {p: value(v) for p, v in zip(net.parents[i], par, strict=True)}
        terms = net.terms[i]
        if terms:
            act = np.stack([np.all([(lo <= states[p]) & (states[p] <= hi)
                                    for p, lo, hi in term], axis=0)
                            for term in terms], axis=1).astype(float)  # (n_conf, K_i)
            if xp is np:
                eta = b[:, i, : len(terms)] @ act.T
            else:  # a product and a sum, not a dot (without BLAS its dot runs in Python)
                eta = (b[:, i, : len(terms), None] * act.T).sum(axis=1)
        else:
            eta = np.zeros(n_conf)
        xs = [a[:, i, k - 1, None] + eta for k in range(1, m)]
        gates = net.gates[i]
        if not gates:
            return xs, None
        return xs, np.all([states[p] >= least for p, least in gates], axis=0).astype(float)

    def cumulative(par: tuple[int, ...], q: Setting | None
                   ) -> tuple[list[Any], list[Any], list[Any]]:
        """F_k = P(X >= s_k) and 1 - F_k for k = 0..m, and the logits x_1..x_{m-1}.

        Each is broadcastable to (S, n_conf); a POD's weights have no logits.
        """
        if q is not None:
            w = q.values if isinstance(q, DrawWeights) else np.asarray(q)[None, :]
            ws = [w[:, s, None] for s in range(m)]
            upper = [sum(ws[k:], zero) for k in range(1, m)]
            lower = [sum(ws[:k], zero) for k in range(1, m)]
            return [1.0, *upper, 0.0], [0.0, *lower, 1.0], []
        xs, gate = logits(par)
        up = [sigmoid(x, xp) for x in xs]
        down = [sigmoid(-x, xp) for x in xs]
        if gate is not None:  # a closed gate: the first state with certainty
            up = [u * gate for u in up]
            down = [d * gate + (1.0 - gate) for d in down]
        return [1.0, *up, 0.0], [0.0, *down, 1.0], xs

    def states_of(par: tuple[int, ...], q: Setting | None) -> list[Any]:
        """P(X = s) for every state, each (S, n_conf)."""
        if q is not None:
            w = q.values if isinstance(q, DrawWeights) else np.asarray(q)[None, :]
            return [w[:, s, None] + zero for s in range(m)]
        up, down, xs = cumulative(par, None)
        middle = [up[s] * down[s + 1] * -xp.expm1(xs[s] - xs[s - 1]) for s in range(1, m - 1)]
        return [down[1], *middle, up[m - 1]]

    def onehot(v: int, s: int) -> np.ndarray:
        return (value(v) == s).astype(float)

    if len(f.out) == 1:
        probs = states_of(f.fpar, f.q)
        result = sum((onehot(f.out[0], s) * probs[s] for s in range(m)), zero)
    else:
        fu, fd, _ = cumulative(f.fpar, None)
        gu, gd, _ = cumulative(f.cpar, f.q)
        result = zero
        for r in range(m):
            for c in range(m):
                if r == 0 and c == 0:
                    cell = xp.minimum(fd[1], gd[1])
                elif r == m - 1 and c == m - 1:
                    cell = xp.minimum(fu[r], gu[c])
                else:
                    cell = xp.maximum(0.0, xp.minimum(fu[r], gu[c]) - xp.maximum(fu[r + 1],
                                                                                  gu[c + 1]))
                result = result + onehot(f.out[0], r) * onehot(f.out[1], c) * cell
    shape = (-1, *cards)
    return result.reshape(shape), (BATCH, *free)


def fvar(i: int) -> int:
    """The einsum variable of event ``i``'s factual copy."""
    return 1 + 2 * i


def cvar(i: int) -> int:
    """The einsum variable of event ``i``'s counterfactual copy."""
    return 2 + 2 * i


def mutilated(net: Network, do: Mapping[int, Setting]) -> list[Factor]:
    """One copy per event, intervened events replaced by a constant."""
    return [
        Factor(i, (fvar(i),), () if i in do else tuple(fvar(p) for p in net.parents[i]),
                q=do.get(i))
        for i in range(net.size)
    ]


def twin(net: Network, do: Mapping[int, Setting]) -> tuple[list[Factor], dict[int, int]]:
    """Twin network; returns the factors and each event's counterfactual variable."""
    reach = net.downstream(list(do))
    cvars = {i: (cvar(i) if i in reach else fvar(i)) for i in range(net.size)}
    factors = []
    for i in range(net.size):
        fpar = tuple(fvar(p) for p in net.parents[i])
        if i not in reach:
            factors.append(Factor(i, (fvar(i),), fpar))
        elif i in do:
            factors.append(Factor(i, (fvar(i), cvar(i)), fpar, q=do[i]))
        else:
            cpar = tuple(cvars[p] for p in net.parents[i])
            factors.append(Factor(i, (fvar(i), cvar(i)), fpar, cpar))
    return factors, cvars


def relevant(factors: list[Factor], needed: set[int]) -> list[Factor]:
    """Drop barren factors: those no query or evidence variable depends on."""
    keep: set[int] = set(needed)
    chosen: list[Factor] = []
    for f in reversed(factors):  # children before parents
        if keep.intersection(f.children):
            chosen.append(f)
            keep.update(f.inputs)
    return chosen[::-1]


def evidence(net: Network) -> tuple[dict[int, int], dict[int, tuple[float, ...]]]:
    """Hard history as fixed variable states; soft history as likelihood vectors."""
    hard: dict[int, int] = {}
    soft: dict[int, tuple[float, ...]] = {}
    for i, h in enumerate(net.history):
        if h is None:
            continue
        if sorted(h)[-1] == 1.0 and sum(h) == 1.0:
            hard[fvar(i)] = h.index(1.0)
        else:
            soft[fvar(i)] = h
    return hard, soft


def einsum_spec(indices: Sequence[tuple[int, ...]], out: tuple[int, ...]) -> str:
    """An einsum string for integer-labelled operands."""
    used = sorted({v for idx in indices for v in idx} | set(out))
    sym = {v: opt_einsum.get_symbol(k) for k, v in enumerate(used)}
    return ",".join("".join(sym[v] for v in idx) for idx in indices) + "->" + "".join(
        sym[v] for v in out)


def free_vars(f: Factor, fixed: Mapping[int, int]) -> tuple[int, ...]:
    """The factor's variables left as table axes (the order :func:`table` uses)."""
    return tuple(v for v in dict.fromkeys(f.inputs + f.out) if v not in fixed)
