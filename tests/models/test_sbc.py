"""Simulation-based calibration (Talts et al. 2018) of the sampler on version 2 mechanisms.

Draw the parameters from the prior, simulate a history from the mechanism (by
its own code here: thresholds, terms, a gate, independent of the engine),
sample the posterior given that history with the real sampler (NUTS on the
PyTensor likelihood), and rank the true value among the posterior draws. If
the likelihood, the gate, the interaction term, the ordered thresholds and
the sampler agree, the ranks are uniform.

The scenario: roots ``a``, ``b`` and ``g`` with unknown history; ``x`` with
three states, caused by ``a`` and ``b`` and their interaction; ``y`` yes/no,
gated by ``g`` and influenced by ``x``. Only ``x`` and ``y`` are observed, so
the likelihood is a real contraction over the unknown roots.

Six histories are possible, and the sampler compiles one program per history.
The truths are kept only when their simulated history is one of two chosen
ones (rejection): a kept truth is then an exact draw from the posterior given
that history, so its rank among that posterior's draws is uniform all the
same, and two programs are compiled, not six. The two histories are "x high,
y yes" (the gate must have been open) and "x mid, y no" (the gate closed, or
open and ``y`` failed: the likelihood sums over ``g``). The truths that share
a history are sampled together, one independent chain each.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from plausibly.models.network import Network
from plausibly.models.parameters import Cell, ParameterPrior
from plausibly.models.sampling import sample_sets
from plausibly.models.scenario import parse_scenario

PER_HISTORY = 40
CHOSEN = ((2, True), (1, False))  # (index of x's state, y): see the module's docstring
DRAWS, TUNE, THIN = 200, 200, 2
BINS = 5


def _scenario(x: str, y: bool) -> dict:
    def node(year: int, **extra: object) -> dict:
        return {"label": "an event", "year": year, **extra}

    def edge(cause: str, effect: str, **extra: object) -> dict:
        return {"cause": cause, "effect": effect, "claim": "a claim", "by": ["#1 A"], **extra}

    return {
        "id": "sbc", "title": "calibration", "source": "a test", "outcome": "y",
        "nodes": {"a": node(1900), "b": node(1900), "g": node(1900),
                  "x": node(1910, states=["low", "mid", "high"], history=x),
                  "y": node(1920, history=y)},
        "edges": [edge("a", "x"), edge("b", "x"), edge("g", "y", kind="requires"),
                  edge("x", "y")],
        "interactions": [{"effect": "x", "causes": {"a": "yes", "b": "yes"},
                          "claim": "together", "by": ["#1 A"]}],
        "pods": {"p": {"label": "a POD", "do": {"a": False}, "by": ["#1 A"]}},
    }


def _prior(net: Network) -> ParameterPrior:
    """Every judged logit Normal(0, 1) (thresholds sorted), in the ``absent`` contexts."""
    i = net.index
    cells = [Cell(i("a"), 1, {}, 0.0, 1.0, "a[a]"), Cell(i("b"), 1, {}, 0.0, 1.0, "a[b]"),
             Cell(i("g"), 1, {}, 0.5, 1.0, "a[g]"),
             Cell(i("x"), 1, {}, 0.5, 1.0, "a[x>=mid]"),
             Cell(i("x"), 2, {}, -0.5, 1.0, "a[x>=high]"),
             Cell(i("x"), 1, {i("a"): 1}, 0.0, 1.0, "g[x|a]"),
             Cell(i("x"), 1, {i("b"): 1}, 0.0, 1.0, "g[x|b]"),
             Cell(i("x"), 1, {i("a"): 1, i("b"): 1}, 0.0, 1.0, "g[x|a & b]"),
             Cell(i("y"), 1, {}, 0.0, 1.0, "a[y]"),
             Cell(i("y"), 1, {i("x"): 1}, 0.0, 1.0, "g[y|x=mid]"),
             Cell(i("y"), 1, {i("x"): 2}, 0.0, 1.0, "g[y|x=high]")]
    return ParameterPrior.from_cells("sbc", "calibration", net, cells)


def _simulate(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[int, bool]:
    """One world from the mechanism: U < P(X >= s_k) for each threshold; a closed gate
    holds ``y`` at "no". Indices: a=0, b=1, g=2, x=3, y=4 (the network's time order)."""
    def sig(v: float) -> float:
        return 1.0 / (1.0 + np.exp(-v))

    ra, rb, rg = (bool(rng.random() < sig(a[k, 0])) for k in range(3))
    eta = b[3, 0] * ra + b[3, 1] * rb + b[3, 2] * (ra and rb)
    u = rng.random()
    x = int(u < sig(a[3, 0] + eta)) + int(u < sig(a[3, 1] + eta))
    if not rg:
        return x, False
    return x, bool(rng.random() < sig(a[4, 0] + b[4, 0] * (x == 1) + b[4, 1] * (x == 2)))


def _mechanism(prior: ParameterPrior, z: np.ndarray) -> np.ndarray:
    """The real parameters of the mechanism for draws ``z``: ``(draws, 11)``."""
    a, b = prior.to_ab(z)
    thresholds = [a[:, k, 0] for k in (0, 1, 2, 4)] + [a[:, 3, 0], a[:, 3, 1]]
    terms = [b[:, 3, 0], b[:, 3, 1], b[:, 3, 2], b[:, 4, 0], b[:, 4, 1]]
    return np.stack(thresholds + terms, axis=1)


@pytest.mark.slow
def test_ranks_of_the_truth_among_posterior_draws_are_uniform():
    rng = np.random.default_rng(20261202)
    states = ("low", "mid", "high")
    prior = _prior(Network.from_scenario(parse_scenario(_scenario("low", False))))
    truths: dict[tuple[int, bool], list[np.ndarray]] = {h: [] for h in CHOSEN}
    while any(len(zs) < PER_HISTORY for zs in truths.values()):
        z = rng.standard_normal(prior.free.size)
        a, b = prior.to_ab(z[None])
        history = _simulate(a[0], b[0], rng)
        if history in truths and len(truths[history]) < PER_HISTORY:
            truths[history].append(z)
    ranks: list[np.ndarray] = []
    for (x, y), zs in sorted(truths.items()):
        # the replicates that share a history: one independent chain each
        net = Network.from_scenario(parse_scenario(_scenario(states[x], y)))
        here = _prior(net)
        [(idata, _)] = sample_sets(net, [here], draws=DRAWS, tune=TUNE, chains=len(zs),
                                   seed=1000 + 3 * x + y)
        for c, z in enumerate(zs):
            # ranked: the mechanism's parameters (sorted thresholds, term weights)
            truth = _mechanism(prior, z[None])
            drawn = _mechanism(here, idata.posterior["z"].values[c, ::THIN])
            ranks.append((drawn < truth).sum(axis=0))
    assert len(ranks) == PER_HISTORY * len(CHOSEN)
    counts = np.stack(ranks)  # (replicates, quantities), each in 0..DRAWS/THIN
    bins = np.minimum(counts * BINS // (DRAWS // THIN + 1), BINS - 1)
    p_values = [stats.chisquare(np.bincount(bins[:, q], minlength=BINS)).pvalue
                for q in range(counts.shape[1])]
    # every quantity uniform at the 1% level after Bonferroni over the quantities: a
    # model prior 0.6 times as wide as the truth's on the threshold of x >= high, or on
    # y's, fails it (p = 2e-5 and 3e-4; on x >= mid it passes: these histories say little)
    assert min(p_values) > 0.01 / len(p_values), (p_values, counts.mean(axis=0))
    # and, pooled, the mean rank is the middle (within 4 standard errors)
    middle = (DRAWS // THIN) / 2
    se = (DRAWS // THIN) / np.sqrt(12 * counts.size)
    assert abs(counts.mean() - middle) < 4 * se, counts.mean()
