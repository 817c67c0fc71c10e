"""The likelihood of an ``at_most`` bound at extreme logits, in numpy and PyTensor.

log P(K <= k) is finite at every logit, but the incomplete beta function it
was computed from underflows to 0 (about 1e-308) long before: ``at_most = 0``
of 2,000 trials at logit 0 is exp(-1,386). Its log was then -inf, and NUTS
stopped with "Bad initial energy" (#11 item 9).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plausibly.models import likelihood as L
from plausibly.models.network import Network

#: (k, n): small and large counts, k = 0 (one term), k near n, and a k large
#: enough that the far tail sums 16 terms and a geometric rest
BOUNDS = [(0, 1), (4, 17), (16, 17), (0, 2000), (10, 2000), (150, 200), (4000, 10000)]


def terms(k: int, n: int, logit: float) -> tuple[np.ndarray, float]:
    """The log of every binomial term j = 0..k at this logit, and p.

    The reference is the definition itself, P(K <= k) = sum_j C(n, j) p^j q^(n-j),
    summed in log space: no incomplete beta function anywhere.
    """
    from scipy.special import gammaln

    j = np.arange(k + 1, dtype=float)
    log_p = -np.logaddexp(0.0, -logit)
    log_q = -np.logaddexp(0.0, logit)
    log_c = gammaln(n + 1) - gammaln(j + 1) - gammaln(n - j + 1)
    return log_c + j * log_p + (n - j) * log_q, float(np.exp(log_p))


def exact_log_cdf(k: int, n: int, logit: float) -> float:
    """log P(K <= k), K ~ Binomial(n, expit(logit)): the terms summed in log space."""
    from scipy.special import logsumexp

    return float(logsumexp(terms(k, n, logit)[0]))


def exact_slope(k: int, n: int, logit: float) -> float:
    """d/dx log P(K <= k): each term's log has slope j - n p; weighted by the terms."""
    from scipy.special import softmax

    t, p = terms(k, n, logit)
    return float(softmax(t) @ (np.arange(k + 1) - n * p))


#: from a near-certain bound to far past where the probability underflows
LOGITS = np.array([-60.0, -5.0, 0.0, 2.0, 15.0, 40.0, 60.0, 300.0, 1000.0])


@pytest.mark.parametrize(("k", "n"), BOUNDS)
def test_the_bound_is_finite_and_exact_at_every_logit_numpy(k, n):
    xs = LOGITS
    got = L._log_binomial_cdf(xs, k, n, np)
    assert np.isfinite(got).all(), got
    for x, value in zip(xs, got, strict=True):
        want = exact_log_cdf(k, n, float(x))
        assert value == pytest.approx(want, rel=1e-9, abs=1e-10), (x, value, want)


def test_the_bound_in_a_network_at_extreme_logits():
    """Through log_likelihood: a bound of 0 in 2,000 trials, far past where 1e-308 underflows."""
    net = Network(("x",), ((),), (None,), 0, data=((0, (), 0, 2000, True),))
    a = np.array([[0.0], [5.0], [300.0]])
    got = L.log_likelihood(net, a, np.zeros((3, 1, 1)))
    want = [2000 * -math.log1p(math.exp(x)) for x in a[:, 0]]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.fixture(scope="module")
def pytensor_bound():
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    made = {}

    def compiled(k: int, n: int):
        if (k, n) not in made:
            x = pt.dvector("x")
            y = L._log_binomial_cdf(x, k, n, pt)
            made[k, n] = pytensor.function([x], [y, pytensor.grad(y.sum(), x)])
        return made[k, n]

    return compiled


@pytest.mark.parametrize(("k", "n"), BOUNDS)
def test_the_bound_and_its_gradient_in_pytensor(pytensor_bound, k, n):
    xs = LOGITS
    value, grad = pytensor_bound(k, n)(xs)
    assert np.isfinite(value).all() and np.isfinite(grad).all(), (value, grad)
    np.testing.assert_allclose(value, L._log_binomial_cdf(xs, k, n, np), rtol=1e-9,
                               atol=1e-12)
    for x, g in zip(xs, grad, strict=True):
        assert g == pytest.approx(exact_slope(k, n, float(x)), rel=1e-6, abs=1e-9), x


@pytest.mark.parametrize(("k", "n"), BOUNDS)
def test_the_two_ways_meet_where_the_far_tail_takes_over(pytensor_bound, k, n):
    """Just below x0 the incomplete beta function, just above it the sum of terms."""
    x0 = L._tail_start(k, n)
    xs = np.array([x0 - 1e-7, x0, x0 + 1e-7])
    got = L._log_binomial_cdf(xs, k, n, np)
    assert got[0] == pytest.approx(L.TAIL_LOG_CDF, rel=1e-6)
    for x, value in zip(xs, got, strict=True):
        assert value == pytest.approx(exact_log_cdf(k, n, float(x)), rel=1e-9)
    value, grad = pytensor_bound(k, n)(xs)
    np.testing.assert_allclose(value, got, rtol=1e-9)
    np.testing.assert_allclose(grad, [exact_slope(k, n, float(x)) for x in xs], rtol=1e-6)
