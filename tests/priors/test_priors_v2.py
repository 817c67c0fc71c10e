"""Prior sets in version 2: states, "C=state" keys, interactions, anchors, POD strengths.

Exact checks: version 1 files give the very arrays of version 1's map
(``from_logits``); every judged cell is reproduced by the ``(a, b)`` it maps
to; a history-anchored and an absence-anchored file that describe the same
parameters map to the same ``(a, b)``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.errors import ElicitationError, UsageError
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.scenario import load_scenario, parse_scenario
from plausibly.priors.elicitation import (
    Judgement,
    PodJudgement,
    bundled_prior_sets,
    load_prior_set,
    parse_prior_set,
)
from plausibly.priors.fit import FittedPriors, fit_prior_set, logit
from plausibly.priors.pool import log_pool

DATA = Path(__file__).parents[1] / "data"
V2 = DATA / "v2_small.toml"
V2_PRIORS = DATA / "v2_small_priors.toml"


def v1_prior(fitted: FittedPriors, scenario) -> ParameterPrior:
    """Version 1's map, built from the fitted cells as before version 2."""
    order, parents = scenario.order, scenario.parents
    width = max([len(p) for p in parents.values()] + [1])
    n = len(order)
    mu_a, sd_a = np.zeros(n), np.zeros(n)
    mu_g, sd_g, mask = np.zeros((n, width)), np.zeros((n, width)), np.zeros((n, width))
    for i, x in enumerate(order):
        mu_a[i], sd_a[i] = fitted.base[x].mu, fitted.base[x].sigma
        for j, c in enumerate(parents[x]):
            p = fitted.given[(x, c)]
            mu_g[i, j], sd_g[i, j], mask[i, j] = p.mu, p.sigma, 1.0
    return ParameterPrior.from_logits(fitted.priors, fitted.name, order, parents, mu_a=mu_a,
                                      sd_a=sd_a, mu_g=mu_g, sd_g=sd_g, mask=mask)


V1 = DATA / "v1"
#: The bundled scenario and prior sets as they were in version 1 (kept as fixtures).
V1_SETS = [(V1 / "ussr_1930.toml", p) for p in sorted((V1 / "priors").glob("*.toml"))] + [
    (DATA / "firing_squad.toml", DATA / "firing_squad_priors.toml"),
    (DATA / "firing_squad.toml", DATA / "firing_squad_fixed.toml"),
]


@pytest.mark.parametrize(("scenario", "priors"), V1_SETS,
                         ids=[Path(p).stem for _, p in V1_SETS])
def test_version_1_files_give_version_1_arrays(scenario, priors):
    s = load_scenario(scenario)
    fitted = fit_prior_set(load_prior_set(priors, s), s)
    new, old = fitted.parameter_prior(s), v1_prior(fitted, s)
    for field in ("mu", "sigma", "free"):
        np.testing.assert_array_equal(getattr(new, field), getattr(old, field))
    assert new.names == old.names and new.cells == old.cells
    assert (new.n, new.width, new.thresholds) == (old.n, old.width, old.thresholds)
    z = np.random.default_rng(0).standard_normal((50, new.free.size))
    for x, y in zip(new.to_ab(z), old.to_ab(z), strict=True):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- reading


def test_the_v2_prior_set_reads_every_key():
    s = load_scenario(V2)
    ps = load_prior_set(V2_PRIORS, s)
    assert ps.anchor == "history"
    assert ps.anchor_of("civil_war") == "history" and ps.anchor_of("party_brutalized") == "absent"
    war = ps.nodes["civil_war"]
    assert war.base is None
    assert war.base_states == {"long": Judgement(0.7, 0.5, 0.85),
                               "long_and_brutal": Judgement(0.4, 0.2, 0.6)}
    assert war.given == {"soviet_state": Judgement(0.2, 0.05, 0.4)}
    assert war.given_states == {"soviet_state": "long"}
    party = ps.nodes["party_brutalized"]
    # the interaction is written "centralism & civil_war": kept under the scenario's key
    assert list(party.given) == ["civil_war=long", "civil_war=long_and_brutal", "centralism",
                                 "civil_war & centralism"]
    assert party.given_states == {}
    assert ps.nodes["regime_1930"].base_states["many_parties"] == Judgement(0.02)
    assert ps.pods == {"softer_centralism": PodJudgement(
        "softer_centralism", {"centralism": Judgement(0.4, 0.2, 0.6)},
        "This school thinks the turn away from centralism was a near thing.")}


