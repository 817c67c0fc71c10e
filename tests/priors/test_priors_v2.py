"""Prior sets in version 2: states, "C=state" keys, interactions, anchors, POD strengths.

Exact checks: version 1 files give the very arrays of version 1's map
(``from_logits``); every judged cell is reproduced by the ``(a, b)`` it maps
to; a history-anchored and an absence-anchored file that describe the same
parameters map to the same ``(a, b)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plausibly.models.parameters import ParameterPrior
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import (
    bundled_prior_sets,
    load_prior_set,
)
from plausibly.priors.fit import FittedPriors, fit_prior_set

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


V1_SETS = [("ussr_1930", p) for p in sorted(bundled_prior_sets().values())] + [
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
