"""Version 2 exact queries (states, gates, interactions) against independent references.

* brute force (``reference.py``): the factual joint enumerated, counterfactuals by
  abduction on the noise intervals and piecewise propagation (no pair formula);
* pgmpy ``TabularCPD`` networks with states, for interventional queries;
* by hand: a gated chain, an AND of two causes, a three-state event, and the
  version 1 firing squad.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import reference as ref

from plausibly.models import queries as C
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario

TOL = 1e-9


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def random_do(rng: np.random.Generator, net: Network, events: list[int]) -> dict:
    """Every form of do-value the engine takes, chosen at random per event."""
    do: dict = {}
    for i in events:
        m = net.card(i)
        kind = int(rng.integers(0, 4))
        key = net.nodes[i] if rng.random() < 0.5 else i
        if kind == 0:  # a state by name
            do[key] = net.states[i][int(rng.integers(0, m))]
        elif kind == 1:  # weights over the states, a vector
            w = rng.random(m) * (rng.random(m) < 0.8)
            w = w + (w.sum() == 0)
            do[key] = w / w.sum()
        elif kind == 2:  # a mapping of some states to weights
            chosen = rng.choice(m, size=int(rng.integers(1, m + 1)), replace=False)
            w = rng.random(len(chosen)) + 0.01
            do[key] = {net.states[i][int(s)]: float(x) for s, x in zip(chosen, w / w.sum(),
                                                                        strict=True)}
        elif m == 2:  # a probability of "yes"
            do[key] = float(rng.choice([0.0, 1.0, round(float(rng.random()), 3)]))
        else:
            do[key] = tuple(np.eye(m)[int(rng.integers(0, m))])
    return do


def case_v2(seed: int, max_nodes: int = 5):
    rng = np.random.default_rng(seed)
    net = ref.random_network_v2(rng, int(rng.integers(2, max_nodes + 1)))
    a, b = ref.random_parameters_v2(rng, net)
    k = int(rng.integers(1, min(3, net.size - 1) + 1)) if net.size > 1 else 1
    events = sorted(rng.choice(max(net.size - 1, 1), size=min(k, max(net.size - 1, 1)),
                               replace=False).tolist())
    return rng, net, a, b, random_do(rng, net, events)


def check_against_brute_force(net: Network, a, b, do) -> None:
    """interventional and counterfactual at every target and state cut, and differs."""
    pairs = ref.counterfactual_pairs_v2(net, a, b, do)
    for t in range(net.size):
        dist = ref.distribution_v2(net, a, b, do, t)
        np.testing.assert_allclose(C.distribution(net, a, b, do, t)[0], dist, atol=TOL)
        for least in range(1, net.card(t)):
            got = C.interventional(net, a, b, do, target=t, at_least=least)[0]
            assert got == pytest.approx(dist[least:].sum(), abs=TOL), (t, least)
            got = C.counterfactual(net, a, b, do, target=net.nodes[t],
                                   at_least=net.states[t][least])[0]
            assert got == pytest.approx(pairs[t][:, least:].sum(), abs=TOL), (t, least)
    np.testing.assert_allclose(C.differs(net, a, b, do)[0],
                               [1.0 - np.trace(p) for p in pairs], atol=TOL)


@pytest.mark.parametrize("case", range(30))
def test_v2_queries_match_brute_force(case):
    _, net, a, b, do = case_v2(case)
    check_against_brute_force(net, a, b, do)


def test_the_random_networks_use_every_feature():
    """The 30 cases above hold states, gates, interactions, soft and missing history."""
    nets = [case_v2(case)[1] for case in range(30)]
    assert sum(any(c > 2 for c in n.cards) for n in nets) >= 15
    assert sum(any(n.gates) for n in nets) >= 10
    assert sum(any(len(t) > 1 for ts in n.terms for t in ts) for n in nets) >= 5
    records = [h for n in nets for h in n.history]
    assert sum(h is None for h in records) >= 10
    assert sum(h is not None and max(h) == 1.0 and sum(h) == 1.0 for h in records) >= 10
    assert sum(h is not None and sum(h) != 1.0 for h in records) >= 10


@pytest.mark.parametrize("case", range(12))
def test_v2_pods_on_gate_causes_match_brute_force(case):
    """Hard and soft PODs on the causes of gates (opening or closing them), with another."""
    for seed in itertools.count(200 + 1000 * case):
        rng = np.random.default_rng(seed)
        net = ref.random_network_v2(rng, int(rng.integers(3, 6)), gate_rate=0.6)
        causes = sorted({p for g in net.gates for p, _ in g})
        if causes:
            break
    a, b = ref.random_parameters_v2(rng, net)
    events = [int(rng.choice(causes))]
    others = [i for i in range(net.size - 1) if i not in events]
    if others and rng.random() < 0.5:
        events.append(int(rng.choice(others)))
    check_against_brute_force(net, a, b, random_do(rng, net, events))


@pytest.mark.parametrize("case", range(6))
def test_v2_per_draw_weights_match_brute_force_draw_by_draw(case):
    """A do-value of shape (S, m) (a strength drawn per draw) with parameters per draw."""
    rng = np.random.default_rng(300 + case)
    net = ref.random_network_v2(rng, int(rng.integers(3, 6)))
    draws = [ref.random_parameters_v2(rng, net) for _ in range(3)]
    a = np.stack([d[0] for d in draws])
    b = np.stack([d[1] for d in draws])
    i = int(rng.integers(0, net.size - 1))
    w = rng.random((3, net.card(i))) + 0.01
    w /= w.sum(axis=1, keepdims=True)
    t, least = net.outcomes[0]
    got_i = C.interventional(net, a, b, {i: w})
    got_c = C.counterfactual(net, a, b, {i: w})
    got_d = C.differs(net, a, b, {i: w})
    answers = C.answer_pods(net, a, b, {"drawn": {net.nodes[i]: w}})["drawn"]
    for s in range(3):
        do = {i: w[s]}
        pairs = ref.counterfactual_pairs_v2(net, a[s], b[s], do)
        want_i = ref.interventional_v2(net, a[s], b[s], do, at_least=least)
        want_c = pairs[t][:, least:].sum()
        want_d = [1.0 - np.trace(p) for p in pairs]
        assert got_i[s] == pytest.approx(want_i, abs=TOL)
        assert got_c[s] == pytest.approx(want_c, abs=TOL)
        np.testing.assert_allclose(got_d[s], want_d, atol=TOL)
        assert answers.interventional[s, 0] == pytest.approx(want_i, abs=TOL)
        assert answers.counterfactual[s, 0] == pytest.approx(want_c, abs=TOL)
        np.testing.assert_allclose(answers.differs[s], want_d, atol=TOL)


@pytest.mark.parametrize("case", range(4))
def test_v2_answer_pods_every_outcome_matches_brute_force(case):
    """Several outcomes (an event at several cuts, and another event), every POD, rewrite."""
    rng, net, a, b, do = case_v2(400 + case)
    while net.size < 3:
        rng, net, a, b, do = case_v2(int(rng.integers(10_000, 20_000)))
    t = net.size - 1
    outcomes = (*((t, k) for k in range(1, net.card(t))), (net.size - 2, 1))
    net = Network(net.nodes, net.parents, net.history, t, net.name, net.data, net.states,
                  net.terms, net.gates, outcomes)
    answers = C.answer_pods(net, a, b, {"pod": do})
    events = {e for e, _ in outcomes}
    for pid, pod in (("history", {}), ("pod", do)):
        pairs = ref.counterfactual_pairs_v2(net, a, b, pod)
        got = answers[pid]
        for k, (e, least) in enumerate(outcomes):
            want = ref.interventional_v2(net, a, b, pod, target=e, at_least=least)
            assert got.interventional[0, k] == pytest.approx(want, abs=TOL)
            assert got.counterfactual[0, k] == pytest.approx(pairs[e][:, least:].sum(), abs=TOL)
        dif = [1.0 - np.trace(p) for p in pairs]
        np.testing.assert_allclose(got.differs[0], dif, atol=TOL)
        want_rewrite = sum(d for i, d in enumerate(dif) if i not in events)
        assert got.rewrite[0] == pytest.approx(want_rewrite, abs=TOL)


# --------------------------------------------------------------------------- pgmpy


def pgmpy_model_v2(net: Network, a, b, do: dict[int, np.ndarray] | None = None):
    """``net`` as pgmpy ``TabularCPD`` s with states (ordered logit, gates), mutilated by ``do``.

    An intervened event loses its causes and gets the POD's weights as its CPD.
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    do = do or {}
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.nodes)
    model.add_edges_from([(net.nodes[p], net.nodes[i]) for i in range(net.size)
                          for p in net.parents[i] if i not in do])
    for i, name in enumerate(net.nodes):
        m = net.card(i)
        names = {name: list(net.states[i])}
        if i in do:
            model.add_cpds(TabularCPD(name, m, np.asarray(do[i]).reshape(m, 1),
                                      state_names=names))
            continue
        ps = net.parents[i]
        cols = []
        # pgmpy orders evidence columns with the first parent varying slowest
        for config in itertools.product(*[range(net.card(p)) for p in ps]):
            world = dict(zip(ps, config, strict=True))
            cols.append(ref.state_probabilities_v2(net, a, b, i, world))
        names.update({net.nodes[p]: list(net.states[p]) for p in ps})
        model.add_cpds(TabularCPD(name, m, np.array(cols).T,
                                  evidence=[net.nodes[p] for p in ps] or None,
                                  evidence_card=[net.card(p) for p in ps] or None,
                                  state_names=names))
    model.check_model()
    return model


