"""The vectorised diagnostics equal arviz's, quantity by quantity (rtol 1e-10)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from plausibly.models import convergence as cv

RTOL = 1e-10


@pytest.fixture(scope="module")
def az():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        import arviz

    logging.getLogger("arviz").setLevel(logging.CRITICAL)  # "Array contains NaN-value."
    return arviz


def ar1(rng: np.random.Generator, chains: int, draws: int, phi: np.ndarray) -> np.ndarray:
    """AR(1) chains, one column per ``phi`` (negative phi: antithetic draws)."""
    noise = rng.normal(size=(chains, draws, phi.size))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0]
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def columns(rng: np.random.Generator, chains: int, draws: int) -> np.ndarray:
    """Columns that reach every branch of the estimators."""
    phi = np.array([0.0, 0.5, 0.95, 0.995, -0.3, -0.9, 0.7, 0.2])
    x = ar1(rng, chains, draws, phi)
    x[..., 6] = np.exp(2 * x[..., 6])  # heavily skewed
    extra = np.stack([
        np.full((chains, draws), 0.25),  # constant: R-hat NaN, ESS = size
        rng.integers(0, 3, size=(chains, draws)).astype(float),  # ties
        (x[..., 2] > 0).astype(float),  # a sticky indicator
        x[..., 1] + np.arange(chains)[:, None] * 3.0,  # chains that disagree
        np.tile([1.0, -1.0], (chains, draws // 2 + 1))[:, :draws],  # alternating: P0 <= 0
        # each draw thrice, as when NUTS stays put: ties at the tail quantiles
        np.repeat(rng.normal(size=(chains, draws // 3 + 1)) / 3, 3, axis=1)[:, :draws],
    ], axis=-1)
    return np.concatenate([x, extra], axis=-1)


def reference(az, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cols = [x[:, :, k] for k in range(x.shape[2])]
        return (np.array([az.rhat(c) for c in cols]),
                np.array([az.ess(c, method="bulk") for c in cols]),
                np.array([az.ess(c, method="tail") for c in cols]))


@pytest.mark.parametrize(("chains", "draws", "seed"), [
    (2, 1500, 0), (2, 1501, 1), (4, 300, 2), (1, 400, 3), (3, 37, 4), (2, 8, 5), (2, 5, 6),
    (2, 4, 7), (2, 3, 8),
])
def test_equal_to_arviz(az, chains, draws, seed):
    x = columns(np.random.default_rng(seed), chains, draws)
    r, b, t = reference(az, x)
    np.testing.assert_allclose(cv.rhat(x), r, rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(cv.ess_bulk(x), b, rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(cv.ess_tail(x), t, rtol=RTOL, equal_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.array([az.ess(x[:, :, k], method="mean") for k in range(x.shape[2])])
    np.testing.assert_allclose(cv.ess_mean(x), m, rtol=RTOL, equal_nan=True)


def test_nan_draw_gives_nan_for_its_column_only(az):
    x = columns(np.random.default_rng(9), 2, 200)
    x[1, 17, 3] = np.nan
    r, b, t = reference(az, x)
    assert np.isnan(r[3]) and np.isnan(b[3]) and np.isnan(t[3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cv.rhat(x), cv.ess_bulk(x), cv.ess_tail(x)
    for mine, theirs in zip(got, (r, b, t), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, equal_nan=True)


def test_keeps_the_trailing_shape():
    x = np.random.default_rng(10).normal(size=(2, 100, 3, 4))
    assert cv.rhat(x).shape == cv.ess_bulk(x).shape == cv.ess_tail(x).shape == (3, 4)
    np.testing.assert_allclose(cv.rhat(x).ravel(), cv.rhat(x.reshape(2, 100, 12)), rtol=0)


def test_independent_draws_have_full_ess_and_unit_rhat():
    x = np.random.default_rng(11).normal(size=(4, 2000, 50))
    assert np.all(np.abs(cv.rhat(x) - 1) < 0.01)
    assert np.all(np.abs(cv.ess_bulk(x) / 8000 - 1) < 0.15)


def test_refuses_a_flat_array():
    with pytest.raises(ValueError, match="chain, draw"):
        cv.rhat(np.zeros(10))


@pytest.mark.parametrize(("chains", "draws"), [(2, 600), (1, 50), (2, 3)])
def test_diagnose_is_the_three_at_once(chains, draws):
    x = columns(np.random.default_rng(12), chains, draws)
    both = cv.diagnose(x)
    for got, want in zip(both, (cv.rhat(x), cv.ess_bulk(x), cv.ess_tail(x)), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [2, 3, 50])
def test_diagnose_in_threads_gives_the_same_numbers_to_the_bit(threads, monkeypatch):
    """The blocks of columns fix the arithmetic, not the threads that diagnose them (as a
    run does, a thread per core); a NaN draw and the trailing shape are kept."""
    monkeypatch.setattr(cv, "_BLOCK", 5)  # 3 blocks of 5 and one of 3 over 18 columns
    x = columns(np.random.default_rng(13), 2, 600)
    x[0, 5, 9] = np.nan
    x = np.concatenate([x, x[..., :4] * 2.0], axis=-1).reshape(2, 600, 3, 6)
    one = cv.diagnose(x)
    split = cv.diagnose(x, threads=threads)
    for got, want in zip(split, one, strict=True):
        assert got.shape == (3, 6)
        assert got.tobytes() == want.tobytes()
    assert np.isnan(split[0][1, 3])


def test_tail_quantile_is_arviz_to_the_last_bit():
    """Ties at a tail quantile (NUTS staying put) make the last bit matter:
    ``numpy.quantile`` differs from arviz's ``mquantiles`` there, ours does not."""
    from scipy.stats.mstats import mquantiles

    rng = np.random.default_rng(13)
    numpy_differs = 0
    for _ in range(200):
        col = np.repeat(rng.normal(size=1000) / 3, 3)  # each draw thrice
        for p in (0.05, 0.95):
            want = mquantiles(col, p, alphap=1, betap=1)[0]
            assert cv._quantile(np.sort(col)[:, None], p)[0] == want
            numpy_differs += np.quantile(col, p) != want
    assert numpy_differs > 0  # the case this guards against does occur
