"""Brute-force references: enumerate every joint state (small networks only).

The counterfactual reference does abduction on the noise directly, not through
the pair-factor formula: given the whole factual world, each U_i is uniform on
[0, p_i) if X_i = 1 and on [p_i, 1) if X_i = 0, independently; the
counterfactual X*_i = 1[U_i < q_i] then has P(X*_i = 1 | X_i = 1) = min(p, q)/p
and P(X*_i = 1 | X_i = 0) = max(0, q - p)/(1 - p).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from plausibly.models.network import Network


def _p(net: Network, a, b, i: int, state) -> float:
    z = a[i] + sum(b[i, j] * state[p] for j, p in enumerate(net.parents[i]))
    return 1.0 / (1.0 + math.exp(-z))


def joint(net: Network, a, b, do=None):
    """Yield (state, probability) of the (mutilated) network."""
    do = {net.index(k): v for k, v in (do or {}).items()}
    for state in itertools.product((0, 1), repeat=net.size):
        w = 1.0
        for i in range(net.size):
            p = do[i] if i in do else _p(net, a, b, i, state)
            w *= p if state[i] else 1.0 - p
        yield state, w


def interventional(net, a, b, do=None, target=None) -> float:
    t = net.outcome if target is None else net.index(target)
    return sum(w for s, w in joint(net, a, b, do) if s[t] == 1)


def _evidence_weight(net: Network, state) -> float:
    w = 1.0
    for i, h in enumerate(net.history):
        if h is not None:  # weights over the states (the network stores history so)
            w *= h[state[i]]
    return w


def counterfactual_pairs(net: Network, a, b, do=None) -> np.ndarray:
    """P(X_i = x, X*_i = y | history) for every event: shape (N, 2, 2)."""
    do = {net.index(k): v for k, v in (do or {}).items()}
    out = np.zeros((net.size, 2, 2))
    total = 0.0
    for fact, w in joint(net, a, b):
        w *= _evidence_weight(net, fact)
        if w == 0.0:
            continue
        total += w
        # enumerate counterfactual worlds given the factual one
        for cf in itertools.product((0, 1), repeat=net.size):
            v = w
            for i in range(net.size):
                p = _p(net, a, b, i, fact)
                q = do[i] if i in do else _p(net, a, b, i, cf)
                if fact[i] == 1:
                    up = min(p, q) / p
                else:
                    up = max(0.0, q - p) / (1.0 - p)
                v *= up if cf[i] else 1.0 - up
                if v == 0.0:
                    break
            if v:
                for i in range(net.size):
                    out[i, fact[i], cf[i]] += v
    return out / total


def counterfactual(net, a, b, do=None, target=None) -> float:
    t = net.outcome if target is None else net.index(target)
    return float(counterfactual_pairs(net, a, b, do)[t, :, 1].sum())


def random_network(rng: np.random.Generator, n: int, max_parents: int = 3,
                   density: float = 0.5) -> Network:
    parents = []
    for i in range(n):
        cands = [j for j in range(i) if rng.random() < density]
        rng.shuffle(cands)
        parents.append(tuple(sorted(cands[:max_parents])))
    history = []
    for _ in range(n):
        r = rng.random()
        history.append(None if r < 0.2 else (float(rng.random()) if r < 0.35 else float(r < 0.65)))
    return Network(nodes=tuple(f"x{i}" for i in range(n)), parents=tuple(parents),
                   history=tuple(history), outcome=n - 1, name="random")


def random_parameters(rng: np.random.Generator, net: Network, scale: float = 1.5):
    a = rng.normal(0, scale, net.size)
    b = rng.normal(0, 2 * scale, (net.size, net.max_parents))
    return a, b
