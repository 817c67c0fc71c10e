"""The junction tree (models/junction.py) against the full joint, on its own.

* marginals and the log of the total against one ``np.einsum`` of every table
  (random scopes and cards 2-4; random version 2 twin networks with hard and
  soft history and random PODs);
* the running-intersection property of every tree the bundled scenario builds;
* an underflow: P(history) ~ 1e-336 on one draw, answered exactly;
* the memory budget: refused before any table is built, and chunks of draws
  that give the same answers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference as ref

from plausibly.models import junction as J
from plausibly.models import queries as C
from plausibly.models.errors import ContractionTooLarge
from plausibly.models.factors import (
    Factor,
    einsum_spec,
    evidence,
    free_vars,
    fvar,
    relevant,
    sizes,
    table,
    twin,
)
from plausibly.models.network import BATCH, Network
from plausibly.models.scenario import load_scenario

#: marginals (probabilities) against the direct einsum
TOL = 1e-12
#: log of the total: relative, and absolute near log 1 = 0
LOG_RTOL = 1e-12
LOG_ATOL = 1e-12


def _direct(scopes, tables, queries):
    """Each query's normalised marginal and log of the total, by one einsum of all tables."""
    outs = []
    for q in queries:
        joint = np.einsum(einsum_spec([(*s, BATCH) for s in scopes], (*q, BATCH)), *tables)
        outs.append(joint / joint.reshape(-1, joint.shape[-1]).sum(axis=0))
    full = np.einsum(einsum_spec([(*s, BATCH) for s in scopes], (BATCH,)), *tables)
    return outs, np.log(full)


@pytest.mark.parametrize("seed", range(40))
def test_marginals_of_random_scopes_match_the_full_joint(seed):
    """Random factor scopes (sometimes disconnected), cards 2-4, a few zeros, 3 draws."""
    rng = np.random.default_rng(seed)
    n, draws = int(rng.integers(2, 9)), 3
    card = {v: int(rng.integers(2, 5)) for v in range(1, n + 1)}
    scopes = [tuple(int(v) for v in rng.choice(n, size=int(rng.integers(1, min(n, 4) + 1)),
                                               replace=False) + 1)
              for _ in range(int(rng.integers(1, 9)))]
    used = sorted({v for s in scopes for v in s})
    tables = [rng.random((*(card[v] for v in s), draws)) * (rng.random((*(card[v] for v in s),
                                                                      draws)) > 0.1)
              + 1e-3 for s in scopes]
    queries = [tuple(int(v) for v in rng.choice(used, size=min(len(used), int(k)),
                                                replace=False))
               for k in rng.integers(1, 4, size=3)]
    plan = J.plan_tree(tuple(scopes), tuple((v, card[v]) for v in used), tuple(queries),
                       1 << 30, "random")
    cal = J.calibrate(plan, tables)
    want, log_z = _direct(scopes, tables, queries)
    for got, exact in zip(J.answers(plan, cal), want, strict=True):
        np.testing.assert_allclose(got, exact, atol=TOL, rtol=0)
    np.testing.assert_allclose(cal.log_z, log_z, rtol=LOG_RTOL, atol=LOG_ATOL)


def _twin_case(seed: int):
    """A random version 2 twin network given its history (hard, soft, missing), and a POD."""
    rng = np.random.default_rng(1000 + seed)
    net = ref.random_network_v2(rng, int(rng.integers(3, 7)))
    draws = [ref.random_parameters_v2(rng, net) for _ in range(2)]
    a, b = np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])
    events = rng.choice(net.size - 1, size=int(rng.integers(1, 3)), replace=False)
    dov = C._do(net, {int(i): tuple(np.eye(net.card(int(i)))[int(rng.integers(net.card(int(i))))])
                      if rng.random() < 0.5 else tuple(rng.dirichlet(np.ones(net.card(int(i)))))
                      for i in events})
    return net, a, b, dov


