"""The version 2 likelihood of history (states, gates, interactions) against brute force,
and the PyTensor likelihood and its gradient against numpy.

Brute force: the log of the sum over every joint state of the factual network of
history's weights (hard one-hot, soft likelihood vectors, missing: 1), plus each
reference-class row's binomial log-probability (scipy).
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref

from plausibly.models import likelihood as L
from plausibly.models.network import Network

TOL = 1e-9


@pytest.mark.parametrize("case", range(25))
def test_v2_log_likelihood_matches_brute_force(case):
    rng = np.random.default_rng(700 + case)
    net = ref.with_rows(rng, ref.random_network_v2(rng, int(rng.integers(2, 6))))
    draws = [ref.random_parameters_v2(rng, net) for _ in range(3)]
    a = np.stack([d[0] for d in draws])
    b = np.stack([d[1] for d in draws])
    got = L.log_likelihood(net, a, b)
    want = [ref.log_likelihood_v2(net, a[s], b[s]) for s in range(3)]
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_v2_all_known_history_matches_brute_force():
    """Every event observed: the Bernoulli rows and ordinal terms alone, no contraction."""
    rng = np.random.default_rng(5)
    for _ in range(10):
        net = ref.random_network_v2(rng, int(rng.integers(2, 6)))
        hard = []
        for i in range(net.size):
            s = 0 if net.gates[i] else int(rng.integers(0, net.card(i)))
            hard.append(tuple(float(k == s) for k in range(net.card(i))))
        net = ref.with_rows(rng, net.with_history(hard))
        a, b = ref.random_parameters_v2(rng, net)
        assert L.log_likelihood(net, a[None], b[None])[0] == pytest.approx(
            ref.log_likelihood_v2(net, a, b), abs=TOL)


# --------------------------------------------------------------------------- PyTensor

LOW_MID_HIGH = ("low", "mid", "high")
FOUR = ("s0", "s1", "s2", "s3")
YN = ("no", "yes")


def feature_network(known: bool) -> Network:
    """Every version 2 feature in six or seven events.

    ``known=False``: states with hard, soft (over states) and missing history, gates,
    interactions (the contraction). ``known=True``: every event observed, gates
    open and closed, first, middle and last states (the rows and ordinal terms).
    """
    states = (LOW_MID_HIGH, YN, FOUR, LOW_MID_HIGH, YN, YN, LOW_MID_HIGH)
    parents = ((), (0,), (0, 1), (1, 2), (2, 3), (4,), (0, 1))
    terms = (
        (),
        (((0, 1, 1),), ((0, 2, 2),)),  # w influences g
        (((1, 1, 1),), ((0, 2, 2), (1, 1, 1))),  # x: g, and w >= high & g
        (((2, 1, 1),), ((2, 2, 2),), ((2, 3, 3),)),  # y: x (gated by g)
        (((3, 1, 1),), ((3, 2, 2),), ((2, 1, 2), (3, 1, 2))),  # z: y, and x in [1, 2] & y
        (((4, 1, 1),),),
        (((1, 1, 1),), ((0, 1, 2), (1, 1, 1))),
    )
    gates = ((), (), ((0, 1),), ((1, 1),), (), (), ((0, 2),))
    if known:
        history = ((0.0, 0.0, 1.0), 1.0, (0.0, 0.0, 1.0, 0.0), (1.0, 0.0, 0.0), 1.0, 0.0,
                   (0.0, 1.0, 0.0))
    else:
        history = (None, 0.7, (0.1, 0.5, 1.0, 0.2), (0.0, 1.0, 0.0), None, 1.0,
                   (0.3, 0.0, 1.0))
    data = ((1, (1.0, 0.0), 3, 8, False), (5, (1.0,), 2, 9, True), (4, (0.0, 1.0, 1.0), 1, 4,
                                                                     False))
    return Network(("w", "g", "x", "y", "z", "v", "k"), parents, history, 4,
                   name="features", data=data, states=states, terms=terms, gates=gates)


@pytest.fixture(scope="module")
def compiled():
    """The PyTensor likelihood of both feature networks with its gradient, compiled once."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    out = {}
    for known in (False, True):
        net = feature_network(known)
        a = pt.tensor3("a", dtype="float64")
        b = pt.tensor3("b", dtype="float64")
        ll = L.log_likelihood(net, a, b, xp=pt)[0]
        # the default mode, as the sampler compiles it (FAST_COMPILE would take 10 s
        # instead of 24, but skip the graph rewrites NUTS runs with)
        out[known] = net, pytensor.function([a, b], [ll, *pytensor.grad(ll, [a, b])])
    return out


def test_the_feature_networks_hold_every_feature():
    for known in (False, True):
        net = feature_network(known)
        assert max(net.cards) == 4 and any(net.gates)
        assert any(len(t) > 1 for ts in net.terms for t in ts)
        assert net.data
    records = feature_network(False).history
    assert None in records
    assert any(h is not None and max(h) == 1.0 and sum(h) == 1.0 and len(h) == 3
               for h in records)  # hard, over states
    assert any(h is not None and sum(h) != 1.0 and len(h) > 2 for h in records)  # soft, states
    known = feature_network(True)
    assert all(h is not None and max(h) == 1.0 for h in known.history)
    # y's gate (g) is open, k's (w at least high) too; the first, a middle and the last state
    assert {h.index(1.0) for h in known.history if len(h) > 2} == {0, 1, 2}


@pytest.mark.parametrize("known", [False, True], ids=["contraction", "all_known"])
def test_v2_pytensor_likelihood_is_the_numpy_one(compiled, known):
    net, fn = compiled[known]
    rng = np.random.default_rng(31 + known)
    for _ in range(6):
        a, b = ref.random_parameters_v2(rng, net)
        value, _, _ = fn(a[None], b[None])
        expected = L.log_likelihood(net, a[None], b[None])[0]
        assert value == pytest.approx(expected, rel=1e-10, abs=1e-12)
        assert expected == pytest.approx(ref.log_likelihood_v2(net, a, b), abs=TOL)


@pytest.mark.parametrize("known", [False, True], ids=["contraction", "all_known"])
def test_v2_pytensor_gradient_matches_finite_differences(compiled, known):
    net, fn = compiled[known]
    rng = np.random.default_rng(41 + known)
    a, b = ref.random_parameters_v2(rng, net)
    _, ga, gb = fn(a[None], b[None])

    def f(a_, b_):
        return L.log_likelihood(net, a_[None], b_[None])[0]

    h = 1e-6
    for x, grad in ((a, ga[0]), (b, gb[0])):
        fd = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[idx] = h
            if x is a:
                fd[idx] = (f(a + e, b) - f(a - e, b)) / (2 * h)
            else:
                fd[idx] = (f(a, b + e) - f(a, b - e)) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
    assert np.abs(ga).sum() > 0 and np.abs(gb).sum() > 0
