"""Rank correlations of judgements with answers: scipy's Spearman, ties and all."""

from __future__ import annotations

import numpy as np
from scipy import stats

from plausibly.models.power_scaling import Driver, PodSensitivity, spearman


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


# ------------------------------------------------------------------ the findings in words

DRIVERS = (Driver("a[one_party_rule]", 0.6512), Driver("g[nep_persists|stalin_rises]", -0.3))


def test_a_prior_sensitive_answer_says_the_prior_set_shapes_it_and_names_an_association():
    found = PodSensitivity("kronstadt_succeeds", 0.136, 0.2171, 0.0123, DRIVERS)
    assert found.prior_informative and not found.likelihood_informative
    assert found.sentence() == (
        "kronstadt_succeeds: prior sensitivity 0.217, above 0.05: the answer moves when the "
        "prior set is made a little stronger or weaker, and barely when history's evidence is "
        "(likelihood sensitivity 0.012), so the prior set, not history, shapes it. Across the "
        "posterior draws it goes most with one_party_rule's base chance (rank correlation "
        "+0.65: draws with a higher value tend to give a higher answer); an association, not "
        "the effect of changing that judgement.")


def test_both_sensitive_and_a_negative_association():
    found = PodSensitivity("red_finland", 0.015, 0.147, 0.103, DRIVERS[::-1])
    assert found.sentence() == (
        "red_finland: prior sensitivity 0.147 and likelihood sensitivity 0.103, both above "
        "0.05: the answer moves when the prior set is made a little stronger or weaker, and "
        "when history's evidence is, so both shape it. Across the posterior draws it goes "
        "most with nep_persists given stalin_rises (rank correlation -0.30: draws with a "
        "higher value tend to give a lower answer); an association, not the effect of "
        "changing that judgement.")


def test_only_history_or_neither_and_no_association():
    history = PodSensitivity("nep_persists", 0.2, 0.01, 0.08, ())
    assert history.sentence() == (
        "nep_persists: likelihood sensitivity 0.080, above 0.05: the answer moves when "
        "history's evidence is made a little stronger or weaker, and barely when the prior "
        "set is (prior sensitivity 0.010), so history, not the prior set, shapes it. Across "
        "the posterior draws no sampled judgement rises or falls with it (every rank "
        "correlation within ±0.05).")
    neither = PodSensitivity("a_refrains", 0.5, 0.05, 0.0, DRIVERS[:1])
    assert not neither.prior_informative
    assert neither.sentence().startswith(
        "a_refrains: prior sensitivity 0.050 and likelihood sensitivity 0.000, both at most "
        "0.05: making the prior set or history's evidence a little stronger or weaker barely "
        "moves the answer. Across the posterior draws it goes most with")
    for words in (history.sentence(), neither.sentence()):
        assert "depends" not in words and "raises" not in words and "drive" not in words