def test_the_v2_fit_names_cells_and_contexts():
    s = load_scenario(V2)
    fitted = fit_prior_set(load_prior_set(V2_PRIORS, s), s)
    by = {c.name: c for c in fitted.cells}
    assert [c.name for c in fitted.cells if c.event == "party_brutalized"] == [
        "a[party_brutalized]", "g[party_brutalized|civil_war=long]",
        "g[party_brutalized|civil_war=long_and_brutal]", "g[party_brutalized|centralism]",
        "g[party_brutalized|civil_war & centralism]"]
    assert by["g[party_brutalized|civil_war & centralism]"].context == {
        "civil_war": "long", "centralism": "yes"}
    # history: base with soviet_state as it was (yes); the given had it been otherwise
    assert by["a[civil_war>=long]"].context == {"soviet_state": "yes"}
    assert by["g[civil_war|soviet_state]"].context == {"soviet_state": "no"}
    assert by["g[civil_war|soviet_state]"].state == "long"
    assert by["g[regime_1930|party_brutalized]"].state == "open_party"
    assert by["a[regime_1930>=many_parties]"].prior.fixed
    assert fitted.unjudged() == ["centralism.base", "democracy_1930.base"]
    assert fitted.parameters == 17  # 16 cells and one POD strength
    [strength] = fitted.strengths
    assert (strength.pod, strength.event) == ("softer_centralism", "centralism")
    assert strength.prior.mu == pytest.approx(logit(0.4), abs=1e-12)
    prior = fitted.parameter_prior(s)
    assert prior.strengths == (("softer_centralism", "centralism", strength.prior.mu,
                                strength.prior.sigma),)


def judged_logit(net: Network, a: np.ndarray, b: np.ndarray, cell) -> float:
    """logit P(event >= state | context) under ``(a, b)`` (one draw)."""
    i = net.index(cell.event)
    s = net.state_index(i, cell.state)
    config = {p: 0 for p in net.parents[i]}
    config.update({net.index(c): net.state_index(c, v) for c, v in cell.context.items()})
    act = np.array(net.activations(i, config), dtype=float)
    a_i = a[0, i] if a.ndim == 2 else a[0, i, s - 1]
    return float(a_i + b[0, i, :act.size] @ act)


def test_the_map_reproduces_every_judged_cell():
    """With z = 0, (a, b) gives back each cell's median logit, in both anchors."""
    s = load_scenario(V2)
    net = Network.from_scenario(s)
    fitted = fit_prior_set(load_prior_set(V2_PRIORS, s), s)
    prior = fitted.parameter_prior(s)
    a, b = prior.to_ab(np.zeros((1, prior.free.size)))
    assert a.shape == (1, net.size, 2)
    anchors = set()
    for cell in fitted.cells:
        assert judged_logit(net, a, b, cell) == pytest.approx(cell.prior.mu, abs=1e-9), cell.name
        anchors.add(load_prior_set(V2_PRIORS, s).anchor_of(cell.event))
    assert anchors == {"absent", "history"}
    # padding stays 0; gates play no part in b
    assert (b[0][prior.mask == 0] == 0).all()


# ---------------------------------------------------------- the two anchors agree

#: v2_small with the civil war's history known for certain, so that every cause
#: of every event has hard history and any event can be judged either way
HARD = tomllib.loads(V2.read_text("utf-8"))
HARD["nodes"]["civil_war"]["history"] = "long_and_brutal"
HARD_SCENARIO = parse_scenario(HARD)

ABSENT = {
    "soviet_state": {"base": 0.8},
    "centralism": {"base": 0.6},
    "war_communism": {"base": 0.7},
    "civil_war": {"base": {"long": 0.6, "long_and_brutal": 0.3},
                  "given": {"soviet_state": {"long": 0.8}}},
    "party_brutalized": {"base": 0.1, "given": {
        "civil_war=long": 0.3, "civil_war=long_and_brutal": 0.6, "centralism": 0.2,
        "civil_war & centralism": 0.9}},
    "regime_1930": {"base": {"open_party": 0.3, "many_parties": 0.1},
                    "given": {"party_brutalized": {"many_parties": 0.05}}},
    "democracy_1930": {"base": 0.4, "given": {"party_brutalized": 0.1}},
}


