"""Version 2 query invariants over generated networks (hypothesis), small and few.

* answers are probabilities, distributions over states sum to 1, and
  P(X* >= s_k) falls as k rises;
* a POD that sets an event to its (hard) history changes nothing counterfactually;
* a closed gate pins its event at its first state in both worlds;
* a yes/no network written with ``states = ("no", "yes")``, explicit per-cause
  terms, history as weights and PODs by state name gives exactly version 1's numbers.
"""

from __future__ import annotations

import itertools

import numpy as np
import reference as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plausibly.models import queries as C
from plausibly.models.network import Network

TOL = 1e-9


def fast(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


SEEDS = st.integers(0, 2**32 - 1)
SIZES = st.integers(2, 4)
SCALES = st.sampled_from([0.5, 1.5, 3.0])


def make(seed: int, n: int, scale: float, **kw):
    rng = np.random.default_rng(seed)
    net = ref.random_network_v2(rng, n, max_card=3, **kw)
    a, b = ref.random_parameters_v2(rng, net, scale)
    return rng, net, a, b


def ancestors(net: Network, i: int) -> set[int]:
    out: set[int] = set()
    todo = list(net.parents[i])
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(net.parents[p])
    return out


@fast(25)
@given(SEEDS, SIZES, SCALES)
def test_answers_are_probabilities_and_distributions_sum_to_one(seed, n, scale):
    rng, net, a, b = make(seed, n, scale)
    e = int(rng.integers(0, net.size))
    w = rng.random(net.card(e))
    do = {e: w / w.sum()}
    for t in range(net.size):
        dist = C.distribution(net, a, b, do, t)[0]
        assert np.all(dist >= -TOL) and abs(dist.sum() - 1.0) < TOL
        cuts = [C.counterfactual(net, a, b, do, target=t, at_least=k)[0]
                for k in range(1, net.card(t))]
        assert all(-TOL <= c <= 1 + TOL for c in cuts)
        assert all(x >= y - TOL for x, y in itertools.pairwise(cuts))
        ints = [C.interventional(net, a, b, do, target=t, at_least=k)[0]
                for k in range(1, net.card(t))]
        np.testing.assert_allclose(ints, [dist[k:].sum() for k in range(1, net.card(t))],
                                   atol=TOL)
    dif = C.differs(net, a, b, do)[0]
    assert np.all(dif >= -TOL) and np.all(dif <= 1 + TOL)


@fast(20)
@given(SEEDS, SIZES, SCALES)
def test_a_pod_equal_to_hard_history_changes_nothing(seed, n, scale):
    rng, net, a, b = make(seed, n, scale)
    hard = [i for i, h in enumerate(net.history)
            if h is not None and max(h) == 1.0 and sum(h) == 1.0]
    if not hard:
        return
    i = int(rng.choice(hard))
    do = {net.nodes[i]: net.states[i][net.history[i].index(1.0)]}
    for t in range(net.size):
        for k in range(1, net.card(t)):
            assert abs(C.counterfactual(net, a, b, do, target=t, at_least=k)[0]
                       - C.counterfactual(net, a, b, target=t, at_least=k)[0]) < TOL
    assert np.abs(C.differs(net, a, b, do)).sum() < TOL


@fast(20)
@given(SEEDS, SIZES, SCALES, st.booleans())
def test_a_closed_gate_pins_its_event_in_both_worlds(seed, n, scale, by_pod):
    """The gate closed by history (and the POD elsewhere) or by the POD itself."""
    rng, net, a, b = make(seed, max(n, 3), scale, gate_rate=0.8)
    gated = [(i, p, least) for i in range(net.size) for p, least in net.gates[i]]
    if not gated:
        return
    i, p, least = gated[int(rng.integers(0, len(gated)))]
    below = net.states[p][0 if net.gates[p] else int(rng.integers(0, least))]
    if by_pod:  # do(p below its at_least): X* and X under do are s_0
        do = {net.nodes[p]: below}
        assert C.interventional(net, a, b, do, target=i, at_least=1)[0] < TOL
        assert C.counterfactual(net, a, b, do, target=i, at_least=1)[0] < TOL
        return
    # only p is known (so no other record contradicts the pinned event)
    history: list = [None] * net.size
    history[p] = tuple(float(s == net.states[p].index(below)) for s in range(net.card(p)))
    net = net.with_history(history)
    others = [e for e in range(net.size) if e not in (p, i) and e not in ancestors(net, p)]
    if not others:
        return
    e = int(rng.choice(others))
    w = rng.random(net.card(e))
    do = {e: w / w.sum()}
    assert C.counterfactual(net, a, b, target=i, at_least=1)[0] < TOL  # factual: s_0
    assert C.counterfactual(net, a, b, do, target=i, at_least=1)[0] < TOL
    assert C.differs(net, a, b, do)[0, i] < TOL


@fast(20)
@given(SEEDS, st.integers(2, 5), SCALES)
def test_yes_no_written_with_states_gives_version_1_numbers(seed, n, scale):
    rng = np.random.default_rng(seed)
    v1 = ref.random_network(rng, n)
    a, b = ref.random_parameters(rng, v1, scale)
    # history as weights over the states (the v1 network stores its floats so too)
    v2 = Network(v1.nodes, v1.parents,
                 tuple(None if h is None else (float(h[0]), float(h[1])) for h in v1.history),
                 v1.outcome, states=(("no", "yes"),) * n,
                 terms=tuple(tuple(((p, 1, 1),) for p in ps) for ps in v1.parents),
                 outcomes=((v1.outcome, 1),))
    node = int(rng.integers(0, n - 1))
    hard = bool(rng.random() < 0.5)
    p = float(rng.integers(0, 2)) if hard else round(float(rng.random()), 3)
    do1 = {node: p}
    do2 = {v1.nodes[node]: ("yes" if p else "no") if hard else {"no": 1.0 - p, "yes": p}}
    a2 = a[:, None]
    for fn in (C.interventional, C.counterfactual):
        got = fn(v2, a2, b, do2)[0]
        assert got == fn(v1, a, b, do1)[0] or abs(got - fn(v1, a, b, do1)[0]) < 1e-14
    assert abs(C.interventional(v2, a2, b, do2)[0] - ref.interventional(v1, a, b, do1)) < TOL
    assert abs(C.counterfactual(v2, a2, b, do2)[0] - ref.counterfactual(v1, a, b, do1)) < TOL
    np.testing.assert_allclose(C.differs(v2, a2, b, do2), C.differs(v1, a, b, do1), atol=1e-14)
