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


# =========================================================================== version 2
#
# Events with ordered states, gates and interaction terms. Everything below reads
# the structure (states, terms, gates, history) straight from the Network's fields
# and computes the mechanism itself; it calls nothing in plausibly.models but the
# Network constructor.
#
# Counterfactuals: abduction on the noise itself. Given a whole factual world x,
# the noises are independent and U_i is uniform on the interval [F_{x_i+1}, F_{x_i})
# of the factual cumulative probabilities F_k = P(X_i >= s_k | factual parents)
# (F_0 = 1, F_m = 0); a closed gate makes F = (1, 0, ..., 0), so x_i = s_0 and the
# interval is all of [0, 1): U_i learns nothing. The counterfactual world is then
# propagated event by event in topological order: with G the counterfactual
# cumulative probabilities (from the counterfactual parents, or from a POD's
# weights), X*_i = s_j on [G_{j+1}, G_j). U_i's interval is cut at every G inside
# it and each piece, of known length, goes to the state its midpoint falls in.


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _logits_v2(net: Network, a, b, i: int, world) -> list[float] | None:
    """[x_1, ..., x_{m-1}]: logit P(X_i >= s_k | parents in ``world``); None if a gate is closed."""
    m = len(net.states[i])
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if any(world[p] < least for p, least in net.gates[i]):
        return None
    eta = 0.0
    for t, term in enumerate(net.terms[i]):
        if all(lo <= world[p] <= hi for p, lo, hi in term):
            eta += float(b[i, t])
    return [float(a[i, k - 1]) + eta for k in range(1, m)]


def cumulative_v2(net: Network, a, b, i: int, world) -> list[float]:
    """[F_0, ..., F_m]: P(X_i >= s_k) given the parents' states in ``world`` (a, b one draw)."""
    xs = _logits_v2(net, a, b, i, world)
    if xs is None:
        return [1.0] + [0.0] * len(net.states[i])
    return [1.0, *(_sigmoid(x) for x in xs), 0.0]


def state_probabilities_v2(net: Network, a, b, i: int, world) -> list[float]:
    """P(X_i = s) for every state: F_s - F_{s+1}, or (1 - F_{s+1}) - (1 - F_s) when F_s > 1/2.

    The complements are exact near 1 (as sigmoid(-x)), so two "at least" probabilities
    close to 1 do not cancel (1 - 1.6e-11 - (1 - 4.2e-9) lost 3e-8 of its value).
    """
    m = len(net.states[i])
    xs = _logits_v2(net, a, b, i, world)
    if xs is None:
        return [1.0] + [0.0] * (m - 1)
    f = [1.0, *(_sigmoid(x) for x in xs), 0.0]
    c = [0.0, *(_sigmoid(-x) for x in xs), 1.0]
    return [f[s] - f[s + 1] if f[s] <= 0.5 else c[s + 1] - c[s] for s in range(m)]


def pod_weights_v2(net: Network, i: int, value) -> list[float]:
    """A do-value as weights over event i's states (the forms the engine accepts, one draw)."""
    states = net.states[i]
    m = len(states)
    if isinstance(value, str):
        return [float(s == value) for s in states]
    if isinstance(value, dict):
        return [float(value.get(s, 0.0)) for s in states]
    if np.ndim(value) == 0:
        p = float(value)
        assert m == 2
        return [1.0 - p, p]
    w = [float(x) for x in np.asarray(value, dtype=float)]
    assert len(w) == m
    return w


def _cum_from_weights(w: list[float]) -> list[float]:
    """G_j = P(X >= s_j) for weights over the states."""
    m = len(w)
    return [1.0] + [sum(w[j:]) for j in range(1, m)] + [0.0]


def _do_v2(net: Network, do) -> dict[int, list[float]]:
    return {(k if isinstance(k, int) else net.nodes.index(k)): pod_weights_v2(
        net, k if isinstance(k, int) else net.nodes.index(k), v) for k, v in (do or {}).items()}


def joint_v2(net: Network, a, b, do=None):
    """Yield (world, probability) of the (mutilated) network, every joint state."""
    dov = _do_v2(net, do)
    cards = [len(s) for s in net.states]
    for world in itertools.product(*[range(c) for c in cards]):
        w = 1.0
        for i in range(net.size):
            if i in dov:
                w *= dov[i][world[i]]
            else:
                w *= state_probabilities_v2(net, a, b, i, world)[world[i]]
            if w == 0.0:
                break
        if w:
            yield world, w


def evidence_weight_v2(net: Network, world) -> float:
    """The history's weight of a world: the product of each record's weight at its state."""
    w = 1.0
    for i, h in enumerate(net.history):
        if h is not None:
            w *= h[world[i]]
    return w