def prior_set(anchor: str, nodes: dict) -> dict:
    return {"id": f"by_{anchor}", "name": anchor, "scenario": "v2_small", "summary": "s",
            "anchor": anchor, "nodes": {x: {**v, "why": "w"} for x, v in nodes.items()}}


def _p(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def test_history_and_absent_files_for_the_same_parameters_agree():
    s = HARD_SCENARIO
    net = Network.from_scenario(s)
    absent = fit_prior_set(parse_prior_set(prior_set("absent", ABSENT), s), s)
    a, b = absent.parameter_prior(s).to_ab(np.zeros((1, 0)))

    def ab(x: str) -> tuple[np.ndarray, np.ndarray]:
        i = net.index(x)
        return a[0, i], b[0, i]

    # by hand, term by term (terms in edge order, then interactions), with history:
    # soviet_state yes, civil_war long_and_brutal, centralism yes, party_brutalized yes
    at, bt = ab("civil_war")  # terms: soviet_state
    war = {"base": {"long": _p(at[0] + bt[0]), "long_and_brutal": _p(at[1] + bt[0])},
           "given": {"soviet_state": {"long": _p(at[0])}}}  # had there been none
    at, bt = ab("party_brutalized")  # terms: war=long, war=long_and_brutal, centralism, both
    party = {"base": _p(at[0] + bt[1] + bt[2] + bt[3]), "given": {
        "civil_war=short": _p(at[0] + bt[2]),
        "civil_war=long": _p(at[0] + bt[0] + bt[2] + bt[3]),
        "centralism": _p(at[0] + bt[1]),
        # active in history: judged with its causes at their first states
        "civil_war & centralism": _p(at[0])}}
    at, bt = ab("regime_1930")  # terms: party_brutalized
    regime = {"base": {"open_party": _p(at[0] + bt[0]), "many_parties": _p(at[1] + bt[0])},
              "given": {"party_brutalized": {"many_parties": _p(at[1])}}}
    at, bt = ab("democracy_1930")
    democracy = {"base": _p(at[0] + bt[0]), "given": {"party_brutalized": _p(at[0])}}
    history = {**ABSENT, "civil_war": war, "party_brutalized": party, "regime_1930": regime,
               "democracy_1930": democracy}
    by_history = fit_prior_set(parse_prior_set(prior_set("history", history), s), s)
    a2, b2 = by_history.parameter_prior(s).to_ab(np.zeros((1, 0)))
    np.testing.assert_allclose(a2, a, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b2, b, rtol=0, atol=1e-9)
    # and the cells really were judged in other contexts
    assert {c.name: dict(c.context) for c in by_history.cells}["a[party_brutalized]"] == {
        "civil_war": "long_and_brutal", "centralism": "yes"}


def test_an_unjudged_event_with_states_defaults_to_even_medians():
    s = load_scenario(V2)
    fitted = fit_prior_set(parse_prior_set(prior_set("absent", {"centralism": {"base": 0.5}}),
                                           s), s)
    cells = {c.name: c.prior for c in fitted.cells}
    assert cells["a[civil_war>=long]"].mu == pytest.approx(logit(2 / 3), abs=1e-12)
    assert cells["a[civil_war>=long_and_brutal]"].mu == pytest.approx(logit(1 / 3), abs=1e-12)
    assert cells["a[civil_war>=long]"].sigma == cells["a[soviet_state]"].sigma
    assert cells["g[civil_war|soviet_state]"].mu == pytest.approx(logit(2 / 3), abs=1e-12)
    assert cells["a[civil_war>=long]"].source == "weak"
    assert "civil_war.base.long" in fitted.unjudged()


# --------------------------------------------------------------------------- pooling


def test_the_log_pool_pools_cells_with_the_same_contexts():
    s = load_scenario(V2)
    one = fit_prior_set(load_prior_set(V2_PRIORS, s), s)
    pooled = log_pool([one, one])
    for x, y in zip(pooled.cells, one.cells, strict=True):
        assert (x.name, x.context) == (y.name, y.context)
        assert x.prior.mu == pytest.approx(y.prior.mu, abs=1e-12)
    assert pooled.strengths[0].prior.mu == pytest.approx(one.strengths[0].prior.mu, abs=1e-12)


def test_the_log_pool_refuses_sets_in_other_anchors():
    s = HARD_SCENARIO
    absent = fit_prior_set(parse_prior_set(prior_set("absent", ABSENT), s), s)
    same_keys = {x: ABSENT[x] for x in ("soviet_state", "centralism", "democracy_1930")}
    history = fit_prior_set(parse_prior_set(prior_set("history", same_keys), s), s)
    with pytest.raises(UsageError) as err:
        log_pool([absent, history])
    assert str(err.value) == (
        "--pool: prior sets 'by_absent' and 'by_history' judge different cells (other "
        "anchors or other soft-POD strengths), so the log pool cannot combine them cell by "
        "cell\n    fix: use --pool linear, or judge both sets in the same anchor")


# --------------------------------------------------------------------------- check


def test_check_counts_the_v2_parameters():
    result = CliRunner().invoke(app, ["check", str(V2), str(V2_PRIORS)])
    assert result.exit_code == 0, result.output
    assert (f"ok  {V2_PRIORS}: prior set v2_school for v2_small: judges 15 of 17 parameters\n"
            "    unjudged (2, default prior): centralism.base, democracy_1930.base\n"
            ) in result.stdout


def test_a_given_naming_what_happened_is_refused_under_history():
    nodes = {"party_brutalized": {"given": {"civil_war=long_and_brutal": 0.5,
                                            "civil_war=short": 0.2}}}
    with pytest.raises(ElicitationError) as err:
        parse_prior_set(prior_set("history", nodes), HARD_SCENARIO)
    assert str(err.value) == (
        "<dict>: nodes.party_brutalized.given.\"civil_war=long_and_brutal\": "
        "'long_and_brutal' is what happened to 'civil_war': base judges 'party_brutalized' "
        "with it as it was (anchor = \"history\")\n"
        "    fix: judge one of the other states: short, long")


# --------------------------------------------------------------------------- bundled text

THREAD = Path(__file__).resolve().parents[3] / "shared" / "thread.md"
SOURCES = Path(__file__).resolve().parents[2] / "docs" / "ussr_1930_sources.md"


@pytest.mark.skipif(not THREAD.exists(), reason="the shared thread is not beside the repo")
def test_bundled_prior_sets_and_the_sources_do_not_quote_the_thread():
    """No run of 8 words of the thread in a summary, a why, a comment or docs/ussr_1930_sources."""
    thread = " ".join(THREAD.read_text("utf-8").split()).lower()
    texts = [SOURCES.read_text("utf-8")]
    for path in bundled_prior_sets().values():
        text = path.read_text("utf-8")
        raw = tomllib.loads(text)
        texts += [raw["summary"], "\n".join(line for line in text.splitlines()
                                            if line.lstrip().startswith("#"))]
        texts += [v.get("why", "") for v in [*raw["nodes"].values(),
                                            *raw.get("pods", {}).values()]]
    for text in texts:
        words = text.lower().split()
        runs = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
        assert not [r for r in runs if r in thread], text[:200]


@pytest.mark.parametrize("n", range(1, 7))
def test_thresholds_are_sorted_by_a_network_of_maxima_and_minima(n):
    # the same numbers as a sort, for every order of n values, ties included
    import itertools

    from plausibly.models.parameters import _descending

    values = np.array([0.5, -1.0, 2.0, 0.5, 3.0, -2.5])[:n]
    for perm in itertools.permutations(values):
        got = np.array(_descending(list(perm), np))
        assert got.tolist() == sorted(perm, reverse=True)


def test_the_compiled_gradient_has_no_sort_run_in_python():
    # PyTensor's sort (and its gradient's argsort) runs in Python on every
    # gradient; the thresholds' order is kept with compiled maxima and minima
    from plausibly.models.pymc_model import build_model

    s = load_scenario(V2)
    fitted = fit_prior_set(load_prior_set(str(V2_PRIORS), s), s)
    prior = fitted.parameter_prior(s)
    assert prior.ordered, "the fixture has an event with states"
    model = build_model(Network.from_scenario(s), prior)
    fn = model.logp_dlogp_function(ravel_inputs=True)
    ops = {type(node.op).__name__ for node in fn._pytensor_function.maker.fgraph.apply_nodes}
    assert not ops & {"SortOp", "ArgSortOp"}, ops
