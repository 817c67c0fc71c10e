"""PSIS-LOO and stacking against ArviZ, the reference, on the same numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from plausibly.models._arviz import arviz
from plausibly.models.psis import psis_loo, psislw, stacking


def _draws(rng: np.random.Generator, samples: int, terms: int, tail: float) -> np.ndarray:
    """Log-likelihoods (samples, terms); ``tail`` > 0 makes some terms heavy-tailed."""
    ll = rng.normal(-1.0, 0.4, (samples, terms))
    ll[:, ::2] += tail * rng.standard_t(2.0, (samples, (terms + 1) // 2))
    return ll


@pytest.mark.parametrize("tail", [0.0, 1.5, 6.0])
@pytest.mark.parametrize(("samples", "reff"), [(40, 1.0), (400, 0.7), (3400, 0.9)])
def test_psislw_is_arvizs(samples, reff, tail):
    # heavy tails (large Pareto k), light ones, and 40 draws (the tail is too short to
    # fit for some rows: k is inf and the weights only normalised)
    az = arviz()
    lw = -_draws(np.random.default_rng(samples), samples, 7, tail).T
    got, k = psislw(lw, reff)
    want, want_k = az.psislw(lw.copy(), reff)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.isinf(k), np.isinf(want_k))
    np.testing.assert_allclose(k[np.isfinite(k)], want_k[np.isfinite(want_k)], rtol=1e-12)


@pytest.mark.parametrize("tail", [0.0, 4.0])
def test_psis_loo_is_arvizs_loo(tail):
    az = arviz()
    rng = np.random.default_rng(3)
    ll = _draws(rng, 2 * 500, 9, tail)
    data = az.InferenceData(
        posterior=xr.Dataset({"z": (("chain", "draw"), rng.normal(size=(2, 500)))}),
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "term"), ll.reshape(2, 500, 9))}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns of a large k; ours says so in .warning
        want = az.loo(data, pointwise=True, reff=0.8, scale="log")
    got = psis_loo(ll, 0.8)
    for name in ("elpd_loo", "se", "p_loo"):
        assert getattr(got, name) == pytest.approx(float(want[name]), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(got.loo_i, want["loo_i"].values, rtol=1e-12)
    np.testing.assert_allclose(got.pareto_k, want["pareto_k"].values, rtol=1e-12)
    assert got.warning == bool(want["warning"])
    assert (got.n_samples, got.n_data_points) == (1000, 9)
    if tail:
        assert got.warning  # the heavy tail is noticed


def test_stacking_is_arvizs_compare():
    az = arviz()
    rng = np.random.default_rng(5)
    lls = [_draws(rng, 600, 12, 0.0) + shift for shift in (0.0, 0.3, -0.5, 0.1)]
    lls[2][:, :4] += 1.5  # a set that predicts some events much better
    loos = [psis_loo(ll, 1.0) for ll in lls]
    data = {f"m{j}": az.InferenceData(
        posterior=xr.Dataset({"z": (("chain", "draw"), rng.normal(size=(2, 300)))}),
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "term"), ll.reshape(2, 300, 12))}))
        for j, ll in enumerate(lls)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = az.compare(data, method="stacking", ic="loo", scale="log")
    got = stacking(loos)
    # same optimiser from the same start on the same matrix: agreement to its tolerance
    np.testing.assert_allclose(got, [want.loc[f"m{j}", "weight"] for j in range(4)],
                               atol=1e-8)
    assert got.sum() == pytest.approx(1.0) and got.max() > 0.5