def distribution_v2(net: Network, a, b, do=None, target=None) -> np.ndarray:
    """P(target = s | do(POD)) over the target's states."""
    t = net.outcomes[0][0] if target is None else net.index(target)
    out = np.zeros(len(net.states[t]))
    for world, w in joint_v2(net, a, b, do):
        out[world[t]] += w
    return out / out.sum()


def interventional_v2(net: Network, a, b, do=None, target=None, at_least=None) -> float:
    t = net.outcomes[0][0] if target is None else net.index(target)
    least = 1 if at_least is None else at_least
    return float(distribution_v2(net, a, b, do, t)[least:].sum())


def _pieces(lo: float, hi: float, cuts: list[float]):
    """[lo, hi) cut at every point of ``cuts`` inside it: yield (start, end) pieces."""
    points = sorted({lo, hi, *(c for c in cuts if lo < c < hi)})
    yield from itertools.pairwise(points)


def _state_at(u: float, g: list[float]) -> int:
    """The state j with G_{j+1} <= u < G_j."""
    m = len(g) - 1
    for j in range(m - 1, -1, -1):
        if u < g[j] and u >= g[j + 1]:
            return j
    raise AssertionError((u, g))


def _propagate(net: Network, a, b, dov, fact, intervals, out, cf: list[int],
               weight: float) -> None:
    """Give ``weight`` to every counterfactual world continuing ``cf`` (events 0..len(cf)-1)."""
    i = len(cf)
    if i == net.size:
        for k in range(net.size):
            out[k][fact[k], cf[k]] += weight
        return
    lo, hi = intervals[i]
    g = _cum_from_weights(dov[i]) if i in dov else cumulative_v2(net, a, b, i, cf)
    for u0, u1 in _pieces(lo, hi, g):
        share = (u1 - u0) / (hi - lo)
        if share > 0.0:
            _propagate(net, a, b, dov, fact, intervals, out,
                       [*cf, _state_at(0.5 * (u0 + u1), g)], weight * share)


def counterfactual_pairs_v2(net: Network, a, b, do=None) -> list[np.ndarray]:
    """P(X_i = r, X*_i = c | history) for every event i: a list of (m_i, m_i) tables."""
    dov = _do_v2(net, do)
    out = [np.zeros((len(s), len(s))) for s in net.states]
    total = 0.0
    for fact, w in joint_v2(net, a, b):
        w *= evidence_weight_v2(net, fact)
        if w == 0.0:
            continue
        total += w
        # abduction: each U_i uniform on its factual state's interval
        intervals = []
        for i in range(net.size):
            f = cumulative_v2(net, a, b, i, fact)
            intervals.append((f[fact[i] + 1], f[fact[i]]))

        _propagate(net, a, b, dov, fact, intervals, out, [], w)
    return [t / total for t in out]


def counterfactual_v2(net: Network, a, b, do=None, target=None, at_least=None) -> float:
    t = net.outcomes[0][0] if target is None else net.index(target)
    least = 1 if at_least is None else at_least
    return float(counterfactual_pairs_v2(net, a, b, do)[t][:, least:].sum())


def differs_v2(net: Network, a, b, do=None) -> np.ndarray:
    """P(X*_i != X_i | history) for every event."""
    return np.array([1.0 - np.trace(p) for p in counterfactual_pairs_v2(net, a, b, do)])


def log_likelihood_v2(net: Network, a, b) -> float:
    """log of the sum over the joint of the evidence weights, plus the data rows."""
    from scipy import stats

    total = sum(w * evidence_weight_v2(net, world) for world, w in joint_v2(net, a, b))
    out = math.log(total)
    for event, act, k, n, at_most in net.data:
        eta = float(np.asarray(a, dtype=float).reshape(net.size, -1)[event, 0])
        eta += sum(float(b[event, t]) * x for t, x in enumerate(act))
        p = _sigmoid(eta)
        out += float(stats.binom.logcdf(k, n, p) if at_most else stats.binom.logpmf(k, n, p))
    return out


