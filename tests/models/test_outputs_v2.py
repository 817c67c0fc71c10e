"""Every output speaks version 2: several outcomes, states, scope, medians (v2_small)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.errors import UsageError
from plausibly.models.inference import estimate
from plausibly.models.network import Network
from plausibly.models.queries import answer_pods
from plausibly.models.results import CSV_HEADER, Summary, csv_rows, rank, results_json
from plausibly.models.scenario import load_scenario
from plausibly.models.settings import Settings
from plausibly.models.store import load_run, save_run

sys.path.insert(0, str(Path(__file__).parents[1]))
from v2_priors import hand_prior

V2 = str(Path(__file__).parents[1] / "data" / "v2_small.toml")
OUTCOMES = ["democracy_1930", "regime_1930>=open_party"]
KEYS = ["priors", "pod", "scope", "outcome", "interventional", "counterfactual", "pod_chance",
        "route", "rewrite", "events"]
runner = CliRunner()


@pytest.fixture(scope="module")
def v2():
    s = load_scenario(V2)
    return s, Network.from_scenario(s)


def test_summary_has_the_median():
    s = Summary.of(np.array([[0.0, 0.1, 0.2, 0.9]]), 0.94)
    assert s.median == pytest.approx(0.15) and list(s.to_dict()) == ["mean", "median", "sd",
                                                                      "hdi"]


@pytest.mark.parametrize("n", [1, 2, 7, 3400])
def test_summaries_of_every_column_at_once_equal_each_column_alone(n):
    # the vectorised summary (one sort for all columns) against numpy column by
    # column and arviz's HDI: exactly equal means, sds and medians; HDIs as arviz
    from plausibly.models._arviz import arviz
    from plausibly.models.results import summaries

    rng = np.random.default_rng(n)
    draws = np.concatenate([rng.beta(0.5, 3.0, size=(n, 5)), np.full((n, 1), 0.25),
                            rng.integers(0, 3, size=(n, 2)).astype(float)], axis=1)
    got = summaries(draws, 0.94)
    for k, s in enumerate(got):
        col = draws[:, k].copy()
        assert s.mean == col.mean() and s.median == np.median(col)
        assert s.sd == (col.std(ddof=1) if n > 1 else 0.0)
        if n > 2:
            want = arviz().hdi(col, hdi_prob=0.94)
            np.testing.assert_allclose(s.hdi, want, atol=0, rtol=0)
    assert Summary.of(draws[:, :1].reshape(1, n), 0.94) == got[0]


@pytest.mark.parametrize("cores", [1, 2, 3])
def test_summaries_are_the_same_for_any_number_of_threads(monkeypatch, cores):
    """Blocks of 128 columns, a thread per core: the summaries do not depend on how many."""
    from plausibly.models import results, workers

    rng = np.random.default_rng(5)
    draws = np.concatenate([rng.beta(0.5, 3.0, size=(3400, 300)), np.full((3400, 20), 0.25),
                            rng.integers(0, 3, size=(3400, 9)).astype(float)], axis=1)
    monkeypatch.setattr(workers, "cores", lambda: 1)
    alone = results.summaries(draws, 0.94)
    monkeypatch.setattr(workers, "cores", lambda: cores)
    assert results.summaries(draws, 0.94) == alone  # 329 columns: blocks of 128, 128, 73
    assert len(alone) == 329


def test_fixed_priors_equal_the_exact_answers_for_every_outcome(v2):
    s, net = v2
    prior = hand_prior(net)
    run = estimate(s, prior)
    assert run.diagnostics.exact and run.outcomes == OUTCOMES
    a, b = prior.to_ab(np.zeros((1, 0)))
    want = answer_pods(net, a, b, {p.id: p.do for p in s.pods})
    for pod, answer in want.items():
        got = run.draws["plausibility"].sel(pod=pod).values[0, 0]  # (outcome, query)
        np.testing.assert_allclose(got[:, 0], answer.interventional[0], atol=1e-9, rtol=0)
        np.testing.assert_allclose(got[:, 1], answer.counterfactual[0], atol=1e-9, rtol=0)
        assert run.draws["rewrite"].sel(pod=pod).item() == pytest.approx(answer.rewrite[0],
                                                                         abs=1e-9)
        chance = run.draws["pod_chance"].sel(pod=pod).values[0, 0]
        assert chance == pytest.approx(answer.pod_chance[0], abs=1e-9)
        np.testing.assert_allclose(chance * got[:, 1], answer.route[0], atol=1e-9, rtol=0)
        for r in run.summarize():
            if r.pod == pod:
                k = OUTCOMES.index(r.outcome)
                assert r.pod_chance is not None and r.route is not None
                assert r.pod_chance.mean == pytest.approx(answer.pod_chance[0], abs=1e-9)
                assert r.route.mean == pytest.approx(answer.route[0, k], abs=1e-9)
    results = run.summarize()
    assert [(r.pod, r.outcome, r.scope) for r in results] == [
        (p, o, "out" if p == "no_soviets" else "in")
        for p in ("history", "milder_war", "softer_centralism", "no_soviets") for o in OUTCOMES]
    out = results_json(s, 0.94, results, {prior.id: run.diagnostics})
    assert out["outcomes"] == OUTCOMES and "outcome" not in out
    row = out["results"][3]
    assert list(row) == KEYS and row["outcome"] == OUTCOMES[1]
    assert row["events"]["civil_war"]["history"] == {"long": 0.3, "long_and_brutal": 0.7}
    assert row["events"]["soviet_state"]["history"] is True
    assert set(row["events"]) == set(s.order) - {"democracy_1930", "regime_1930"}
    rows = csv_rows(results)
    assert all(len(r) == len(CSV_HEADER) for r in rows)
    assert [r[2:4] for r in rows[:6]] == [(OUTCOMES[0], "interventional"),
                                          (OUTCOMES[0], "counterfactual"),
                                          (OUTCOMES[0], "route"), ("", "pod_chance"),
                                          ("", "rewrite"), ("", "p_differs:soviet_state")]
    ranked, apart = rank([r for r in results if r.outcome == OUTCOMES[0]])
    assert (ranked, apart) == ((0, 1, 2), (3,))


def test_a_v2_run_file_round_trips(v2, tmp_path):
    s, net = v2
    run = estimate(s, hand_prior(net))
    path = tmp_path / "run.nc"
    save_run(run, path)
    back = load_run(path)
    names = ["plausibility", "rewrite", "differs", "pod_chance", "a", "b"]
    xr.testing.assert_allclose(back.draws[names], run.draws[names])
    assert back.draws["term"].values.tolist() == run.draws["term"].values.tolist()
    assert "civil_war=long & centralism" not in back.draws["term"].values.ravel()
    assert "civil_war & centralism" in back.draws["term"].values.ravel()


def test_judged_strengths_are_drawn_per_draw_and_seeded(v2):
    s, net = v2
    prior = hand_prior(net, strengths=(("no_soviets", "soviet_state", 0.0, 1.5),))
    settings = Settings(draws=30, chains=2, seed=4)
    one, two = estimate(s, prior, settings=settings), estimate(s, prior, settings=settings)
    rewrite = one.draws["rewrite"].sel(pod="no_soviets").values
    assert rewrite.shape == (2, 30) and rewrite.std() > 0
    np.testing.assert_array_equal(rewrite, two.draws["rewrite"].sel(pod="no_soviets").values)
    assert not np.array_equal(rewrite[0], rewrite[1])  # chains draw their own


def _cli_with_hand_prior(monkeypatch, sigma: float) -> None:
    """``estimate`` on v2_small with the hand-built prior (no v2 prior-set files yet)."""
    import plausibly.cli.run as cli_run

    def one_prior_set(s, priors):
        prior = hand_prior(Network.from_scenario(s), sigma)
        return (SimpleNamespace(id=prior.id, path=None),
                SimpleNamespace(parameter_prior=lambda _s: prior))

    monkeypatch.setattr(cli_run, "one_prior_set", one_prior_set)


def test_estimate_tables_per_outcome_with_out_of_scope_apart(monkeypatch):
    _cli_with_hand_prior(monkeypatch, 0.0)
    result = runner.invoke(app, ["estimate", V2])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("P(democracy_1930)") < text.index("P(regime_1930>=open_party)")
    assert text.count("out of scope (the POD removes the question; not ranked): no_soviets") == 2
    only = runner.invoke(app, ["estimate", V2, "--outcome", OUTCOMES[1], "-f", "json"])
    assert {r["outcome"] for r in json.loads(only.stdout)["results"]} == {OUTCOMES[1]}
    bad = runner.invoke(app, ["estimate", V2, "--outcome", "democracy"])
    assert bad.exit_code == 2
    assert bad.stderr == ("error: 1 problem\n--outcome: unknown outcome 'democracy' (did you "
                          "mean 'democracy_1930'?)\n    fix: use one of: democracy_1930, "
                          "regime_1930>=open_party\n")


@pytest.mark.slow
def test_estimate_json_through_the_sampler(monkeypatch):
    _cli_with_hand_prior(monkeypatch, 0.4)
    result = runner.invoke(app, ["estimate", V2, "--draws", "200", "--tune", "200",
                                 "--chains", "2", "--seed", "3", "-f", "json",
                                 "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["outcomes"] == OUTCOMES
    assert [(r["pod"], r["outcome"]) for r in out["results"]] == [
        (p, o) for p in ("history", "milder_war", "softer_centralism", "no_soviets")
        for o in OUTCOMES]
    for r in out["results"]:
        assert list(r) == KEYS
        assert r["scope"] == ("out" if r["pod"] == "no_soviets" else "in")
        for q in ("interventional", "counterfactual"):
            assert 0.0 <= r[q]["hdi"][0] <= r[q]["median"] <= r[q]["hdi"][1] <= 1.0
    assert out["results"][0]["events"]["civil_war"]["history"] == {"long": 0.3,
                                                                   "long_and_brutal": 0.7}


def test_a_run_saved_without_the_pod_chance_still_loads_and_says_so(v2, tmp_path):
    """A run saved before the POD chance existed: it loads, and its outputs say what is absent."""
    from dataclasses import replace

    from plausibly.models.results import NO_POD_CHANCE

    s, net = v2
    run = estimate(s, hand_prior(net))
    old = replace(run, draws=run.draws.drop_vars("pod_chance"))
    path = tmp_path / "old.nc"
    save_run(old, path)
    back = load_run(path)
    assert "pod_chance" not in back.draws
    results = back.summarize()
    assert all(r.pod_chance is None and r.route is None for r in results)
    row = results[0].to_dict()
    assert row["pod_chance"] is None and row["route"] is None
    assert not any(r[3] in ("pod_chance", "route") for r in csv_rows(results))
    with pytest.raises(UsageError) as err:
        rank([r for r in results if r.outcome == OUTCOMES[0]], by="route")
    assert NO_POD_CHANCE in str(err.value)


def test_a_pod_chance_out_of_its_range_is_refused(v2, tmp_path):
    from dataclasses import replace

    from plausibly.models.errors import RunFileError

    s, net = v2
    run = estimate(s, hand_prior(net))
    bad = replace(run, draws=run.draws.assign(pod_chance=run.draws["pod_chance"] + 1.5))
    path = tmp_path / "bad.nc"
    save_run(bad, path)
    with pytest.raises(RunFileError) as err:
        load_run(path)
    assert "plausibility.pod_chance: holds" in str(err.value)
    assert "values outside [0, 1]" in str(err.value)


@pytest.mark.slow
def test_compare_json_through_the_sampler_has_route_ranking_and_three_weights():
    """End to end on v2_small with its prior set: pod_chance, route, p_first summing to 1."""
    priors = Path(__file__).parents[1] / "data" / "v2_small_priors.toml"
    result = runner.invoke(app, ["compare", V2, "-p", str(priors), "--draws", "200", "--tune",
                                 "200", "--chains", "2", "--seed", "3", "-f", "json",
                                 "--allow-unconverged", "--rank", "route"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rank_by"] == "route" and out["weighting"] == "history"
    for r in out["results"]:
        assert r["pod_chance"] is not None and r["route"] is not None
        assert 0.0 <= r["pod_chance"]["mean"] <= 1.0
    for name in OUTCOMES:
        ranking = out["ranking"][name]
        assert sum(p["p_first"] for p in ranking["pods"]) == pytest.approx(1.0, abs=1e-5)
        assert [p["pod"] for p in ranking["out_of_scope"]] == ["no_soviets"]
        assert ranking["out_of_scope"][0]["by"]
    w = out["weights"]["v2_school"]
    assert w["equal"] == 1.0 and w["posterior"] == 1.0 and w["stacking"] == 1.0
    assert set(out["pools"]) == {"equal", "history", "stacking"}