@pytest.mark.parametrize("seed", range(30))
def test_marginals_of_twin_networks_with_hard_and_soft_history_match_the_full_joint(seed):
    net, a, b, dov = _twin_case(seed)
    factors, cvars = twin(net, dov)
    hard, soft = evidence(net)
    factors = relevant(factors, set(hard) | set(soft) | set(cvars.values()))
    queries = list(dict.fromkeys(q for i in range(net.size) if (q := tuple(
        v for v in dict.fromkeys((fvar(i), cvars[i])) if v not in hard))))

    def tables(f: Factor) -> np.ndarray:
        return np.moveaxis(table(f, net, a, b, hard)[0], 0, -1)

    found, log_z = J.marginals(net, factors, hard, soft, queries, tables, 2, 1 << 30)
    tabled = [f for f in factors if free_vars(f, hard)]
    lone = [v for v in soft if v not in hard]
    scopes = [free_vars(f, hard) for f in tabled] + [(v,) for v in lone]
    operands = [tables(f) for f in tabled] + [np.array(soft[v])[:, None] for v in lone]
    want, want_log = _direct(scopes, operands, queries)
    for got, exact in zip(found, want, strict=True):
        np.testing.assert_allclose(got, np.moveaxis(exact, -1, 0), atol=TOL, rtol=0)
    np.testing.assert_allclose(log_z, want_log, rtol=LOG_RTOL, atol=LOG_ATOL)


def _check_running_intersection(plan: J.TreePlan, scopes, queries) -> None:
    """Every variable's cliques are connected in the tree; every scope lies in a clique."""
    cliques = [set(c) for c in plan.cliques]
    for v in set().union(*cliques):
        holding = [c for c, members in enumerate(cliques) if v in members]
        joined = [c for c in holding if plan.parent[c] >= 0 and v in cliques[plan.parent[c]]]
        assert len(joined) == len(holding) - 1, (v, holding)
    for s in (*scopes, *queries):
        assert any(set(s) <= c for c in cliques), s


@pytest.mark.parametrize("unknown", [False, True], ids=["history", "history_unknown"])
def test_every_twin_tree_of_the_bundled_scenario_has_the_running_intersection_property(
        unknown):
    s = load_scenario("models/ussr_1930.toml")
    net = Network.from_scenario(s)
    if unknown:  # every record missing: the factual copies stay too, the trees are larger
        net = net.with_history((None,) * net.size)
    hard, soft = evidence(net)
    checked = 0
    for do in [{}, *(dict(p.do) for p in s.pods)]:
        factors, cvars = twin(net, C._do(net, do))
        factors = relevant(factors, set(hard) | set(soft) | set(cvars.values()))
        scopes = tuple(free_vars(f, hard) for f in factors if free_vars(f, hard))
        queries = tuple(dict.fromkeys(q for i in range(net.size) if (q := tuple(
            v for v in dict.fromkeys((fvar(i), cvars[i])) if v not in hard))))
        if not scopes:
            continue
        card = sizes(net, sorted({v for sc in scopes for v in sc}))
        plan = J.plan_tree(scopes, tuple(card.items()), queries, 1 << 30, net.name)
        _check_running_intersection(plan, scopes, queries)
        checked += 1
    assert checked >= len(s.pods)