@pytest.mark.parametrize("case", range(15))
def test_v2_do_queries_match_pgmpy(case):
    """A hard POD by pgmpy's own ``do`` (its mutilation, then conditioning on the root it
    made), also by CausalInference where no gate breaks positivity (its backdoor
    adjustment divides by P(X = x | z), which a closed gate makes 0); soft PODs on
    two events by a network mutilated here.
    """
    from pgmpy.inference import CausalInference, VariableElimination

    rng = np.random.default_rng(2000 + case)
    net = ref.random_network_v2(rng, int(rng.integers(3, 7)), density=0.7)
    a, b = ref.random_parameters_v2(rng, net)
    t = net.size - 1
    node = int(rng.integers(0, t))
    state = net.states[node][int(rng.integers(0, net.card(node)))]
    model = pgmpy_model_v2(net, a, b)
    found = [VariableElimination(model.do([net.nodes[node]])).query(
        [net.nodes[t]], evidence={net.nodes[node]: state}, show_progress=False)]
    if not any(net.gates):
        found.append(CausalInference(model).query(
            variables=[net.nodes[t]], do={net.nodes[node]: state}, show_progress=False))
    for expected in found:
        for least in range(1, net.card(t)):
            want = sum(expected.get_value(**{net.nodes[t]: s}) for s in net.states[t][least:])
            got = C.interventional(net, a, b, {node: state}, target=t, at_least=least)[0]
            assert got == pytest.approx(want, abs=TOL)
    # soft PODs on two events
    events = sorted({node, int(rng.integers(0, t))})
    soft = {}
    for i in events:
        w = rng.random(net.card(i)) + 0.01
        soft[i] = w / w.sum()
    expected = VariableElimination(pgmpy_model_v2(net, a, b, soft)).query(
        [net.nodes[t]], show_progress=False)
    want = [expected.get_value(**{net.nodes[t]: s}) for s in net.states[t]]
    np.testing.assert_allclose(C.distribution(net, a, b, soft, t)[0], want, atol=TOL)


