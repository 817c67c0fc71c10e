"""Which judgements drive an answer: power-scaling sensitivity and rank correlations.

Power-scaling (Kallioinen et al. 2023, arviz ``psens``) asks how much each
POD's plausibility moves when the prior (or the likelihood of history) is
raised to a power near one: above 0.05 the prior is informative for that
answer. Rank correlations between each sampled parameter and the answer
across posterior draws name the judgements that carry its spread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.results import Run

__all__ = ["Driver", "PodSensitivity", "describe_parameter", "sensitivity"]


@dataclass(frozen=True)
class Driver:
    """One parameter's Spearman correlation with a POD's counterfactual plausibility."""

    parameter: str
    correlation: float

    def __str__(self) -> str:
        return describe_parameter(self.parameter)


@dataclass(frozen=True)
class PodSensitivity:
    """Sensitivity of one POD's counterfactual plausibility."""

    pod: str
    mean: float
    prior: float  # power-scaling sensitivity to the prior
    likelihood: float  # ... and to the likelihood of history
    drivers: tuple[Driver, ...]  # strongest first

    @property
    def prior_informative(self) -> bool:
        """Whether the prior visibly shapes the answer (psens > 0.05)."""
        return self.prior > 0.05

    def sentence(self) -> str:
        """The finding in plain words."""
        if not self.drivers:
            return f"the answer for {self.pod} does not depend on any sampled judgement"
        top = self.drivers[0]
        direction = "raises" if top.correlation > 0 else "lowers"
        return (f"the answer for {self.pod} depends most on your judgement of {top} "
                f"(rank correlation {top.correlation:+.2f}: a higher value {direction} it)")


def describe_parameter(name: str) -> str:
    """``a[x]`` -> "x's base chance"; ``g[x|c]`` -> "x given c alone"."""
    if name.startswith("a["):
        return f"{name[2:-1]}'s base chance"
    node, cause = name[2:-1].split("|")
    return f"{node} given {cause}"


def spearman(params: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column of ``params`` (S, P) with ``values`` (S,)."""
    from scipy.stats import rankdata

    # tied draws (NUTS repeats a draw when it rejects) share their average rank
    rp = rankdata(params, axis=0)
    rv = rankdata(values)
    rp -= rp.mean(axis=0)
    rv -= rv.mean()
    denom = np.sqrt((rp**2).sum(axis=0) * (rv**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rp * rv[:, None]).sum(axis=0) / denom, 0.0)


def sensitivity(run: Run, prior: ParameterPrior, top: int = 3) -> list[PodSensitivity]:
    """Power-scaling and driver analysis for every POD of a sampled run."""
    from plausibly.models._arviz import arviz

    az = arviz()

    if run.idata is None:
        return []
    z = run.idata.posterior["z"].values  # (chain, draw, P)
    chains, draws, n_par = z.shape
    a, b = prior.to_ab(z.reshape(-1, n_par))
    net = Network.from_scenario(run.scenario)
    loglik = log_likelihood(net, a, b).reshape(chains, draws)
    logprior = (-0.5 * z**2 - 0.5 * np.log(2 * np.pi)).sum(axis=-1)
    cf = run.draws["plausibility"].sel(query="counterfactual")
    pods = [str(p) for p in cf["pod"].values if str(p) != "history"]
    posterior = xr.Dataset({p: (("chain", "draw"), cf.sel(pod=p).values) for p in pods},
                           coords={"chain": np.arange(chains), "draw": np.arange(draws)})
    idata = az.InferenceData(
        posterior=posterior,
        log_prior=xr.Dataset({"z": (("chain", "draw"), logprior)}),
        log_likelihood=xr.Dataset({"history": (("chain", "draw"), loglik)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant answers give 0/0 inside psens
        to_prior = az.psens(idata, component="prior")
        to_likelihood = az.psens(idata, component="likelihood")
    out = []
    flat_z = z.reshape(-1, n_par)
    for p in pods:
        values = posterior[p].values.ravel()
        rho = spearman(flat_z, values)
        best = np.argsort(-np.abs(rho))[:top]
        drivers = tuple(Driver(prior.names[i], float(rho[i])) for i in best
                        if abs(rho[i]) > 0.05)
        out.append(PodSensitivity(p, float(values.mean()), float(np.nan_to_num(to_prior[p])),
                                  float(np.nan_to_num(to_likelihood[p])), drivers))
    return out
