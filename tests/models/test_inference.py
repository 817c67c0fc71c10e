"""Estimation: exact when fixed, right when tight, calibrated, reproducible; the commands."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models import likelihood as L
from plausibly.models import queries as C
from plausibly.models.inference import estimate
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario, parse_scenario
from plausibly.models.settings import Settings
from plausibly.priors.elicitation import load_prior_set, parse_prior_set
from plausibly.priors.fit import fit_prior_set

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
runner = CliRunner()


def test_fixed_priors_answer_exactly():
    s = load_scenario(SQUAD)
    fitted = fit_prior_set(load_prior_set(FIXED, s), s)
    run = estimate(s, fitted.parameter_prior(s))
    assert run.diagnostics.exact and run.idata is None
    net = Network.from_scenario(s)
    a, b = fitted.parameter_prior(s).to_ab(np.zeros((1, 0)))
    for pod in s.pods:
        got = run.draws["plausibility"].sel(pod=pod.id, outcome="death").values.ravel()
        assert got[0] == pytest.approx(C.interventional(net, a, b, pod.do)[0], abs=1e-9)
        assert got[1] == pytest.approx(C.counterfactual(net, a, b, pod.do)[0], abs=1e-9)


def test_estimate_json_has_the_design_shape():
    result = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["scenario", "outcomes", "hdi_prob", "results", "diagnostics"]
    assert (out["scenario"], out["outcomes"], out["hdi_prob"]) == ("firing_squad", ["death"],
                                                                   0.94)
    assert [r["pod"] for r in out["results"]] == ["history", "a_refrains", "a_half_hearted"]
    first = out["results"][1]
    assert list(first) == ["priors", "pod", "scope", "outcome", "interventional",
                           "counterfactual", "pod_chance", "route", "rewrite", "events"]
    assert (first["scope"], first["outcome"]) == ("in", "death")
    assert list(first["counterfactual"]) == ["mean", "median", "sd", "hdi"]
    assert first["events"]["rifleman_a"]["history"] is True
    assert list(first["events"]["rifleman_a"]["p_differs"]) == ["mean", "median", "sd", "hdi"]
    assert out["diagnostics"]["squad_fixed"]["exact"] is True


def test_estimate_csv_and_table():
    csv = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--format", "csv"])
    assert csv.exit_code == 0
    lines = csv.stdout.splitlines()
    assert lines[0] == "priors,pod,outcome,quantity,mean,median,sd,hdi_low,hdi_high"
    assert lines[1].startswith("squad_fixed,history,death,interventional,")
    assert lines[3].startswith("squad_fixed,history,death,route,")
    assert lines[4].startswith("squad_fixed,history,,pod_chance,")
    assert lines[5].startswith("squad_fixed,history,,rewrite,")
    table = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED])
    assert table.exit_code == 0 and "a_refrains" in table.stdout
    assert "diagnostics: exact (every parameter fixed: nothing to sample)" in table.stdout


def test_save_and_reload_a_run(tmp_path):
    out = tmp_path / "run.nc"
    first = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "-o", str(out), "-f", "json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["estimate", "--from", str(out), "-f", "json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["results"] == json.loads(first.stdout)["results"]
    import arviz as az

    idata = az.from_netcdf(out)
    attrs = idata["plausibility"].attrs
    assert attrs["scenario"] == "firing_squad" and attrs["priors"] == "squad_fixed"
    assert len(attrs["scenario_sha256"]) == 64 and len(attrs["priors_sha256"]) == 64
    assert dict(idata["plausibility"]["plausibility"].sizes) == {
        "chain": 1, "draw": 1, "pod": 3, "outcome": 1, "query": 2}
    assert dict(idata["plausibility"]["rewrite"].sizes) == {"chain": 1, "draw": 1, "pod": 3}
    refused = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "-o", str(out)])
    assert refused.exit_code == 2
    assert refused.stderr == (f"error: 1 problem\n{out}: exists already\n"
                              "    fix: choose another name, or add --force to overwrite it\n")


def test_bad_requests_exit_2(tmp_path):
    unknown = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--pod", "a_refrain"])
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        f"error: 1 problem\n{SQUAD}: pods.a_refrain: unknown POD 'a_refrain' (did you mean "
        "'a_refrains'?)\n    fix: use one of: a_refrains, a_half_hearted\n")
    wrong = runner.invoke(app, ["estimate", "ussr_1930", "-p", FIXED])
    assert wrong.exit_code == 2
    assert ("squad_fixed.toml: scenario: this prior set is for scenario 'firing_squad', not "
            "'ussr_1930'\n") in wrong.stderr
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file")
    bad = runner.invoke(app, ["estimate", "--from", str(junk)])
    assert bad.exit_code == 2
    assert bad.stderr == (f"error: 1 problem\n{junk}: is not a readable NetCDF file (OSError)\n"
                          "    fix: give a run.nc written by 'plausibly estimate -o'\n")
    assert "Traceback" not in bad.output


def tight_priors(s, sd: float):
    """Every judgement a narrow interval around the fixed values of FIXED."""
    fixed = load_prior_set(FIXED, s)
    nodes = {}
    for x, nj in fixed.nodes.items():
        table = {"why": "tight"}

        def spread(p):
            lo = 1 / (1 + math.exp(-(math.log(p / (1 - p)) - 1.645 * sd)))
            hi = 1 / (1 + math.exp(-(math.log(p / (1 - p)) + 1.645 * sd)))
            return [lo, p, hi]

        table["base"] = spread(nj.base.median)
        table["given"] = {c: spread(j.median) for c, j in nj.given.items()}
        nodes[x] = table
    return parse_prior_set({"id": "tight", "name": "tight", "scenario": s.id, "summary": "t",
                            "nodes": nodes}, s)


@pytest.mark.slow
def test_tight_priors_match_the_exact_answer():
    s = load_scenario(SQUAD)
    exact = estimate(s, fit_prior_set(load_prior_set(FIXED, s), s).parameter_prior(s))
    run = estimate(s, fit_prior_set(tight_priors(s, 0.01), s).parameter_prior(s),
                   settings=Settings(draws=600, tune=300, seed=1))
    assert run.diagnostics.converged, run.diagnostics.problems()
    # the posterior also speaks the experts' language: probabilities, not z
    base = run.idata.posterior["base"].sel(event="court_order").mean().item()
    assert base == pytest.approx(0.5, abs=0.01)
    assert next(iter(run.idata.posterior["given"]["edge"].values)) == "captain|court_order"
    got = run.draws["plausibility"].mean(("chain", "draw"))
    want = exact.draws["plausibility"].isel(chain=0, draw=0)
    # Monte Carlo error: sd of the draws over sqrt(ESS >= 400), four of them
    se = run.draws["plausibility"].std(("chain", "draw")) / math.sqrt(400)
    assert bool((abs(got - want) <= 4 * se + 1e-6).all())


@pytest.mark.slow
def test_same_seed_same_json_across_processes():
    cmd = [sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p", JUDGED, "--draws",
           "200", "--tune", "200", "--seed", "7", "--format", "json", "--allow-unconverged"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True)
    second = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout and first.stdout.startswith("{")


@pytest.mark.slow
def test_simulation_based_calibration():
    """Talts et al. (2018): ranks of the true parameter among posterior draws are uniform.

    A -> B, both observed, and a reference-class row on A of 6 trials. Truths
    are drawn from the prior and a history simulated from each; the truths
    whose history is one of two chosen ones are kept (rejection), so each kept
    truth is an exact draw from the posterior given its history, and its rank
    among that posterior's MCMC draws is uniform. 40 truths per history, one
    independent chain each, 100 thinned draws; a chi-square test on 5 rank
    bins per parameter, Bonferroni over the 3 parameters at family level 0.01.
    Conditioning on a few histories is what keeps this to one compiled program
    per history (two), where unconditioned SBC meets every possible history.
    It fails on a model prior 0.6 times as wide as the truth's on either of B's
    parameters, and on a row read with one success too many.
    """
    from scipy import stats

    from plausibly.models.sampling import sample_posterior

    trials = 6
    base = {"id": "ab", "title": "AB", "outcome": "b", "source": "sbc",
            "nodes": {"a": {"label": "A", "year": 1}, "b": {"label": "B", "year": 2}},
            "edges": [{"cause": "a", "effect": "b", "claim": "A moves B.", "by": ["#1 t"]}],
            "pods": {}, "data": [{"node": "a", "successes": 0, "trials": trials,
                                  "note": "ref"}]}
    s = parse_scenario(base)
    priors = parse_prior_set({"id": "p", "name": "p", "scenario": "ab", "summary": "s",
                              "nodes": {"a": {"base": [0.1, 0.4, 0.8], "why": "w"},
                                        "b": {"base": [0.1, 0.3, 0.7],
                                              "given": {"a": [0.3, 0.7, 0.95]}, "why": "w"}}},
                             s)
    layout = fit_prior_set(priors, s).parameter_prior(s)
    rng = np.random.default_rng(7)
    chosen = [(1.0, 1.0, 3), (0.0, 0.0, 2)]  # (A, B, successes of the row): common ones
    truths: dict[tuple[float, float, int], list[np.ndarray]] = {h: [] for h in chosen}
    while any(len(group) < 40 for group in truths.values()):
        z_true = rng.standard_normal(layout.free.size)
        a, b = layout.to_ab(z_true[None])
        pa = 1 / (1 + np.exp(-a[0, 0]))
        xa = float(rng.random() < pa)
        pb = 1 / (1 + np.exp(-(a[0, 1] + b[0, 1, 0] * xa)))
        xb = float(rng.random() < pb)
        history = (xa, xb, int(rng.binomial(trials, pa)))
        if history in truths and len(truths[history]) < 40:
            truths[history].append(z_true)
    ranks = []
    for (xa, xb, k), group in truths.items():
        net = Network.from_scenario(s).with_history((xa, xb))
        net = Network(net.nodes, net.parents, net.history, net.outcome, net.name,
                      ((0, (), k, trials, False),))
        # one chain per kept truth: chains are independent given their seeds
        idata = sample_posterior(net, layout, draws=500, tune=300, chains=len(group),
                                 seed=int(rng.integers(1 << 30)))
        z = idata.posterior["z"].values  # (chain, draw, param)
        ranks += [(z[j, ::5] < z_true).sum(axis=0) for j, z_true in enumerate(group)]
    ranks = np.array(ranks)  # (reps, params), each in 0..100
    assert ranks.shape[0] == 80
    for j in range(ranks.shape[1]):
        counts = np.histogram(ranks[:, j], bins=5, range=(0, 101))[0]
        assert stats.chisquare(counts).pvalue > 0.01 / ranks.shape[1], counts


def test_the_pytensor_likelihood_is_the_numpy_one():
    """The model NUTS samples has log density N(z; 0, 1) + log_likelihood (numpy), at
    random points, on the bundled scenario (as it is; with an exact and a bounded
    reference-class row; with unknown and soft history too) — the two implementations of
    one formula agree."""
    from scipy import stats

    from plausibly.models.pymc_model import build_model
    from plausibly.priors.catalog import load_prior_sets

    s = load_scenario("ussr_1930")
    fitted = load_prior_sets(s, ["contingency"])[0][1]
    net = Network.from_scenario(s)
    last = net.size - 1  # a yes/no outcome with causes with states and a gate
    top = {p: len(net.states[p]) - 1 for p in net.parents[last]}
    every_term = tuple(float(x) for x in net.activations(last, top))
    more = net.with_data((*net.data, (last, every_term, 1, 4, False), (0, (), 2, 9, True)))
    # unknown history on an event with states and on a yes/no one, soft on another
    history = list(more.history)
    history[net.index("civil_war")] = None
    history[net.index("lenin_killed_1918")] = None
    history[net.index("kronstadt_holds")] = (0.3, 0.7)
    unknown = more.with_history(history)
    assert unknown.states == net.states and unknown.gates == net.gates
    layout = fitted.parameter_prior(s)
    rng = np.random.default_rng(5)
    for network in (net, more, unknown):
        logp = build_model(network, layout).compile_logp()
        for _ in range(3):
            z = rng.standard_normal(layout.free.size)
            a, b = layout.to_ab(z[None])
            want = stats.norm.logpdf(z).sum() + L.log_likelihood(network, a, b)[0]
            assert float(logp({"z": z})) == pytest.approx(want, rel=1e-9)