# --------------------------------------------------------------------------- by hand


def test_gated_chain_by_hand():
    """a -> b -> c, each requiring its cause: a closed gate pins the effect in both worlds."""
    pa, pb, pc = 0.7, 0.6, 0.8
    lg = lambda p: math.log(p / (1 - p))  # noqa: E731
    gates = ((), ((0, 1),), ((1, 1),))
    no_terms: tuple = ((), (), ())

    def chain(history):
        return Network(("a", "b", "c"), ((), (0,), (1,)), history, 2, terms=no_terms,
                       gates=gates)

    a = np.array([[lg(pa)], [lg(pb)], [lg(pc)]])
    b = np.zeros((3, 1))
    all_no = chain((0.0, 0.0, 0.0))
    # interventionally: c needs b needs a
    assert C.interventional(all_no, a, b)[0] == pytest.approx(pa * pb * pc, abs=TOL)
    assert C.interventional(all_no, a, b, {"a": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    assert C.interventional(all_no, a, b, {"a": "yes"})[0] == pytest.approx(pb * pc, abs=TOL)
    # a did not happen, so b and c could not: the noises of b and c are unknown, and
    # under do(a) they are fresh draws
    assert C.counterfactual(all_no, a, b, {"a": 1.0})[0] == pytest.approx(pb * pc, abs=TOL)
    assert C.counterfactual(all_no, a, b, {"a": 1.0}, target="b")[0] == pytest.approx(pb)
    # ... and without a POD on a, nothing opens: c stays no in both worlds
    assert C.counterfactual(all_no, a, b)[0] == pytest.approx(0.0, abs=TOL)
    assert C.counterfactual(all_no, a, b, {"c": 0.3})[0] == pytest.approx(
        ref.counterfactual_v2(all_no, a, b, {"c": 0.3}), abs=TOL)
    # all happened: closing a's gate pins b and c at "no" counterfactually
    all_yes = chain((1.0, 1.0, 1.0))
    assert C.counterfactual(all_yes, a, b, {"a": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    np.testing.assert_allclose(C.differs(all_yes, a, b, {"a": 0.0})[0], [1, 1, 1], atol=TOL)
    # a soft POD on a: a* = yes on U_a < 0.25, and U_a is uniform on [0, pa) (a happened);
    # c* happens exactly when a* does (b and c happened: U_b < pb, U_c < pc)
    assert C.counterfactual(all_yes, a, b, {"a": 0.25})[0] == pytest.approx(0.25 / pa, abs=TOL)
    # a unknown, b happened: then a happened
    b_yes = chain((None, 1.0, None))
    assert C.counterfactual(b_yes, a, b, target="a")[0] == pytest.approx(1.0, abs=TOL)
    assert C.counterfactual(b_yes, a, b)[0] == pytest.approx(pc, abs=TOL)


def test_and_of_two_causes_by_hand():
    """d requires a and requires b: an AND, with a chance p inside the gates."""
    pa, pb, p = 0.4, 0.7, 0.9
    lg = lambda q: math.log(q / (1 - q))  # noqa: E731

    def gate_and(history):
        return Network(("a", "b", "d"), ((), (), (0, 1)), history, 2, terms=((), (), ()),
                       gates=((), (), ((0, 1), (1, 1))))

    a = np.array([[lg(pa)], [lg(pb)], [lg(p)]])
    b = np.zeros((3, 1))
    unknown = gate_and((None, None, None))
    assert C.interventional(unknown, a, b)[0] == pytest.approx(pa * pb * p, abs=TOL)
    assert C.interventional(unknown, a, b, {"b": 1.0})[0] == pytest.approx(pa * p, abs=TOL)
    assert C.interventional(unknown, a, b, {"a": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    # d happened: so did a and b; take either away and d is gone in the other world
    happened = gate_and((None, None, 1.0))
    assert C.counterfactual(happened, a, b, target="a")[0] == pytest.approx(1.0, abs=TOL)
    assert C.counterfactual(happened, a, b, {"a": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    assert C.counterfactual(happened, a, b, {"b": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    # a did, b did not, d did not: with b, d follows its fresh noise, chance p
    half = gate_and((1.0, 0.0, 0.0))
    assert C.counterfactual(half, a, b, {"b": 1.0})[0] == pytest.approx(p, abs=TOL)
    # neither: one POD opens one gate only
    neither = gate_and((0.0, 0.0, 0.0))
    assert C.counterfactual(neither, a, b, {"b": 1.0})[0] == pytest.approx(0.0, abs=TOL)
    assert C.counterfactual(neither, a, b, {"a": 1.0, "b": "yes"})[0] == pytest.approx(p)
    # both, and d did not happen: U_d >= p is known, so d* stays no under any POD
    no_d = gate_and((1.0, 1.0, 0.0))
    assert C.counterfactual(no_d, a, b, {"a": 0.5})[0] == pytest.approx(0.0, abs=TOL)


def test_three_state_event_by_hand():
    """x in (low, mid, high) with a yes/no cause c: logit P(x >= s_k) = a_k + b c."""
    a1, a2, w = 0.5, -1.0, 1.2
    states = (("no", "yes"), ("low", "mid", "high"))

    def net(history):
        return Network(("c", "x"), ((), (0,)), history, 1, states=states,
                       terms=((), (((0, 1, 1),),)), outcomes=((1, 1), (1, 2)))

    a = np.array([[0.3, 0.0], [a1, a2]])
    b = np.array([[0.0], [w]])
    pc = sig(0.3)
    unknown = net((None, None))
    # P(x >= mid) and P(x = high), and the whole distribution
    want_mid = pc * sig(a1 + w) + (1 - pc) * sig(a1)
    want_high = pc * sig(a2 + w) + (1 - pc) * sig(a2)
    assert C.interventional(unknown, a, b)[0] == pytest.approx(want_mid, abs=TOL)
    assert C.interventional(unknown, a, b, at_least="high", target="x")[0] == pytest.approx(
        want_high, abs=TOL)
    np.testing.assert_allclose(C.distribution(unknown, a, b, target="x")[0],
                               [1 - want_mid, want_mid - want_high, want_high], atol=TOL)
    assert C.interventional(unknown, a, b, {"c": "no"})[0] == pytest.approx(sig(a1), abs=TOL)
    # c happened and x was mid: U_x in [sig(a2 + w), sig(a1 + w)) = [0.55, 0.85).
    # Without c, x* is high below sig(a2) = 0.27 (never here), mid below sig(a1) = 0.62.
    mid = net((1.0, (0.0, 1.0, 0.0)))
    lo, hi = sig(a2 + w), sig(a1 + w)
    keeps_mid = (sig(a1) - lo) / (hi - lo)
    assert 0.2 < keeps_mid < 0.3
    assert C.counterfactual(mid, a, b, {"c": 0.0})[0] == pytest.approx(keeps_mid, abs=TOL)
    assert C.counterfactual(mid, a, b, {"c": 0.0}, target="x", at_least="high")[0] == (
        pytest.approx(0.0, abs=TOL))
    assert C.differs(mid, a, b, {"c": 0.0})[0, 1] == pytest.approx(1 - keeps_mid, abs=TOL)
    # a soft POD on x itself over states: x* = high on [0, 0.2), mid on [0.2, 0.7)
    soft = C.counterfactual(mid, a, b, {"x": {"high": 0.2, "mid": 0.5, "low": 0.3}},
                            target="x", at_least="mid")[0]
    assert soft == pytest.approx((0.7 - lo) / (hi - lo), abs=TOL)
    # both outcomes through answer_pods
    answers = C.answer_pods(mid, a[None], b[None], {"no_c": {"c": False}})["no_c"]
    np.testing.assert_allclose(answers.counterfactual[0], [keeps_mid, 0.0], atol=TOL)
    np.testing.assert_allclose(answers.interventional[0], [sig(a1), sig(a2)], atol=TOL)


def test_firing_squad_unchanged():
    """Version 1's firing squad: the same numbers from the engine and both references."""
    s = load_scenario("tests/data/firing_squad.toml")
    net = Network.from_scenario(s)
    assert net.binary
    big = 30.0
    idx = {n: i for i, n in enumerate(net.nodes)}
    a = np.full(net.size, -big)
    a[idx["court_order"]] = 0.0
    b = np.zeros((net.size, net.max_parents))
    for i in range(net.size):
        b[i, : len(net.parents[i])] = 2 * big
    assert C.counterfactual(net, a, b, {"rifleman_a": 0.0})[0] == pytest.approx(1.0, abs=TOL)
    assert C.interventional(net, a, b, {"rifleman_a": 0.0})[0] == pytest.approx(0.5, abs=TOL)
    assert C.counterfactual(net, a, b, {"court_order": 0.0})[0] == pytest.approx(0.0, abs=TOL)
    rng = np.random.default_rng(12)
    for _ in range(3):
        a, b = ref.random_parameters(rng, net)
        for pod in s.pods:
            do = dict(pod.do)
            v1 = ref.counterfactual(net, a, b, do)
            assert C.counterfactual(net, a, b, do)[0] == pytest.approx(v1, abs=TOL)
            assert ref.counterfactual_v2(net, a, b, do) == pytest.approx(v1, abs=TOL)
            assert C.interventional(net, a, b, do)[0] == pytest.approx(
                ref.interventional(net, a, b, do), abs=TOL)
            np.testing.assert_allclose(C.differs(net, a, b, do)[0], ref.differs_v2(net, a, b, do),
                                       atol=TOL)


def _random_do_v2(rng, net, events):
    do = {}
    for e in events:
        m = len(net.states[e])
        r = rng.random()
        if r < 0.4:
            do[int(e)] = net.states[e][int(rng.integers(0, m))]
        elif m == 2 and r < 0.7:
            do[int(e)] = float(rng.choice([0.2, 0.7, 0.9]))  # soft: likelier "yes" or "no"
        else:
            w = rng.random(m) + 0.01
            do[int(e)] = {s: float(x) for s, x in zip(net.states[e], w / w.sum(), strict=True)}
    return do


@pytest.mark.parametrize("seed", range(16))
def test_pod_chance_v2_matches_the_brute_force_definition(seed):
    """States, gates, interactions; causes with soft or missing history; PODs on one to
    three events, hard and soft; and answer_pods' route = POD chance x counterfactual."""
    rng = np.random.default_rng(700 + seed)
    net = ref.random_network_v2(rng, 5)
    a, b = ref.random_parameters_v2(rng, net)
    events = rng.choice(net.size - 1, size=1 + seed % 3, replace=False)
    do = _random_do_v2(rng, net, events)
    got = C.pod_chance(net, a[None], b[None], do)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(ref.pod_chance_v2(net, a, b, do), abs=1e-9)
    answer = C.answer_pods(net, a[None], b[None], {"p": do})["p"]
    np.testing.assert_allclose(answer.route, answer.pod_chance[:, None] * answer.counterfactual,
                               atol=1e-12)
    assert answer.route[0, 0] == pytest.approx(
        got[0] * ref.counterfactual_v2(net, a, b, do, net.outcomes[0][0], net.outcomes[0][1]),
        abs=1e-9)