def test_a_history_of_probability_1e_minus_336_is_answered_exactly():
    """One unknown cause of 12 observed effects, each of chance ~1e-28 on draw 0.

    P(history) ~ 1e-336 on that draw, below the smallest double: a plain
    product of the tables is 0 and the posterior 0 / 0. By hand, in log space:
    P(U = 1 | history) and log P(history).
    """
    k = 12
    nodes = ("u", *(f"e{j}" for j in range(k)))
    net = Network(nodes, ((), *(((0,),) * k)), (None, *((1.0,) * k)), 1, name="tiny")
    a = np.zeros((2, k + 1))
    b = np.zeros((2, k + 1, 1))
    a[:, 0] = 0.3
    a[0, 1:], b[0, 1:, 0] = -66.0, 1.5  # P(e | u) ~ 1e-28 on draw 0
    a[1, 1:], b[1, 1:, 0] = 0.2, -0.4  # an ordinary draw
    log_sig = lambda x: -np.logaddexp(0.0, -x)  # noqa: E731
    log_joint = np.stack([log_sig(-a[:, 0]) + k * log_sig(a[:, 1]),  # u = 0
                          log_sig(a[:, 0]) + k * log_sig(a[:, 1] + b[:, 1, 0])], axis=1)
    log_history = np.logaddexp(log_joint[:, 0], log_joint[:, 1])
    assert log_history[0] < math.log(5e-324)  # 0 in double precision
    posterior = np.exp(log_joint[:, 1] - log_history)

    got = C.counterfactual(net, a, b, {}, target="u")
    np.testing.assert_allclose(got, posterior, atol=1e-12, rtol=0)
    hard, soft = evidence(net)
    factors, _ = twin(net, {})
    found, log_z = J.marginals(
        net, factors, hard, soft, [(fvar(0),)],
        lambda f: np.moveaxis(table(f, net, *C._params(net, a, b), hard)[0], 0, -1), 2, 1 << 30)
    np.testing.assert_allclose(found[0][:, 1], posterior, atol=1e-12, rtol=0)
    np.testing.assert_allclose(log_z, log_history, rtol=LOG_RTOL, atol=LOG_ATOL)
    answers = C.answer_pods(net, a, b, {"quiet": {"u": 0.0}})
    assert np.isfinite(answers["quiet"].counterfactual).all()


def _dense(n: int = 10) -> tuple[Network, np.ndarray, np.ndarray]:
    parents = tuple(tuple(range(max(0, i - 5), i)) for i in range(n))
    net = Network(tuple(f"x{i}" for i in range(n)), parents, (None,) * n, n - 1, name="dense")
    rng = np.random.default_rng(3)
    return net, rng.normal(size=(7, n)), rng.normal(size=(7, n, 5))


def test_the_budget_is_checked_before_any_table_is_built():
    net, _, _ = _dense()
    factors = [Factor(i, (fvar(i),), tuple(fvar(p) for p in net.parents[i]))
               for i in range(net.size)]

    def tables(f: Factor) -> np.ndarray:
        raise AssertionError("a table was built")

    with pytest.raises(ContractionTooLarge) as err:
        J.marginals(net, factors, {}, {}, [(fvar(net.size - 1),)], tables, 7, 64)
    text = str(err.value)
    assert text.startswith("dense: an exact query needs ")
    assert text.endswith("GiB)\n    fix: give events fewer causes, or split densely connected "
                         "events, so that the graph has a smaller treewidth")


def test_chunks_of_draws_give_the_same_answers():
    """A budget that holds the largest clique but not every table for all 7 draws at once."""
    net, a, b = _dense()
    a, b = C._params(net, a, b)
    factors = [Factor(i, (fvar(i),), tuple(fvar(p) for p in net.parents[i]))
               for i in range(net.size)]
    queries = [(fvar(net.size - 1),), (fvar(0), fvar(3))]

    def tables(f: Factor) -> np.ndarray:
        return np.moveaxis(table(f, net, a, b, {})[0], 0, -1)

    whole, log_whole = J.marginals(net, factors, {}, {}, queries, tables, 7, 1 << 30)
    scopes = tuple(free_vars(f, {}) for f in factors)
    plan = J.plan_tree(scopes, tuple(sizes(net, sorted({v for s in scopes for v in s})).items()),
                       tuple(queries), 1 << 30, net.name)
    budget = 3 * plan.held  # chunks of 3 draws
    assert plan.per_draw <= budget < 7 * plan.held
    parts, log_parts = J.marginals(net, factors, {}, {}, queries, tables, 7, budget)
    for got, want in zip(parts, whole, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-15, rtol=0)
    np.testing.assert_allclose(log_parts, log_whole, atol=1e-12, rtol=0)
