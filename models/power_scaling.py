"""How much an answer rests on the prior set, and which judgements go with it.

Two different things, computed from one run:

* prior sensitivity, by power-scaling (Kallioinen et al. 2023, arviz
  ``psens``): how much each POD's posterior plausibility moves when the prior
  (or the likelihood of history) is raised to a power near one, that is made a
  little stronger or weaker. Above 0.05 the prior set visibly shapes the answer.
* association: the rank correlation between each sampled parameter and the
  answer across the posterior draws. It names the judgements whose sampled
  values rise and fall with the answer; it is not the effect of changing one.
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

__all__ = ["ASSOCIATED", "INFORMATIVE", "Driver", "PodSensitivity", "describe_parameter",
           "sensitivity"]

#: Power-scaling sensitivity above which the prior (or the likelihood) visibly shapes an
#: answer (Kallioinen et al. 2023).
INFORMATIVE = 0.05

#: Rank correlation (in absolute value) from which a parameter is named as associated.
ASSOCIATED = 0.05


@dataclass(frozen=True)
class Driver:
    """One parameter's Spearman correlation with a POD's counterfactual plausibility.

    Across the posterior draws: an association, not the effect of the parameter.
    """

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
    drivers: tuple[Driver, ...]  # the parameters most associated with it, strongest first

    @property
    def prior_informative(self) -> bool:
        """Whether the prior visibly shapes the answer (prior sensitivity > 0.05)."""
        return self.prior > INFORMATIVE

    @property
    def likelihood_informative(self) -> bool:
        """Whether history visibly shapes the answer (likelihood sensitivity > 0.05)."""
        return self.likelihood > INFORMATIVE

    def sentence(self) -> str:
        """The finding in plain words: what power-scaling found, then the association."""
        return f"{self.pod}: {self.scaling_words()}. {self.association_words()}."

    def scaling_words(self) -> str:
        """What power-scaling the prior and the likelihood of history did to the answer."""
        p, lik, limit = f"{self.prior:.3f}", f"{self.likelihood:.3f}", INFORMATIVE
        if self.prior_informative and self.likelihood_informative:
            return (f"prior sensitivity {p} and likelihood sensitivity {lik}, both above "
                    f"{limit}: the answer moves when the prior set is made a little stronger "
                    "or weaker, and when history's evidence is, so both shape it")
        if self.prior_informative:
            return (f"prior sensitivity {p}, above {limit}: the answer moves when the prior "
                    "set is made a little stronger or weaker, and barely when history's "
                    f"evidence is (likelihood sensitivity {lik}), so the prior set, not "
                    "history, shapes it")
        if self.likelihood_informative:
            return (f"likelihood sensitivity {lik}, above {limit}: the answer moves when "
                    "history's evidence is made a little stronger or weaker, and barely when "
                    f"the prior set is (prior sensitivity {p}), so history, not the prior "
                    "set, shapes it")
        return (f"prior sensitivity {p} and likelihood sensitivity {lik}, both at most "
                f"{limit}: making the prior set or history's evidence a little stronger or "
                "weaker barely moves the answer")

    def association_words(self) -> str:
        """Which sampled judgement rises and falls with the answer across the draws."""
        if not self.drivers:
            return ("Across the posterior draws no sampled judgement rises or falls with it "
                    f"(every rank correlation within ±{ASSOCIATED})")
        top = self.drivers[0]
        way = "higher" if top.correlation > 0 else "lower"
        return (f"Across the posterior draws it goes most with {top} (rank correlation "
                f"{top.correlation:+.2f}: draws with a higher value tend to give a {way} "
                "answer); an association, not the effect of changing that judgement")


def describe_parameter(name: str) -> str:
    """``a[x]`` -> "x's base chance"; ``g[x|c]`` -> "x given c alone"; other names as they are.

    (Version 2 prior sets name their cells themselves.)
    """
    if name.startswith("a[") and name.endswith("]"):
        return f"{name[2:-1]}'s base chance"
    if name.startswith("g[") and name.endswith("]") and name.count("|") == 1:
        node, cause = name[2:-1].split("|")
        return f"{node} given {cause}"
    return name


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


def sensitivity(run: Run, prior: ParameterPrior, top: int = 3,
                outcome: str | None = None) -> list[PodSensitivity]:
    """Power-scaling sensitivity and the most associated parameters, for every POD of a run.

    Of the counterfactual probability of ``outcome`` (by name; the headline
    outcome by default).
    """
    from plausibly.models._arviz import arviz

    az = arviz()

    if run.groups is None:
        return []
    z = run.groups["posterior"]["z"].values  # (chain, draw, P)
    chains, draws, n_par = z.shape
    a, b = prior.to_ab(z.reshape(-1, n_par))
    net = Network.from_scenario(run.scenario)
    loglik = log_likelihood(net, a, b).reshape(chains, draws)
    logprior = (-0.5 * z**2 - 0.5 * np.log(2 * np.pi)).sum(axis=-1)
    cf = run.draws["plausibility"].sel(query="counterfactual",
                                       outcome=outcome or run.outcomes[0])
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
                        if abs(rho[i]) > ASSOCIATED)
        out.append(PodSensitivity(p, float(values.mean()), float(np.nan_to_num(to_prior[p])),
                                  float(np.nan_to_num(to_likelihood[p])), drivers))
    return out
