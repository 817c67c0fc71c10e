"""The one place that builds PyMC: scenario + fitted priors -> ``pm.Model``; sampling.

Parameters are non-centred: every free logit is ``mu + sigma * z`` with
``z ~ Normal(0, 1)``. History enters once, as the exact log-likelihood of the
factual network (:func:`plausibly.models.contract.log_likelihood` written in
PyTensor), plus binomial terms for reference-class data. Fixed (lone-number)
parameters are constants. The prior hyperparameters are ``pm.Data``, so one
compiled sampler serves every prior set with the same fixed/free pattern.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from plausibly.models.contract import Network, log_likelihood
from plausibly.models.errors import Problem, SamplingError

__all__ = ["ParameterLayout", "build_model", "parameter_layout", "sample_posterior"]


@dataclass(frozen=True)
class ParameterLayout:
    """Where each logit lives in the flat vector ``[a (N), g (N*K)]``.

    ``free`` indexes the positions that are sampled; all others are fixed at
    ``mu`` (judged lone numbers and the padding of nodes with fewer causes).
    """

    n: int
    width: int
    mu: np.ndarray  # (N + N*K,)
    sigma: np.ndarray  # (N + N*K,), 0 where fixed
    mask: np.ndarray  # (N, K), 1 for a real cause
    free: np.ndarray  # int positions of sampled logits
    names: tuple[str, ...]  # a name per free position, e.g. "a[x]" / "g[x|c]"

    def to_ab(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map standardised draws ``z`` (S, n_free) to ``a`` (S, N) and ``b`` (S, N, K)."""
        z = np.atleast_2d(z)
        flat = np.broadcast_to(self.mu, (z.shape[0], self.mu.size)).copy()
        flat[:, self.free] += self.sigma[self.free] * z
        a = flat[:, : self.n]
        g = flat[:, self.n:].reshape(-1, self.n, self.width)
        return a, (g - a[:, :, None]) * self.mask


def parameter_layout(hyper: Mapping[str, np.ndarray], order: tuple[str, ...],
                     parents: Mapping[str, tuple[str, ...]]) -> ParameterLayout:
    """Lay out the hyperparameters of :meth:`FittedPriors.arrays` as a flat vector."""
    n, width = hyper["mu_g"].shape
    mu = np.concatenate([hyper["mu_a"], hyper["mu_g"].ravel()])
    sigma = np.concatenate([hyper["sd_a"], (hyper["sd_g"] * hyper["mask"]).ravel()])
    free = np.flatnonzero(sigma > 0)
    names = [f"a[{x}]" for x in order]
    names += [f"g[{x}|{parents[x][j]}]" if j < len(parents[x]) else f"pad[{x}|{j}]"
              for x in order for j in range(width)]
    return ParameterLayout(n, width, mu, sigma, hyper["mask"], free,
                           tuple(names[i] for i in free))


def build_model(net: Network, layout: ParameterLayout) -> Any:
    """The PyMC model of ``net`` conditioned on its history."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"param": list(layout.names)}
    with pm.Model(coords=coords) as model:
        mu = pm.Data("mu", layout.mu)
        sigma = pm.Data("sigma_free", layout.sigma[layout.free])
        z = pm.Normal("z", 0.0, 1.0, dims="param")
        flat = pt.set_subtensor(mu[layout.free], mu[layout.free] + sigma * z)
        a = flat[: layout.n]
        g = flat[layout.n:].reshape((layout.n, layout.width))
        b = (g - a[:, None]) * layout.mask
        pm.Potential("history", log_likelihood(net, a[None, :], b[None, :, :], xp=pt)[0])
    return model


#: compiled models and NUTS steps, per network and fixed/free pattern (one per process)
_COMPILED: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _compiled(net: Network, layout: ParameterLayout) -> tuple[Any, Any]:
    """The model and its NUTS step, compiled once and reused for new hyperparameters."""
    import pymc as pm

    key = (net.nodes, net.parents, net.history, net.data, layout.width,
           tuple(layout.free.tolist()))
    if key not in _COMPILED:
        model = build_model(net, layout)
        with model:
            step = pm.NUTS()
        _COMPILED[key] = (model, step)
    return _COMPILED[key]


def sample_posterior(net: Network, layout: ParameterLayout, *, draws: int, tune: int,
                     chains: int, seed: int, progress: bool) -> Any:
    """Sample with PyMC's NUTS; return InferenceData with ``z`` in the posterior.

    The model is compiled once per process for each network and fixed/free
    pattern; a new prior set only swaps the ``pm.Data`` hyperparameters.
    The chains run on up to two cores (PyMC seeds each chain, so the draws
    are the same as sequential ones), and they do not depend on what was
    sampled before in the process (the step's tuning is reset).
    """
    import pymc as pm

    if layout.free.size == 0:
        raise SamplingError(problems=[Problem(net.name, "", "every parameter is fixed",
                                              "nothing to sample: use the exact answer")])
    model, step = _compiled(net, layout)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        pm.set_data({"mu": layout.mu, "sigma_free": layout.sigma[layout.free]})
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2), step=step,
                          random_seed=seed, progressbar=progress,
                          compute_convergence_checks=False, idata_kwargs={"log_likelihood": False})
    return idata
