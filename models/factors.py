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


@dataclass(frozen=True)
class Factor:
    """One event's factor: a CPT (one copy) or a twin-network pair factor.

    ``out`` holds the einsum variables it is a distribution over (one for a
    CPT, factual then counterfactual for a pair); ``fpar``/``cpar`` the
    variables of the parents whose values give p and q. ``q`` is a constant
    probability replacing the counterfactual mechanism (a POD), and for a
    CPT replaces the mechanism itself (an interventional POD).
    """

    node: int
    out: tuple[int, ...]
    fpar: tuple[int, ...]
    cpar: tuple[int, ...] = ()
    q: float | None = None

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


def table(f: Factor, a: Any, b: Any, fixed: Mapping[int, int], xp: Any = np
           ) -> tuple[Any, tuple[int, ...]]:
    """Evaluate a factor over its free variables; return (tensor, einsum indices).

    The tensor has the draw axis first, then one axis of length 2 per free
    variable; fixed (observed) variables are sliced at their value. P(X=0)
    is computed as sigmoid(-logit), not 1 - P(X=1), so that it keeps its
    precision when P(X=1) is close to 1.
    """
    scope = list(dict.fromkeys(f.inputs + f.out))
    free = [v for v in scope if v not in fixed]
    configs = np.array(list(itertools.product((0, 1), repeat=len(free))), dtype=float)
    configs = configs.reshape(len(configs), len(free))
    col = {v: configs[:, k] for k, v in enumerate(free)}
    n_conf = len(configs)

    def value(v: int) -> np.ndarray:
        return col[v] if v in col else np.full(n_conf, float(fixed[v]))

    def logit(par: tuple[int, ...]) -> Any:
        if not par:
            return a[:, f.node, None] + np.zeros(n_conf)
        vals = np.stack([value(v) for v in par], axis=1)  # (n_conf, k)
        if xp is np:
            return a[:, f.node, None] + b[:, f.node, : len(par)] @ vals.T
        # PyTensor: a product and a sum, not a dot (without BLAS its dot runs in Python)
        return a[:, f.node, None] + (b[:, f.node, : len(par), None] * vals.T).sum(axis=1)

    def probs(par: tuple[int, ...], q: float | None) -> tuple[Any, Any]:
        if q is not None:
            return q, 1.0 - q
        lo = logit(par)
        return sigmoid(lo, xp), sigmoid(-lo, xp)

    if len(f.out) == 1:
        x = value(f.out[0])
        p1, p0 = probs(f.fpar, f.q)
        table = x * p1 + (1.0 - x) * p0
    else:
        xf, xc = value(f.out[0]), value(f.out[1])
        p1, p0 = probs(f.fpar, None)
        q1, q0 = probs(f.cpar, f.q)
        both, none = xp.minimum(p1, q1), xp.minimum(p0, q0)
        only_f, only_c = xp.maximum(0.0, p1 - q1), xp.maximum(0.0, q1 - p1)
        table = (xf * xc * both + xf * (1 - xc) * only_f
                 + (1 - xf) * xc * only_c + (1 - xf) * (1 - xc) * none)
    if isinstance(table, float):  # a constant factor (q with no free variable)
        table = np.full((a.shape[0], n_conf), table)
    elif getattr(table, "ndim", 2) == 1:
        table = table[None, :] + 0.0 * a[:, :1]
    shape = (-1,) + (2,) * len(free)
    return table.reshape(shape), (BATCH, *free)


def fvar(i: int) -> int:
    """The einsum variable of event ``i``'s factual copy."""
    return 1 + 2 * i


def cvar(i: int) -> int:
    """The einsum variable of event ``i``'s counterfactual copy."""
    return 2 + 2 * i


def mutilated(net: Network, do: Mapping[int, float]) -> list[Factor]:
    """One copy per event, intervened events replaced by a constant."""
    return [
        Factor(i, (fvar(i),), () if i in do else tuple(fvar(p) for p in net.parents[i]),
                q=do.get(i))
        for i in range(net.size)
    ]


def twin(net: Network, do: Mapping[int, float]) -> tuple[list[Factor], dict[int, int]]:
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


def evidence(net: Network) -> tuple[dict[int, int], dict[int, float]]:
    """Hard history as fixed variable values; soft history as likelihoods."""
    hard: dict[int, int] = {}
    soft: dict[int, float] = {}
    for i, h in enumerate(net.history):
        if h is None:
            continue
        if h in (0.0, 1.0):
            hard[fvar(i)] = int(h)
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