def random_network_v2(rng: np.random.Generator, n: int, max_parents: int = 3,
                      density: float = 0.6, max_card: int = 4, gate_rate: float = 0.35,
                      interaction_rate: float = 0.5) -> Network:
    """A random network with states (2 to ``max_card``), gates, interactions and history.

    Every cause of an event is an influence (one term per non-first state), a
    gate (``at_least`` a random non-first state), or both; some events get
    an interaction term over two causes (each at least a state, or a random
    range); history is hard, soft (weights over the states) or missing.
    """
    cards = [int(rng.integers(2, max_card + 1)) for _ in range(n)]
    states = tuple(("no", "yes") if c == 2 and rng.random() < 0.7
                   else tuple(f"s{k}" for k in range(c)) for c in cards)
    parents, terms, gates = [], [], []
    for i in range(n):
        cands = [j for j in range(i) if rng.random() < density]
        rng.shuffle(cands)
        ps = tuple(sorted(cands[:max_parents]))
        own: list = []
        gate: list = []
        for p in ps:
            role = rng.random()
            if role < gate_rate:
                gate.append((p, int(rng.integers(1, cards[p]))))
            if role >= gate_rate or role < 0.1:  # influences, and a few gates that also influence
                own.extend(((p, s, s),) for s in range(1, cards[p]))
        if len(ps) >= 2 and rng.random() < interaction_rate:
            pair = sorted(rng.choice(ps, size=2, replace=False).tolist())
            conds = []
            for p in pair:
                if rng.random() < 0.7:
                    conds.append((p, int(rng.integers(1, cards[p])), cards[p] - 1))
                else:
                    lo = int(rng.integers(0, cards[p]))
                    conds.append((p, lo, int(rng.integers(lo, cards[p]))))
            own.append(tuple(conds))
        parents.append(ps)
        terms.append(tuple(own))
        gates.append(tuple(gate))
    history: list = []
    for i in range(n):
        r = rng.random()
        if r < 0.25:
            history.append(None)
        elif r < 0.5:
            w = rng.random(cards[i]) + 0.05
            history.append(tuple(float(x) for x in w / w.max()))  # a likelihood vector
        else:
            s = int(rng.integers(0, cards[i]))
            history.append(tuple(float(k == s) for k in range(cards[i])))
    target = n - 1
    outcomes = ((target, int(rng.integers(1, cards[target]))),)
    net = Network(nodes=tuple(f"x{i}" for i in range(n)), parents=tuple(parents),
                  history=tuple(history), outcome=target, name="random_v2",
                  states=states, terms=tuple(terms), gates=tuple(gates), outcomes=outcomes)
    # a hard history that closed gates make impossible: put the gated events at s_0
    some_a = np.tile(np.linspace(1.0, -1.0, max(cards) - 1), (n, 1))  # every state possible
    some_b = np.zeros((n, net.max_parents))
    while not any(evidence_weight_v2(net, x) for x, _ in joint_v2(net, some_a, some_b)):
        i = next(i for i in range(n) if gates[i] and history[i] is not None
                 and history[i][0] == 0.0)
        history[i] = tuple(float(k == 0) for k in range(cards[i]))
        net = net.with_history(history)
    return net


def with_rows(rng: np.random.Generator, net: Network) -> Network:
    """Add an exact and a bounded reference-class row on yes/no events, when there are any."""
    binary = [i for i in range(net.size) if net.card(i) == 2]
    rows = []
    for at_most in (False, True):
        if binary:
            i = int(rng.choice(binary))
            act = tuple(float(x) for x in rng.integers(0, 2, len(net.terms[i])))
            n = int(rng.integers(1, 12))
            rows.append((i, act, int(rng.integers(0, n + 1)), n, at_most))
    return net.with_data(tuple(rows))


def random_parameters_v2(rng: np.random.Generator, net: Network, scale: float = 1.5):
    """One draw: thresholds ``(N, T)`` decreasing along T, term weights ``(N, K)``."""
    t = net.max_thresholds
    a = -np.sort(-rng.normal(0, 2 * scale, (net.size, t)), axis=1)
    b = rng.normal(0, 2 * scale, (net.size, net.max_parents))
    return a, b


def pod_chance_v2(net: Network, a, b, do) -> float:
    """The definition by enumeration on a version 2 network: for each set event X, the sum
    over its causes' joint posterior given history (hard, soft and missing records) of
    P(X = v | causes), v the state the POD makes likeliest; several events multiply."""
    chance = 1.0
    for k, value in do.items():
        i = net.index(k)
        v = int(np.argmax(pod_weights_v2(net, i, value)))
        post: dict[tuple, float] = {}
        total = 0.0
        for world, w in joint_v2(net, a, b):
            w *= evidence_weight_v2(net, world)
            key = tuple(world[p] for p in net.parents[i])
            post[key] = post.get(key, 0.0) + w
            total += w
        p_v = 0.0
        for key, w in post.items():
            world = [0] * net.size
            for p, st in zip(net.parents[i], key, strict=True):
                world[p] = st
            p_v += w / total * state_probabilities_v2(net, a, b, i, world)[v]
        chance *= p_v
    return chance
