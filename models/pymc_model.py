"""The one place that builds PyMC: a network and a parameter prior -> ``pm.Model``.

History enters once, as the exact log-likelihood of the factual network
(:func:`plausibly.models.likelihood.log_likelihood` written in PyTensor).
Fixed (lone-number) parameters are constants. The prior hyperparameters are
``pm.Data``, so one compiled sampler serves every prior set with the same
fixed/free pattern.
"""

from __future__ import annotations

import warnings
from typing import Any

from plausibly.models._arviz import arviz
from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior

__all__ = ["build_model", "compiled", "jax_log_density"]


def build_model(net: Network, prior: ParameterPrior) -> Any:
    """The PyMC model of ``net`` conditioned on its history."""
    arviz()  # PyMC imports arviz: first here, without its FutureWarning
    import pymc as pm
    import pytensor.tensor as pt

    # named dims: the prior's hyperparameters land in constant_data as mu[cell]
    # and sigma_free[param], not as ArviZ's anonymous mu_dim_0
    coords = {"param": list(prior.names), "cell": list(prior.cells)}
    with pm.Model(coords=coords) as model:
        mu = pm.Data("mu", prior.mu, dims="cell")
        sigma = pm.Data("sigma_free", prior.sigma[prior.free], dims="param")
        z = pm.Normal("z", 0.0, 1.0, dims="param")
        flat = pt.set_subtensor(mu[prior.free], mu[prior.free] + sigma * z)
        a, b = prior.natural(flat, pt)
        pm.Potential("history", log_likelihood(net, a[None], b[None], xp=pt)[0])
    return model


#: compiled models, NUTS steps and the steps' fresh sampling state, per network
#: and fixed/free pattern (one per process; forked workers inherit them)
_COMPILED: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}


def compiled(net: Network, prior: ParameterPrior) -> tuple[Any, Any, Any]:
    """The model, its NUTS step and the step's untouched state, compiled once."""
    arviz()  # PyMC imports arviz: first here, without its FutureWarning
    import pymc as pm

    key = _key(net, prior)
    if key not in _COMPILED:
        model = build_model(net, prior)
        with model, warnings.catch_warnings():
            # PyTensor looks for a BLAS library the first time a rewrite asks
            # and warns when pip's wheels have none to link; this model's
            # products are a few dozen numbers, so the warning is only noise
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS",
                                    category=UserWarning)
            step = pm.NUTS()
        _COMPILED[key] = (model, step, step.sampling_state)
    return _COMPILED[key]


def _key(net: Network, prior: ParameterPrior) -> tuple[Any, ...]:
    return (net, prior.structure)


def jax_log_density(net: Network, prior: ParameterPrior) -> Any:
    """The model's log density as a JAX function ``f(z, mu, sigma_free) -> scalar``.

    The graph is PyMC's own (:func:`build_model`: the standard-normal prior of
    ``z`` plus the likelihood of history), with the prior set's
    hyperparameters turned from ``pm.Data`` into inputs, so one function (and
    one compiled program) serves every prior set with the same fixed/free
    pattern. PyTensor's JAX backend converts it.
    """
    arviz()  # PyMC imports arviz: first here, without its FutureWarning
    import pytensor.tensor as pt
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.graph.replace import graph_replace

    model = build_model(net, prior)
    z = model.rvs_to_values[model["z"]]
    mu, sigma = pt.dvector("mu"), pt.dvector("sigma_free")
    (logp,) = graph_replace([model.logp()], {model["mu"]: mu, model["sigma_free"]: sigma},
                            strict=True)
    graph = get_jaxified_graph(inputs=[z, mu, sigma], outputs=[logp])

    def log_density(z: Any, mu: Any, sigma: Any) -> Any:
        return graph(z, mu, sigma)[0]

    return log_density
