"""Stacking weights against az.compare on the same log-likelihoods; equal weights are equal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from plausibly.models._arviz import arviz
from plausibly.priors.comparison import WEIGHTINGS
from plausibly.priors.pool import LOG_LIKELIHOOD, pointwise_loo, stacking_weights


def _log_lik(rng, shift, chains=2, draws=300, terms=5):
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    return xr.Dataset({f"e{k}": (("chain", "draw"),
                                 rng.normal(-1.0 - shift * (k % 2), 0.3, (chains, draws)))
                       for k in range(terms)}, coords=coords)


def _posterior(rng, chains=2, draws=300):
    return xr.Dataset({"z": (("chain", "draw", "param"), rng.normal(size=(chains, draws, 3)))},
                      coords={"chain": np.arange(chains), "draw": np.arange(draws)})


@pytest.mark.parametrize("seed", range(3))
def test_stacking_weights_are_az_compare_on_the_same_log_likelihoods(seed):
    az = arviz()
    rng = np.random.default_rng(seed)
    sets = {name: (_log_lik(rng, shift), _posterior(rng))
            for name, shift in (("a", 0.0), ("b", 0.6), ("c", -0.4))}
    got = stacking_weights({k: pointwise_loo(ll, post) for k, (ll, post) in sets.items()})
    data = {k: az.InferenceData(posterior=post, log_likelihood=xr.Dataset({
        LOG_LIKELIHOOD: xr.concat([ll[v] for v in ll.data_vars], dim="term")
        .transpose("chain", "draw", "term")})) for k, (ll, post) in sets.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = az.compare(data, method="stacking", var_name=LOG_LIKELIHOOD)
    np.testing.assert_allclose(got.weights, [want.loc[k, "weight"] for k in sets], atol=1e-6)
    np.testing.assert_allclose(got.elpd_loo, [want.loc[k, "elpd_loo"] for k in sets],
                               atol=1e-9)
    assert got.weights.sum() == pytest.approx(1.0)


def test_a_fixed_set_predicts_each_event_by_its_own_term():
    rng = np.random.default_rng(1)
    ll = _log_lik(rng, 0.2, chains=1, draws=1)
    loo = pointwise_loo(ll, None)
    want = sum(float(ll[v].values.item()) for v in ll.data_vars)
    assert loo.elpd_loo == pytest.approx(want)


def test_one_set_or_nothing_to_predict_gives_equal_weights():
    rng = np.random.default_rng(2)
    one = stacking_weights({"a": pointwise_loo(_log_lik(rng, 0.0), _posterior(rng))})
    assert one.weights.tolist() == [1.0]


def test_every_weighting_says_in_one_line_what_it_means():
    assert list(WEIGHTINGS) == ["equal", "history", "stacking"]
    assert all("\n" not in line and line.startswith(name + ": ")
               for name, line in WEIGHTINGS.items())


def test_relative_efficiency_is_arvizs_over_every_posterior_scalar():
    # az.loo's own reff (arviz's ESS loop over each scalar) and ours at once, on
    # autocorrelated chains with a vector and a scalar variable
    from plausibly.priors.pool import relative_efficiency

    az = arviz()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 400, 4))
    for t in range(1, 400):
        x[:, t] += 0.8 * x[:, t - 1]
    post = xr.Dataset({"z": (("chain", "draw", "param"), x[..., :3]),
                       "s": (("chain", "draw"), np.exp(x[..., 3]))},
                      coords={"chain": [0, 1], "draw": np.arange(400)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(post, method="mean")
    want = np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / 800
    assert relative_efficiency(post) == pytest.approx(want, rel=1e-10)
    assert relative_efficiency(post.isel(chain=[0])) == 1.0


@pytest.mark.slow
def test_the_terms_computed_with_each_chain_are_those_of_the_saved_draws():
    """Through the sampler: the pointwise log-likelihood that ``compare`` takes from the
    workers (one chain at a time) is the one computed afterwards from the run's draws of
    the mechanism, term by term, to the last bit; and a run without it still has them."""
    from pathlib import Path

    from plausibly.models.inference import estimate_many
    from plausibly.models.network import Network
    from plausibly.models.pointwise import pointwise_log_likelihood
    from plausibly.models.scenario import load_scenario
    from plausibly.models.settings import Settings
    from plausibly.models.store import history_groups
    from plausibly.priors.elicitation import load_prior_set
    from plausibly.priors.fit import fit_prior_set

    data = Path(__file__).parents[1] / "data"
    s = load_scenario(data / "firing_squad.toml")
    prior = fit_prior_set(load_prior_set(data / "firing_squad_priors.toml", s), s)
    settings = Settings(draws=200, tune=200, chains=2, seed=1)
    [run] = estimate_many(s, [prior.parameter_prior(s)], settings=settings, pointwise=True)
    [plain] = estimate_many(s, [prior.parameter_prior(s)], settings=settings)
    assert run.log_likelihood is not None and plain.log_likelihood is None
    a, b = run.draws["a"].values, run.draws["b"].values
    want = pointwise_log_likelihood(Network.from_scenario(s), a.reshape(400, *a.shape[2:]),
                                    b.reshape(400, *b.shape[2:]))
    assert list(run.log_likelihood) == list(want) and len(want) >= 3
    for term, values in want.items():
        assert run.log_likelihood[term].shape == (2, 200)
        np.testing.assert_array_equal(run.log_likelihood[term].reshape(-1), values)
    with_terms, without = history_groups(run), history_groups(plain)
    assert with_terms["log_likelihood"].equals(without["log_likelihood"])
