"""Rank correlations of judgements with answers: scipy's Spearman, ties and all."""

from __future__ import annotations

import numpy as np
from scipy import stats

from plausibly.models.power_scaling import spearman


def test_spearman_equals_scipy_with_tied_draws():
    rng = np.random.default_rng(3)
    params = rng.normal(size=(400, 4))
    params[100:160] = params[99]  # a run of repeated draws, as NUTS makes when it rejects
    params[:, 3] = np.round(params[:, 3])  # a column with many ties
    values = params[:, 0] + 0.5 * rng.normal(size=400)
    values[200:260] = values[199]
    got = spearman(params, values)
    want = [stats.spearmanr(params[:, j], values).statistic for j in range(4)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_spearman_of_a_constant_is_zero_not_nan():
    params = np.column_stack([np.ones(50), np.arange(50.0)])
    np.testing.assert_array_equal(spearman(params, np.arange(50.0)), [0.0, 1.0])
