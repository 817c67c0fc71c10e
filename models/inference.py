"""From a scenario and a parameter prior to posterior plausibility draws, with diagnostics.

One MCMC run per prior set answers every POD: PODs are not evidence, so they
do not change the posterior over parameters; each posterior draw is pushed
through the exact queries of :mod:`plausibly.models.contract` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models._arviz import arviz
from plausibly.models.diagnostics import Diagnostics, diagnose_run
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.queries import answer_pods
from plausibly.models.results import QUERIES, Run
from plausibly.models.sampling import Progress, Sampler
from plausibly.models.scenario import Scenario
from plausibly.models.settings import Settings

__all__ = ["Progress", "estimate", "estimate_many"]




def estimate(scenario: Scenario, prior: ParameterPrior, pods: Sequence[str] | None = None,
             settings: Settings | None = None, progress: Progress | None = None) -> Run:
    """Sample the posterior given history and answer every POD for every draw.

    Parameters
    ----------
    scenario : Scenario
    prior : ParameterPrior
        A prior set's priors on the mechanism, e.g.
        ``plausibly.priors.fit_prior_set(...).parameter_prior(scenario)``.
    pods : sequence of str, optional
        POD ids to answer (all by default). The "history" row is always added.
    settings : Settings, optional
    progress : callable, optional
        Called as ``progress(done, total)`` with sampling iterations, a few
        times a second.

    Returns
    -------
    Run
        With diagnostics; nothing is raised for an unconverged run — the
        caller decides (the CLI exits 3 unless ``--allow-unconverged``).
    """
    return estimate_many(scenario, [prior], pods, settings, progress)[0]


def estimate_many(scenario: Scenario, sets: Sequence[ParameterPrior],
                  pods: Sequence[str] | None = None,
                  settings: Settings | None = None, progress: Progress | None = None,
                  meanwhile: Callable[[], None] | None = None) -> list[Run]:
    """:func:`estimate` for several prior sets at once, one run each.

    Every (set, chain) is one task for the worker pool of
    :class:`plausibly.models.sampling.Sampler`, and each task answers the
    PODs on its own chain's draws, so all cores stay busy until the last
    chain; a set's diagnostics are computed here while later sets still
    sample. A set's numbers are the same as from :func:`estimate` alone.
    ``meanwhile()``, if given, is called once, while the workers sample.
    """
    settings = settings or Settings()
    chosen = [scenario.pod(p) for p in pods] if pods else list(scenario.pods)
    todo = {p.id: p.do for p in chosen}
    net = Network.from_scenario(scenario)
    priors = list(sets)
    sampled = [k for k, prior in enumerate(priors) if prior.free.size]
    runs: dict[int, Run] = {}
    for k in set(range(len(sets))) - set(sampled):  # every parameter fixed: exact
        a, b = priors[k].to_ab(np.zeros((1, 0)))
        pod_ids, plaus, differs = _answers(net, a, b, todo)
        runs[k] = _run(scenario, sets[k], settings, None, a, b, pod_ids, plaus[None],
                       differs[None])

    def after(i: int, z: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        a, b = priors[sampled[i]].to_ab(z)
        return _answers(net, a, b, todo)

    if not sampled:
        if meanwhile is not None:
            meanwhile()
        return [runs[k] for k in range(len(sets))]
    with Sampler(net, [priors[k] for k in sampled], draws=settings.draws, tune=settings.tune,
                 chains=settings.chains, seed=settings.seed, after=after,
                 progress=progress) as sampler:
        if meanwhile is not None:
            meanwhile()  # while the workers sample
        for i, idata, per_chain in sampler.sets():  # a set's diagnostics as it comes back
            k = sampled[i]
            z = idata.posterior["z"].values  # (chain, draw, param)
            a, b = priors[k].to_ab(z.reshape(z.shape[0] * z.shape[1], -1))
            runs[k] = _run(scenario, sets[k], settings, idata, a, b, per_chain[0][0],
                           np.stack([c[1] for c in per_chain]),
                           np.stack([c[2] for c in per_chain]))
    return [runs[k] for k in range(len(sets))]


def _answers(net: Network, a: np.ndarray, b: np.ndarray, todo: dict[str, Any],
             ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """POD ids ("history" first), plausibility (S, pod, query), differs (S, pod, event)."""
    answers = answer_pods(net, a, b, todo)
    pod_ids = list(answers)
    # the headline outcome (several outcomes in the outputs: to do)
    plaus = np.stack([np.stack([answers[p].interventional[:, 0], answers[p].counterfactual[:, 0],
                                answers[p].rewrite], axis=-1) for p in pod_ids], axis=1)
    return pod_ids, plaus, np.stack([answers[p].differs for p in pod_ids], axis=1)


def _run(scenario: Scenario, prior: ParameterPrior, settings: Settings, idata: Any,
         a: np.ndarray, b: np.ndarray, pod_ids: list[str], plaus: np.ndarray,
         differs: np.ndarray) -> Run:
    """A :class:`Run` from the answers per chain: plaus (chain, draw, pod, query)."""
    chains, draws = plaus.shape[:2]
    n, width = b.shape[1:]
    causes = [[*scenario.parents[x], *[""] * (width - len(scenario.parents[x]))]
              for x in scenario.order]
    ds = xr.Dataset(
        {"plausibility": (("chain", "draw", "pod", "query"), plaus),
         "differs": (("chain", "draw", "pod", "event"), differs),
         "a": (("chain", "draw", "event"), a.reshape(chains, draws, n)),
         "b": (("chain", "draw", "event", "cause_slot"), b.reshape(chains, draws, n, width))},
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "pod": pod_ids,
                "query": list(QUERIES), "event": list(scenario.order),
                "cause_slot": np.arange(width), "cause": (("event", "cause_slot"), causes)})
    if idata is None:
        diag = Diagnostics(float("nan"), float("nan"), float("nan"), 0, exact=True)
    else:
        stats = idata.sample_stats
        diag = diagnose_run(idata.posterior["z"].values, plaus,
                            int(stats["diverging"].sum()) if "diverging" in stats else 0)
        idata = _with_probabilities(idata, scenario, a, b, chains, draws)
    return Run(scenario, prior.id, prior.name, ds, diag, settings.seed, idata)


def _with_probabilities(idata: Any, scenario: Scenario, a: np.ndarray, b: np.ndarray,
                        chains: int, draws: int) -> Any:
    """Add the judged quantities, on the probability scale, to the posterior.

    ``base[event]`` = P(event | no cause) and ``given[edge]`` = P(effect |
    that cause alone), ``edge`` named ``"effect|cause"``: what the experts
    judged, so ``az.summary(run.idata, var_names=["base", "given"])`` reads
    in their terms. (The sampler's own coordinates are the standardised
    ``z``.) Returns a new InferenceData.
    """
    from scipy.special import expit

    az = arviz()
    order = list(scenario.order)
    cells = [(i, j, f"{x}|{c}") for i, x in enumerate(order)
             for j, c in enumerate(scenario.parents[x])]
    base = expit(a).reshape(chains, draws, len(order))
    given = np.stack([expit(a[:, i] + b[:, i, j]) for i, j, _ in cells], axis=-1) \
        if cells else np.zeros((chains * draws, 0))
    posterior = idata.posterior.assign(
        base=(("chain", "draw", "event"), base),
        given=(("chain", "draw", "edge"), given.reshape(chains, draws, len(cells))),
    ).assign_coords(event=order, edge=[name for _, _, name in cells])
    groups = {g: idata[g] for g in idata.groups() if g != "posterior"}
    return az.InferenceData(posterior=posterior, **groups)
