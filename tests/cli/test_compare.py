"""compare, explain and sensitivity through the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network
from plausibly.models.queries import interventional
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set
from plausibly.priors.fit import fit_prior_set
from plausibly.priors.pool import log_pool

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
runner = CliRunner()


def test_compare_weights_fixed_sets_by_their_exact_likelihood(second_fixed):
    result = runner.invoke(app, ["compare", SQUAD, "-p", FIXED, "-p", second_fixed,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    s = load_scenario(SQUAD)
    net = Network.from_scenario(s)
    logz = []
    for name in (FIXED, second_fixed):
        a, b = fit_prior_set(load_prior_set(name, s), s).parameter_prior(s).to_ab(np.zeros((1, 0)))
        logz.append(float(log_likelihood(net, a, b)[0]))
    expected = np.exp(logz) / np.exp(logz).sum()
    weights = out["weights"]
    assert list(weights) == ["squad_fixed", "lenient"]
    assert weights["squad_fixed"]["posterior"] == pytest.approx(expected[0], abs=1e-6)
    assert weights["lenient"]["log_evidence"] == pytest.approx(logz[1], abs=1e-6)
    assert sum(w["posterior"] for w in weights.values()) == pytest.approx(1.0, abs=1e-6)
    assert out["pool"] == "linear" and sorted(out["ranking"]["death"]) == ["a_half_hearted",
                                                                 "a_refrains"]
    priors = [r["priors"] for r in out["results"]]
    assert priors[:3] == ["squad_fixed", "lenient", "linear_pool"]


def test_compare_log_pool_of_fixed_values(second_fixed):
    result = runner.invoke(app, ["compare", SQUAD, "-p", FIXED, "-p", second_fixed, "--pool",
                                 "log", "--weight", "3", "--weight", "1", "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["diagnostics"]["log_pool"]["exact"] is True
    # point masses pool to the weighted mean of their logits (3:1): only the court differs
    s = load_scenario(SQUAD)
    sets = [fit_prior_set(load_prior_set(p, s), s) for p in (FIXED, second_fixed)]
    pooled = log_pool(sets, [3, 1])
    assert pooled.base["court_order"].mu == pytest.approx(0.25 * math.log(0.1 / 0.9), abs=1e-12)
    a, b = pooled.parameter_prior(s).to_ab(np.zeros((1, 0)))
    expected = interventional(Network.from_scenario(s), a, b)[0]
    history_row = next(r for r in out["results"]
                       if r["priors"] == "log_pool" and r["pod"] == "history")
    assert history_row["interventional"]["mean"] == pytest.approx(expected, abs=1e-6)


def test_compare_table_and_bad_pool():
    result = runner.invoke(app, ["compare", SQUAD, "-p", FIXED])
    assert result.exit_code == 0
    assert "Prior sets: weight from history" in result.stdout
    bad = runner.invoke(app, ["compare", SQUAD, "-p", FIXED, "--pool", "mean"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Usage: plausibly compare [OPTIONS] [scenario]\n")
    assert "Invalid value for '--pool'" in bad.stderr and "'linear'" in bad.stderr


def test_explain_tells_the_timeline():
    result = runner.invoke(app, ["explain", SQUAD, "a_refrains", "-p", FIXED])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Rifleman A does not fire (a_refrains, proposed by #1 Pearl)" in out
    assert out.index("The court orders") < out.index("Rifleman A fires") < out.index(
        "outcome death:")
    as_json = runner.invoke(app, ["explain", SQUAD, "a_refrains", "-p", FIXED, "-f", "json"])
    events = json.loads(as_json.stdout)["results"][0]["events"]
    assert events["rifleman_a"]["p_differs"]["mean"] == pytest.approx(1.0, abs=1e-9)
    assert events["court_order"]["p_differs"]["mean"] == 0.0


def test_explain_unknown_pod():
    result = runner.invoke(app, ["explain", SQUAD, "nobody", "-p", FIXED])
    assert result.exit_code == 2
    assert result.stderr == (f"error: 1 problem\n{SQUAD}: pods.nobody: unknown POD 'nobody'\n"
                             "    fix: use one of: a_refrains, a_half_hearted\n")


@pytest.mark.slow
def test_sensitivity_names_a_driver():
    result = runner.invoke(app, ["sensitivity", SQUAD, "-p", JUDGED, "--draws", "300",
                                 "--tune", "300", "-f", "json", "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    pods = {p["pod"]: p for p in out["pods"]}
    assert set(pods) == {"a_refrains", "a_half_hearted"}
    drivers = pods["a_refrains"]["drivers"]
    assert drivers and all(-1 <= d["spearman"] <= 1 for d in drivers)
    assert pods["a_refrains"]["prior_sensitivity"] >= 0.0


@pytest.mark.slow
def test_sensitivity_says_what_was_computed():
    from plausibly.cli.run import SENSITIVITY_NOTES
    from plausibly.models.power_scaling import Driver, PodSensitivity

    args = ["sensitivity", SQUAD, "-p", JUDGED, "--draws", "300", "--tune", "300",
            "--allow-unconverged"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "prior sensitivity" in text and "likelihood sensitivity" in text
    assert "associated judgements (rank correlation)" in text
    for note in SENSITIVITY_NOTES:
        assert note in text
    found = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)["pods"]
    for p in found:  # the same seed: the same numbers, so the same sentences
        words = PodSensitivity(p["pod"], p["counterfactual_mean"], p["prior_sensitivity"],
                               p["likelihood_sensitivity"], tuple(
                                   Driver(d["parameter"], d["spearman"]) for d in p["drivers"]))
        assert f"- {words.sentence()}" in text
    for wrong in ("depends most", "drivers", "raises it", "lowers it", "psens"):
        assert wrong not in text


def test_a_prior_set_may_not_take_a_pools_id(tmp_path):
    # issue #11, item 14: a set called log_pool had its diagnostics replaced by the log
    # pool's under 'compare --pool log', so an unconverged run exited 0
    judged = Path(JUDGED).read_text()
    for pool_id in ("log_pool", "linear_pool"):
        taken = tmp_path / f"{pool_id}.toml"
        taken.write_text(judged.replace('id = "squad"', f'id = "{pool_id}"'))
        checked = runner.invoke(app, ["check", SQUAD, str(taken)])
        assert checked.exit_code == 2
        assert (f"{taken}: id: '{pool_id}' is reserved: it names the pool of prior sets in "
                "'plausibly compare'\n    fix: give this prior set another id\n"
                ) in checked.stdout + checked.stderr
        compared = runner.invoke(app, ["compare", SQUAD, "-p", str(taken), "-p", FIXED,
                                       "--pool", "log", "--draws", "20", "--tune", "20",
                                       "-f", "json"])
        assert compared.exit_code == 2, compared.output
        assert f"'{pool_id}' is reserved" in compared.stderr


def test_a_pools_diagnostics_never_replace_a_sets(monkeypatch):
    from plausibly.models.diagnostics import Diagnostics
    from plausibly.models.errors import UsageError
    from plausibly.models.results import Run
    from plausibly.priors.comparison import Comparison

    s = load_scenario(SQUAD)
    bad, good = Diagnostics(1.3, 12, 9, 4), Diagnostics(1.0, 2000, 2000, 0)
    unconverged = Run(s, "log_pool", "a set", None, bad, 1)
    pooled = Run(s, "log_pool", "the log pool", None, good, 1)
    weights = np.array([1.0])
    with pytest.raises(UsageError, match="reserved for the pool of prior sets"):
        Comparison(s, (unconverged,), "log", pooled, weights, (), weights, weights)
    fine = Comparison(s, (Run(s, "squad", "a set", None, bad, 1),), "log", pooled, weights, (),
                      weights, weights)
    assert not fine.converged
    assert fine.diagnostics == {"squad": bad, "log_pool": good}
