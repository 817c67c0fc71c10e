"""Exact queries against independent references: brute force, pgmpy, closed forms."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
import reference as ref

from plausibly.models import likelihood as L
from plausibly.models import queries as C
from plausibly.models.errors import ContractionTooLarge
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario

TOL = 1e-9


def random_cases(seed: int, n_cases: int, max_nodes: int = 6):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        net = ref.random_network(rng, int(rng.integers(2, max_nodes + 1)))
        a, b = ref.random_parameters(rng, net)
        node = int(rng.integers(0, net.size - 1))
        value = float(rng.choice([0.0, 1.0, round(float(rng.random()), 3)]))
        yield net, a, b, {node: value}


@pytest.mark.parametrize("case", range(25))
def test_interventional_and_counterfactual_match_brute_force(case):
    net, a, b, do = next(iter(random_cases(case, 1)))
    assert C.interventional(net, a, b, do)[0] == pytest.approx(ref.interventional(net, a, b, do),
                                                               abs=TOL)
    pairs = ref.counterfactual_pairs(net, a, b, do)
    assert C.counterfactual(net, a, b, do)[0] == pytest.approx(pairs[net.outcome, :, 1].sum(),
                                                               abs=TOL)
    np.testing.assert_allclose(C.differs(net, a, b, do)[0], pairs[:, 0, 1] + pairs[:, 1, 0],
                               atol=TOL)


@pytest.mark.parametrize("case", range(10))
def test_log_likelihood_matches_brute_force(case):
    net, a, b, _ = next(iter(random_cases(100 + case, 1)))
    expected = math.log(sum(w * ref._evidence_weight(net, s) for s, w in ref.joint(net, a, b)))
    assert L.log_likelihood(net, a[None], b[None])[0] == pytest.approx(expected, abs=TOL)


def test_reference_class_data_adds_a_binomial_term():
    net = Network(("x",), ((),), (1.0,), 0, data=((0, (), 3, 10, False),))
    a, b = np.array([0.4]), np.zeros((1, 1))
    p = 1 / (1 + math.exp(-0.4))
    expected = math.log(p) + math.log(math.comb(10, 3) * p**3 * (1 - p) ** 7)
    assert L.log_likelihood(net, a[None], b[None])[0] == pytest.approx(expected, abs=TOL)


def exact_log_cdf(k: int, n: int, logit: float) -> float:
    """log P(K <= k), K ~ Binomial(n, expit(logit)), in 60-digit decimals.

    The reference for the far tail, where scipy's ``binom.logcdf`` (given p
    as a float) is off by 5e-5 at logit 25.
    """
    getcontext().prec = 60
    q = 1 / (1 + Decimal(logit).exp())
    total = sum(Decimal(math.comb(n, j)) * (1 - q) ** j * q ** (n - j) for j in range(k + 1))
    return float(total.ln())


@pytest.mark.parametrize(("k", "n", "logit"), [(4, 17, 0.3), (0, 5, -2.0), (3, 3, 1.0),
                                               (4, 17, 25.0), (150, 200, -3.0),
                                               (4000, 10000, -0.4)])
def test_a_bounded_count_adds_the_binomial_cdf(k, n, logit):
    """``at_most``: log P(K <= k), beside an exact count on another event."""
    from scipy import stats

    x = Network(("x", "y"), ((), (0,)), (1.0, None), 1,
                data=((1, (1.0,), k, n, True), (0, (), 2, 5, False)))
    a, b = np.array([[0.2, -0.5]]), np.array([[[0.0], [logit + 0.5]]])
    p_x = 1 / (1 + math.exp(-0.2))
    expected = math.log(p_x) + stats.binom.logpmf(2, 5, p_x) + exact_log_cdf(k, n, logit)
    assert L.log_likelihood(x, a, b)[0] == pytest.approx(expected, rel=1e-12, abs=TOL)


# --------------------------------------------------------------------------- pgmpy


def pgmpy_model(net: Network, a, b):
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.nodes)
    model.add_edges_from([(net.nodes[p], net.nodes[i]) for i in range(net.size)
                          for p in net.parents[i]])
    for i, name in enumerate(net.nodes):
        ps = net.parents[i]
        # pgmpy orders evidence columns with the first parent varying slowest
        cols = []
        for k in range(2 ** len(ps)):
            bits = [(k >> (len(ps) - 1 - j)) & 1 for j in range(len(ps))]
            z = a[i] + sum(b[i, j] * bits[j] for j in range(len(ps)))
            cols.append(1 / (1 + math.exp(-z)))
        cols = np.array(cols)
        model.add_cpds(TabularCPD(name, 2, np.vstack([1 - cols, cols]),
                                 evidence=[net.nodes[p] for p in ps] or None,
                                 evidence_card=[2] * len(ps) or None))
    model.check_model()
    return model


@pytest.mark.parametrize("case", range(24))
def test_do_queries_match_pgmpy(case):
    from pgmpy.inference import CausalInference

    rng = np.random.default_rng(1000 + case)
    net = ref.random_network(rng, int(rng.integers(3, 8)), max_parents=3, density=0.6)
    a, b = ref.random_parameters(rng, net)
    node = int(rng.integers(0, net.size - 1))
    value = int(rng.integers(0, 2))
    model = pgmpy_model(net, a, b)
    expected = CausalInference(model).query(
        variables=[net.nodes[net.outcome]], do={net.nodes[node]: value},
        show_progress=False).values[1]
    assert C.interventional(net, a, b, {node: float(value)})[0] == pytest.approx(expected,
                                                                                 abs=TOL)


# --------------------------------------------------------------------------- by hand


def test_single_node_closed_form():
    # X = 1[U < p] happened = 0; under do*(q) the chance X* = 1 is (q - p) / (1 - p)
    p, q = 0.3, 0.55
    lp = math.log(p / (1 - p))
    one = Network(("w", "x"), ((), ()), (None, 0.0), 1)
    a1 = np.array([0.0, lp])
    b1 = np.zeros((2, 1))
    assert C.counterfactual(one, a1, b1, {"x": q})[0] == pytest.approx((q - p) / (1 - p),
                                                                       abs=TOL)


def test_chain_by_hand():
    # A -> B -> C, all happened (1). do(A=0). With p_B(a) and p_C(b):
    # P(B*=1 | B=1) = min(p_B(1), p_B(0)) / p_B(1), and C* follows the same rule.
    pa, pb1, pb0, pc1, pc0 = 0.6, 0.8, 0.2, 0.9, 0.3
    lg = lambda p: math.log(p / (1 - p))  # noqa: E731
    net = Network(("a", "b", "c"), ((), (0,), (1,)), (1.0, 1.0, 1.0), 2)
    a = np.array([lg(pa), lg(pb0), lg(pc0)])
    b = np.array([[0.0], [lg(pb1) - lg(pb0)], [lg(pc1) - lg(pc0)]])
    b_keeps = min(pb1, pb0) / pb1
    c_if_b = 1.0  # C*'s parent unchanged: C* = C = 1
    c_if_not_b = min(pc1, pc0) / pc1
    expected = b_keeps * c_if_b + (1 - b_keeps) * c_if_not_b
    assert C.counterfactual(net, a, b, {"a": 0.0})[0] == pytest.approx(expected, abs=TOL)


def test_firing_squad():
    # Pearl (2000) 7.1.2, with near-deterministic mechanisms: the prisoner is dead;
    # had A not fired, he would still be dead (B fired), with certainty.
    s = load_scenario("tests/data/firing_squad.toml")
    net = Network.from_scenario(s)
    big = 30.0
    idx = {n: i for i, n in enumerate(net.nodes)}
    a = np.full(net.size, -big)
    a[idx["court_order"]] = 0.0  # the court orders with probability 1/2
    b = np.zeros((net.size, net.max_parents))
    for i in range(net.size):
        b[i, : len(net.parents[i])] = 2 * big  # death is an OR of the shots
    assert C.counterfactual(net, a, b, {"rifleman_a": 0.0})[0] == pytest.approx(1.0, abs=1e-9)
    # interventionally, do(A = 0) leaves death to the court: P = 1/2
    assert C.interventional(net, a, b, {"rifleman_a": 0.0})[0] == pytest.approx(0.5, abs=1e-9)
    # had the court not ordered, nobody would have fired: the prisoner lives
    assert C.counterfactual(net, a, b, {"court_order": 0.0})[0] == pytest.approx(0.0, abs=1e-9)
    # only A changes under do(A=0): rewrite counts exactly one event
    dif = C.differs(net, a, b, {"rifleman_a": 0.0})[0]
    assert dif[idx["rifleman_a"]] == pytest.approx(1.0) and dif.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- invariants


def test_invariants_on_random_networks():
    for net, a, b, do in random_cases(7, 30):
        node = next(iter(do))
        # do() on a node returns its set value as that node's probability
        assert C.interventional(net, a, b, do, target=node)[0] == pytest.approx(do[node])
        for q in (C.interventional(net, a, b, do), C.counterfactual(net, a, b, do)):
            assert 0.0 <= q[0] <= 1.0
        # a POD that sets a hard fact to what happened changes nothing
        h = net.history[node]
        if h in (0.0, 1.0):
            same = C.counterfactual(net, a, b, {node: h})[0]
            assert same == pytest.approx(C.counterfactual(net, a, b)[0], abs=TOL)
            assert C.differs(net, a, b, {node: h}).sum() == pytest.approx(0.0, abs=TOL)


def test_batched_equals_looped():
    rng = np.random.default_rng(3)
    net = ref.random_network(rng, 7)
    draws = [ref.random_parameters(rng, net) for _ in range(5)]
    a = np.stack([d[0] for d in draws])
    b = np.stack([d[1] for d in draws])
    do = {2: 0.0}
    for fn in (C.interventional, C.counterfactual):
        batched = fn(net, a, b, do)
        looped = [fn(net, a[k], b[k], do)[0] for k in range(5)]
        np.testing.assert_allclose(batched, looped, atol=1e-12)
    answers = C.answer_pods(net, a, b, {"p": do})
    np.testing.assert_allclose(answers["p"].counterfactual[:, 0], C.counterfactual(net, a, b, do),
                               atol=1e-12)


def test_contraction_over_budget_fails_fast(monkeypatch):
    rng = np.random.default_rng(0)
    n = 12
    parents = tuple(tuple(range(max(0, i - 6), i)) for i in range(n))
    net = Network(tuple(f"x{i}" for i in range(n)), parents, (None,) * n, n - 1, name="dense")
    a = rng.normal(size=n)
    b = rng.normal(size=(n, 6))
    monkeypatch.setattr(C, "MEMORY_BUDGET", 64)
    C._PATHS.clear()
    with pytest.raises(ContractionTooLarge) as err:
        C.interventional(net, a, b, {})
    C._PATHS.clear()
    assert str(err.value).startswith("dense: an exact query needs ")
    assert "fix: give events fewer causes" in str(err.value)


# ------------------------------------------------------------------ extreme probabilities


def _squad_parameters(**lone: float):
    """Pearl's firing squad with the fixed prior set's numbers, ``node__given_cause`` replaced."""
    import tomllib
    from pathlib import Path

    from plausibly.priors.elicitation import parse_prior_set
    from plausibly.priors.fit import fit_prior_set

    data = Path(__file__).parents[1] / "data"
    s = load_scenario(data / "firing_squad.toml")
    raw = tomllib.loads((data / "firing_squad_fixed.toml").read_text())
    for key, value in lone.items():
        node, cause = key.split("__given_")
        raw["nodes"][node]["given"][cause] = value
    fitted = fit_prior_set(parse_prior_set(raw, s), s)
    a, b = fitted.parameter_prior(s).to_ab(np.zeros((1, 0)))
    return s, Network.from_scenario(s), a, b


def test_tiny_fixed_probabilities_on_historys_path_answer_exactly():
    """Two judged chances of 1e-300 on the path to what happened: P(history) ~ 1e-600.

    Its tables multiplied to 0 and every answer conditioned on history was
    0 / 0 = NaN (#11 item 9). By hand: A's shot was the luck of history, and
    so was the death (P(D | A, B) ~ 1e-297); under do(A = 0) the prisoner dies
    iff U_D < P(D | B alone), given that U_D < P(D | A, B).
    """
    s, net, a, b = _squad_parameters(rifleman_a__given_captain=1e-300,
                                     death__given_rifleman_a=1e-300)
    answers = C.answer_pods(net, a, b, {p.id: p.do for p in s.pods})
    for answer in answers.values():
        for values in (answer.interventional, answer.counterfactual, answer.differs):
            assert np.isfinite(values).all()
    death = net.index("death")
    only_b = 1 / (1 + math.exp(-(a[0, death] + b[0, death, 1])))
    both = 1 / (1 + math.exp(-(a[0, death] + b[0, death, 0] + b[0, death, 1])))
    refrains = answers["a_refrains"]
    assert both < 1e-290
    assert refrains.counterfactual[0] == pytest.approx(min(only_b, both) / both, abs=TOL)
    assert refrains.differs[0, net.index("rifleman_a")] == pytest.approx(1.0, abs=TOL)
    assert refrains.differs[0, death] == pytest.approx(1 - min(only_b, both) / both, abs=TOL)
    assert refrains.rewrite[0] == pytest.approx(1.0, abs=TOL)
    assert answers["history"].counterfactual[0] == pytest.approx(1.0, abs=TOL)
    assert refrains.interventional[0] == pytest.approx(
        ref.interventional(net, a[0], b[0], {net.index("rifleman_a"): 0.0}), abs=TOL)


def test_a_history_below_double_precision_is_a_clear_error():
    """P(death | A and B) = e^-1377 is 0 in floating point: refused, not NaN."""
    from plausibly.models.errors import ImpossibleHistory

    s, net, a, b = _squad_parameters(death__given_rifleman_a=1e-300,
                                     death__given_rifleman_b=1e-300)
    with pytest.raises(ImpossibleHistory) as err:
        C.answer_pods(net, a, b, {p.id: p.do for p in s.pods})
    assert str(err.value).startswith("firing_squad: history: what happened has probability 0 "
                                     "in double precision (below about 1e-308) under every "
                                     "parameter draw")
    assert "fix: judge the probabilities on history's path less extremely" in str(err.value)


@pytest.mark.parametrize("seed", range(12))
def test_pod_chance_matches_its_definition(seed):
    """P(X = POD value | causes as they were), causes with unknown or soft history averaged
    over their posterior given history; several events multiply; a soft POD counts its
    likelier value."""
    rng = np.random.default_rng(100 + seed)
    net = ref.random_network(rng, 6)
    a, b = ref.random_parameters(rng, net)
    events = rng.choice(net.size - 1, size=1 + seed % 2, replace=False)
    do = {int(e): float(rng.choice([0.0, 1.0, 0.3, 0.8])) for e in events}
    got = C.pod_chance(net, a, b, do)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(ref.pod_chance_v2(net, a, b, do), abs=1e-12)


def test_pod_chance_of_an_even_soft_pod_counts_the_departure_from_history():
    """50/50 on an event that happened: the POD's likelier value is the one that departs."""
    net = Network(("x", "y"), ((), (0,)), (1.0, 0.0), 1)
    a, b = np.array([0.4, -0.3]), np.array([[0.0], [1.2]])
    p_no = 1.0 / (1.0 + math.exp(0.4))
    assert C.pod_chance(net, a, b, {"x": 0.5})[0] == pytest.approx(p_no, abs=1e-15)
    unknown = net.with_history((None, 0.0))  # nothing to depart from: the first state
    assert C.pod_chance(unknown, a, b, {"x": 0.5})[0] == pytest.approx(
        C.pod_chance(unknown, a, b, {"x": 0.0})[0], abs=1e-15)


def test_pod_chance_of_a_drawn_strength_is_judged_draw_by_draw():
    """A strength drawn per draw: each draw's likelier value is its own, so a draw's POD
    chance does not depend on which other draws share its batch (chains apart)."""
    from plausibly.models.factors import DrawWeights

    net = Network(("x", "y"), ((), (0,)), (1.0, 0.0), 1)
    a = np.array([[0.4, -0.3], [0.4, -0.3], [0.4, -0.3]])
    b = np.array([[[0.0], [1.2]]] * 3)
    p = np.array([0.8, 0.3, 0.6])
    weights = DrawWeights(np.stack([1 - p, p], axis=1))
    got = C.pod_chance(net, a, b, {"x": weights})
    p_yes = 1.0 / (1.0 + math.exp(-0.4))
    np.testing.assert_allclose(got, [p_yes, 1 - p_yes, p_yes], atol=1e-15)
    alone = C.pod_chance(net, a[1:2], b[1:2], {"x": DrawWeights(weights.values[1:2])})
    assert alone[0] == got[1]
