"""run.nc is idiomatic ArviZ InferenceData: named dims, observed_data, log_likelihood.

The pointwise log-likelihood has one variable per observed event and per
reference-class row (dims chain, draw): the chain rule in time order,
log P(this event's history | the history of the events before it), so the
terms add up to the log-likelihood the sampler conditions on. The tests hold
that sum to the numpy likelihood at random points (hard, soft and missing
history; count and bound rows) and to the sampler's own log density on a
saved run, and run az.loo, az.summary and az.plot_forest on a saved run.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models import likelihood as L
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario

DATA = Path(__file__).parents[1] / "data"
SQUAD = DATA / "firing_squad.toml"
JUDGED = DATA / "firing_squad_priors.toml"
runner = CliRunner()

#: two reference-class rows: a count on the captain, a bound on the court
ROWS = """
[[data]]
node = "captain"
given = { court_order = true }
successes = 9
trials = 10
note = "a count"

[[data]]
node = "court_order"
at_most = 3
trials = 10
note = "a bound"
"""


def _arviz():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
        import arviz
    return arviz


# ------------------------------------------------------------------ the terms, with numpy


def _random_network(rng: np.random.Generator, n: int) -> Network:
    """A random DAG with hard, soft and missing history and two reference-class rows."""
    parents = tuple(tuple(sorted(rng.choice(i, size=min(i, int(rng.integers(0, 3))),
                                            replace=False).tolist())) for i in range(n))
    kinds = rng.choice(4, size=n)  # 0: false, 1: true, 2: soft, 3: missing
    history = tuple({0: 0.0, 1: 1.0, 2: float(rng.uniform(0.1, 0.9)), 3: None}[int(k)]
                    for k in kinds)
    last = n - 1
    data = ((last, tuple(1.0 for _ in parents[last]), 3, 7, False),
            (0, tuple(0.0 for _ in parents[0]), 2, 9, True))
    return Network(tuple(f"e{i}" for i in range(n)), parents, history, last, "random", data)


@pytest.mark.parametrize("seed", range(6))
def test_the_terms_add_up_to_the_likelihood(seed):
    from plausibly.models.pointwise import pointwise_log_likelihood

    rng = np.random.default_rng(seed)
    net = _random_network(rng, int(rng.integers(3, 8)))
    width = net.max_parents
    a = rng.normal(0, 1.5, (50, net.size))
    b = rng.normal(0, 2.0, (50, net.size, width))
    b *= np.array([[j < len(p) for j in range(width)] for p in net.parents])[None]
    terms = pointwise_log_likelihood(net, a, b)
    observed = [x for x, h in zip(net.nodes, net.history, strict=True) if h is not None]
    assert list(terms) == [*observed, "data[0]", "data[1]"]
    total = L.log_likelihood(net, a, b)
    np.testing.assert_allclose(sum(terms.values()), total, rtol=0, atol=1e-9)
    assert all(t.shape == (50,) for t in terms.values())


def test_an_event_with_every_cause_known_has_its_own_bernoulli_term():
    from plausibly.models.pointwise import pointwise_log_likelihood

    s = load_scenario(SQUAD)
    net = Network.from_scenario(s)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(20, net.size))
    b = rng.normal(size=(20, net.size, net.max_parents))
    b *= np.array([[j < len(p) for j in range(net.max_parents)] for p in net.parents])[None]
    terms = pointwise_log_likelihood(net, a, b)
    death = net.index("death")  # happened, with both riflemen firing
    logit = a[:, death] + b[:, death, :2].sum(axis=1)
    np.testing.assert_allclose(terms["death"], -np.logaddexp(0, -logit), rtol=1e-12)


# ------------------------------------------------------------------ a saved run


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    scenario = folder / "squad_rows.toml"
    scenario.write_text(SQUAD.read_text("utf-8") + ROWS, "utf-8")
    out = folder / "run.nc"
    result = runner.invoke(app, ["estimate", str(scenario), "-p", str(JUDGED), "--draws", "200",
                                 "--tune", "200", "--seed", "3", "--allow-unconverged",
                                 "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    return out


def _load(path: Path):
    return _arviz().from_netcdf(str(path), engine="h5netcdf")


@pytest.mark.slow
def test_every_dim_is_named(saved):
    idata = _load(saved)
    auto = {g: sorted(d for d in idata[g].dims if re.search(r"_dim_\d+$", str(d)))
            for g in idata.groups()}
    assert {g: d for g, d in auto.items() if d} == {}
    constant = idata.constant_data
    assert constant["mu"].dims == ("cell",) and constant["sigma_free"].dims == ("param",)
    assert list(constant["sigma_free"]["param"].values) == list(idata.posterior["param"].values)
    assert "g[captain|court_order]" in set(constant["cell"].values)


@pytest.mark.slow
def test_observed_data_holds_the_history_and_the_counts(saved):
    idata = _load(saved)
    observed = idata.observed_data
    assert list(observed.data_vars) == ["court_order", "captain", "rifleman_a", "rifleman_b",
                                        "death", "data[0]", "data[1]"]
    assert all(int(observed[e]) == 1 for e in ("court_order", "captain", "death"))
    assert int(observed["data[0]"]) == 9 and int(observed["data[1]"]) == 3
    assert observed["data[0]"].attrs["node"] == "captain"
    assert observed["data[1]"].attrs["at_most"] == 1
    assert list(idata.log_likelihood.data_vars) == list(observed.data_vars)
    for name, values in idata.log_likelihood.data_vars.items():
        assert values.dims == ("chain", "draw"), name


@pytest.mark.slow
def test_the_saved_terms_add_up_to_the_samplers_log_density(saved):
    """Each draw's log density as PyMC computed it while sampling (sample_stats.lp) is the
    standard-normal prior of z plus the sum of the saved pointwise terms."""
    from scipy import stats

    idata = _load(saved)
    ll = sum(idata.log_likelihood[v].values for v in idata.log_likelihood.data_vars)
    prior = stats.norm.logpdf(idata.posterior["z"].values).sum(axis=-1)
    np.testing.assert_allclose(prior + ll, idata.sample_stats["lp"].values, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_arviz_works_on_a_saved_run(saved):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    az = _arviz()
    idata = _load(saved)
    with warnings.catch_warnings():
        # 400 draws of a tiny model: PSIS may find a large Pareto k, and says so
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto",
                                category=UserWarning)
        for name in idata.log_likelihood.data_vars:
            loo = az.loo(idata, var_name=name, pointwise=False)  # one value: nothing pointwise
            assert np.isfinite(loo.elpd_loo), name
        # every observation at once: the terms as one variable along "observation"
        whole = az.InferenceData(
            posterior=idata.posterior,
            log_likelihood=idata.log_likelihood.to_dataarray("observation").to_dataset(
                name="history"))
        loo = az.loo(whole)
        assert loo.n_data_points == len(idata.log_likelihood.data_vars)
    summary = az.summary(idata, var_names=["base", "given"])
    assert "base[court_order]" in summary.index
    axes = az.plot_forest(idata, var_names=["base"])
    assert len(axes) == 1
    plt.close("all")
