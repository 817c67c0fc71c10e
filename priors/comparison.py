"""Compare prior sets on one scenario: a run per set, and the pool of them.

Linear pool: a mixture of the sets' posteriors; its draws are a seeded,
weight-proportional subsample of the sets' draws. Three weightings are
computed every time and the linear pool is shown under each, side by side
(see :data:`WEIGHTINGS`): equal, from history (prior weight times marginal
likelihood of history, see :mod:`plausibly.priors.pool`) and stacking
(leave-one-event-out predictive densities). ``--weights`` chooses the one
that ranks. Log pool: one more run with the pooled prior.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, UsageError
from plausibly.models.inference import Alongside, Progress, estimate, estimate_many
from plausibly.models.network import Network
from plausibly.models.ranking import RankUncertainty, rank_uncertainty, score_draws
from plausibly.models.results import (
    NO_POD_CHANCE,
    PodResult,
    Run,
    by_outcome,
    csv_rows,
    rank,
    results_json,
)
from plausibly.models.scenario import Scenario
from plausibly.models.settings import HDI_PROB, Settings
from plausibly.priors.elicitation import POOL_IDS
from plausibly.priors.fit import FittedPriors
from plausibly.priors.pool import (
    Evidence,
    Stacking,
    log_pool,
    marginal_likelihood,
    pointwise_loo,
    posterior_weights,
    stacking_weights,
)
from plausibly.priors.request import WEIGHTINGS, check_ids, check_request  # re-exported

__all__ = ["WEIGHTINGS", "Comparison", "OutcomeSummaries", "RankedSummaries", "check_request",
           "compare", "mixture_draws", "set_stacking"]

LINEAR_POOL, LOG_POOL = POOL_IDS

@dataclass(frozen=True)
class Comparison:
    """Runs per prior set, the pooled draws, and each set's weights.

    ``pooled`` is the pool under the chosen ``weighting``; ``pools`` the
    linear pool under every weighting of :data:`WEIGHTINGS` (for a log pool,
    the chosen one only: each more would be another run). ``stacking`` is
    ``None`` when it could not be computed (a run without its mechanism).
    ``rank_by`` is what PODs are ranked by (``"counterfactual"`` or ``"route"``).
    """

    scenario: Scenario
    runs: tuple[Run, ...]
    pool: str  # "linear" or "log"
    pooled: Run
    prior_weights: np.ndarray
    evidence: tuple[Evidence, ...]
    posterior_weights: np.ndarray
    posterior_weights_se: np.ndarray
    stacking: Stacking | None = None
    weighting: str = "history"
    pools: tuple[tuple[str, Run], ...] = ()
    rank_by: str = "counterfactual"
    #: summaries already made, per (hdi_prob, outcomes): the table and the JSON share them
    _summaries: dict[tuple[float, tuple[str, ...] | None], RankedSummaries] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_ids([r.priors for r in self.runs])
        if self.pooled.priors not in POOL_IDS:
            raise ValueError(f"the pool's id must be one of {POOL_IDS}, got {self.pooled.priors!r}")

    @property
    def diagnostics(self) -> dict[str, Diagnostics]:
        """Convergence of every set's run by its id, then the log pool's own run by its id.

        The keys never collide: no prior set may take a pool's id (see
        :data:`~plausibly.priors.elicitation.POOL_IDS`).
        """
        out = {r.priors: r.diagnostics for r in self.runs}
        if self.pool == "log":
            out[self.pooled.priors] = self.pooled.diagnostics
        return out

    @property
    def converged(self) -> bool:
        """Whether every run converged (or was exact): each set's and the log pool's own."""
        runs = [*self.runs, self.pooled] if self.pool == "log" else self.runs
        return all(r.diagnostics.converged for r in runs)

    @property
    def has_pod_chance(self) -> bool:
        """Whether every run holds the POD chance (runs saved before it existed do not)."""
        return all("pod_chance" in r.draws for r in (*self.runs, self.pooled))

    def weights_of(self, weighting: str) -> np.ndarray | None:
        """The sets' weights under a weighting of :data:`WEIGHTINGS` (None: not computed)."""
        if weighting == "equal":
            return np.full(len(self.runs), 1.0 / len(self.runs))
        if weighting == "history":
            return self.posterior_weights
        if weighting == "stacking":
            return None if self.stacking is None else self.stacking.weights
        raise ValueError(f"weighting must be one of {tuple(WEIGHTINGS)}, got {weighting!r}")

    def summarize(self, hdi_prob: float = HDI_PROB,
                  outcomes: Sequence[str] | None = None) -> RankedSummaries:
        """Summaries of every set and of the pool, per outcome, ranked by the pool.

        ``outcomes`` restricts (and orders) the outcomes; all by default, the
        headline first. Each outcome carries its rank uncertainty: per set
        across its draws, and for the pool across its (mixture) draws.
        """
        key = (hdi_prob, None if outcomes is None else tuple(outcomes))
        if key not in self._summaries:
            self._summaries[key] = self._summarize(hdi_prob, outcomes)
        return self._summaries[key]

    def _summarize(self, hdi_prob: float, outcomes: Sequence[str] | None) -> RankedSummaries:
        per_set = {r.priors: by_outcome(r.summarize(hdi_prob, outcomes)) for r in self.runs}
        pooled = by_outcome(self.pooled.summarize(hdi_prob, outcomes))
        out = {}
        for name, rows in pooled.items():
            ranked, apart = rank(rows, by=self.rank_by)
            pods = [rows[k].pod for k in ranked[1:]]
            uncertainty = {r.priors: rank_uncertainty(
                pods, score_draws(r.draws, pods, name, self.rank_by), hdi_prob)
                for r in (*self.runs, self.pooled)}
            out[name] = OutcomeSummaries(name, {k: v[name] for k, v in per_set.items()}, rows,
                                         ranked, apart, uncertainty, self.pooled.priors)
        return RankedSummaries(out)

    def weights_json(self) -> dict[str, dict[str, Any]]:
        """Per set: its weights under every weighting, and what they rest on.

        Prior, equal, history-based (posterior, with its SE) and stacking
        weight; log evidence (with its SE) and the leave-one-event-out ELPD
        (with its SE and whether PSIS warned). Stacking figures are null
        when not computed.
        """
        st = self.stacking
        out: dict[str, dict[str, Any]] = {}
        for k, (e, w, p, se) in enumerate(zip(self.evidence, self.prior_weights,
                                               self.posterior_weights,
                                               self.posterior_weights_se, strict=True)):
            out[e.priors] = {
                "prior": round(float(w), 6), "equal": round(1.0 / len(self.runs), 6),
                "posterior": round(float(p), 6), "posterior_se": round(float(se), 6),
                "stacking": None if st is None else round(float(st.weights[k]), 6),
                "log_evidence": round(e.log_z, 6), "log_evidence_se": round(e.se_log_z, 6),
                "elpd_loo": None if st is None else round(float(st.elpd_loo[k]), 6),
                "elpd_loo_se": None if st is None else round(float(st.elpd_loo_se[k]), 6),
                "loo_warning": None if st is None else st.pareto_warning[k]}
        return out

    def pools_summaries(self, hdi_prob: float = HDI_PROB,
                        outcomes: Sequence[str] | None = None
                        ) -> dict[str, dict[str, list[PodResult]]]:
        """Per weighting (of those pooled): the pool's results per outcome."""
        out = {}
        for weighting, run in self.pools:
            out[weighting] = by_outcome(run.summarize(hdi_prob, outcomes))
        return out

    def pools_json(self, hdi_prob: float = HDI_PROB,
                   outcomes: Sequence[str] | None = None) -> dict[str, Any]:
        """The pools side by side, one per weighting.

        Each with its meaning, the sets' weights, and per outcome each POD's
        pooled counterfactual and route with its probability of ranking first.
        """
        out: dict[str, Any] = {}
        for weighting, rows in self.pools_summaries(hdi_prob, outcomes).items():
            run = dict(self.pools)[weighting]
            w = self.weights_of(weighting)
            per: dict[str, Any] = {}
            for name, results in rows.items():
                ranked, _ = rank(results, by=self.rank_by)
                pods = [results[k].pod for k in ranked[1:]]
                u = rank_uncertainty(pods, score_draws(run.draws, pods, name, self.rank_by),
                                     hdi_prob)
                per[name] = {r.pod: {
                    "counterfactual": r.counterfactual.to_dict(),
                    "route": None if r.route is None else r.route.to_dict(),
                    "p_first": (round(float(u.p_first[pods.index(r.pod)]), 6)
                                if r.pod in pods else None)} for r in results}
            out[weighting] = {
                "meaning": WEIGHTINGS[weighting],
                "weights": None if w is None else {
                    r.priors: round(float(x), 6) for r, x in zip(self.runs, w, strict=True)},
                "outcomes": per}
        return out

    def to_dict(self, hdi_prob: float = HDI_PROB,
                outcomes: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``--format json`` object of ``plausibly compare`` (DESIGN.md)."""
        ranked = self.summarize(hdi_prob, outcomes)
        extra: dict[str, Any] = {}
        if not self.has_pod_chance:
            extra["note"] = NO_POD_CHANCE
        return results_json(self.scenario, hdi_prob, ranked.results(), self.diagnostics,
                            pool=self.pool, weighting=self.weighting, rank_by=self.rank_by,
                            weightings=dict(WEIGHTINGS), weights=self.weights_json(),
                            pools=self.pools_json(hdi_prob, outcomes),
                            ranking=ranked.ranking_json(self.scenario), **extra)


@dataclass(frozen=True)
class OutcomeSummaries:
    """One outcome's summaries: per set, the pool, and the pool's ranking of the PODs.

    ``order`` holds row indices: the "history" baseline, then the PODs in
    scope by pooled mean (of the counterfactual or the route); ``apart``
    the PODs out of scope (never ranked). See
    :func:`plausibly.models.results.rank`. ``uncertainty`` holds the rank
    uncertainty of the ranked PODs per prior set and for the pool (keyed
    ``pool``).
    """

    outcome: str
    per_set: dict[str, list[PodResult]]
    pooled: list[PodResult]
    order: tuple[int, ...]
    apart: tuple[int, ...] = ()
    uncertainty: dict[str, RankUncertainty] = field(default_factory=dict)
    pool: str = LINEAR_POOL

    @property
    def pool_uncertainty(self) -> RankUncertainty | None:
        """The rank uncertainty across the pool's draws."""
        return self.uncertainty.get(self.pool)

    def ranking_json(self, scenario: Scenario) -> dict[str, Any]:
        """The outcome's ``ranking`` for JSON.

        The PODs in order, each with its probability of ranking first and its
        rank interval under the pool and per set; then the PODs out of scope
        with the posts that put them there.
        """
        pods = []
        for pod in self.ranking:
            entry: dict[str, Any] = {"pod": pod}
            for key, u in self.uncertainty.items():
                p, hdi, indistinct = u.of(pod)
                if key == self.pool:
                    entry.update(p_first=round(p, 6), rank_hdi=list(hdi),
                                 distinct=not indistinct)
                else:
                    entry.setdefault("per_set", {})[key] = {"p_first": round(p, 6),
                                                            "rank_hdi": list(hdi)}
            pods.append(entry)
        apart = []
        for k in self.apart:
            out = scenario.pod(self.pooled[k].pod)
            apart.append({"pod": out.id, "label": out.label, "by": list(out.by),
                          "why": out.why})
        return {"pods": pods, "out_of_scope": apart}

    @property
    def ranking(self) -> tuple[str, ...]:
        """POD ids in scope, most plausible under the pool first (the baseline left out)."""
        return tuple(self.pooled[k].pod for k in self.order[1:])

    def results(self) -> list[PodResult]:
        """Every (row, set) result in ranked order, each row's sets then the pool; then apart."""
        return [rows[k] for k in (*self.order, *self.apart)
                for rows in [*self.per_set.values(), self.pooled]]


@dataclass(frozen=True)
class RankedSummaries:
    """Summaries of a comparison per outcome (the headline first).

    ``per_set``, ``pooled``, ``order`` and ``apart`` are the headline's (the
    first outcome asked for).
    """

    outcomes: dict[str, OutcomeSummaries]

    @property
    def headline(self) -> OutcomeSummaries:
        """The first outcome's summaries."""
        return next(iter(self.outcomes.values()))

    @property
    def per_set(self) -> dict[str, list[PodResult]]:
        """The headline's per-set rows."""
        return self.headline.per_set

    @property
    def pooled(self) -> list[PodResult]:
        """The headline's pooled rows."""
        return self.headline.pooled

    @property
    def order(self) -> tuple[int, ...]:
        """The headline's ranking as row indices (the baseline first)."""
        return self.headline.order

    @property
    def ranking(self) -> dict[str, list[str]]:
        """Per outcome: the POD ids in scope, most plausible under the pool first."""
        return {name: list(o.ranking) for name, o in self.outcomes.items()}

    def ranking_json(self, scenario: Scenario) -> dict[str, Any]:
        """Per outcome: :meth:`OutcomeSummaries.ranking_json`."""
        return {name: o.ranking_json(scenario) for name, o in self.outcomes.items()}

    def results(self) -> list[PodResult]:
        """Every result, outcome by outcome, each in ranked order."""
        return [r for o in self.outcomes.values() for r in o.results()]

    def csv_rows(self) -> list[tuple[Any, ...]]:
        """Rows for ``--format csv``."""
        return csv_rows(self.results())


def mixture_draws(runs: Sequence[Run], weights: np.ndarray, seed: int) -> xr.Dataset:
    """A linear-pool sample: from each run, a share of draws proportional to its weight.

    The pooled sample has as many draws as the shortest sampled run (flattened
    into one chain); shares are rounded by largest remainder, and draws are
    picked without replacement by a generator seeded with ``seed``. An exact
    run (every parameter fixed: one draw) is a point mass, repeated as often
    as its share asks.
    """
    rng = np.random.default_rng(seed)
    flat = [r.draws.stack(sample=("chain", "draw")) for r in runs]
    sizes = [int(f.sizes["sample"]) for f in flat]
    sampled = [n for r, n in zip(runs, sizes, strict=True) if not r.diagnostics.exact]
    total = min(sampled) if sampled else min(sizes)
    exact = weights * total
    counts = np.floor(exact).astype(int)
    for k in np.argsort(-(exact - counts))[: total - counts.sum()]:
        counts[k] += 1
    parts = []
    for f, size, n in zip(flat, sizes, counts, strict=True):
        if n:
            pick = np.sort(rng.choice(size, size=n, replace=n > size))
            parts.append(f.isel(sample=pick).drop_vars(["sample", "chain", "draw"]))
    pooled = xr.concat(parts, dim="sample")
    pooled = pooled.rename({"sample": "draw"}).expand_dims(chain=[0])
    pooled = pooled.assign_coords(draw=np.arange(pooled.sizes["draw"]))
    return pooled.transpose("chain", "draw", ...)


def set_stacking(runs: Sequence[Run]) -> Stacking | None:
    """The sets' stacking weights from their runs' pointwise log-likelihood.

    See :func:`plausibly.priors.pool.stacking_weights`; None if a run has no
    mechanism (``a``, ``b``) to compute it from.
    """
    from plausibly.models.store import history_groups

    loos = {}
    for r in runs:
        groups = history_groups(r)
        if "log_likelihood" not in groups:
            return None
        posterior = None if r.groups is None else r.groups["posterior"]
        loos[r.priors] = pointwise_loo(groups["log_likelihood"], posterior)
    return stacking_weights(loos)


def compare(scenario: Scenario, sets: Sequence[FittedPriors], *, pool: str = "linear",
            weights: Sequence[float] | None = None, extremize: float = 1.0,
            pods: Sequence[str] | None = None, settings: Settings | None = None,
            evidence_draws: int = 20_000,
            progress: Progress | None = None, weighting: str = "history",
            rank_by: str = "counterfactual") -> Comparison:
    """Run every prior set (all at once, on every core) and pool them.

    Parameters
    ----------
    weighting : str
        Which weights pool the sets (:data:`WEIGHTINGS`): ``"history"`` (the
        default), ``"equal"`` or ``"stacking"``. For the log pool, which
        conditions the pooled prior on history itself, ``"history"`` pools
        with the prior weights (``--weight``, equal by default).
    rank_by : str
        ``"counterfactual"`` (the default) or ``"route"``.
    progress : callable, optional
        Called as ``progress(done, total)`` with sampling iterations; the log
        pool's own run, after the sets', counts from 0 again.
    """
    from plausibly.priors.pool import check_poolable, normalise_weights

    check_ids([f.priors for f in sets])  # before any sampling
    settings = settings or Settings()
    check_request(pool, len(sets), weights, extremize, weighting, rank_by)  # before any work
    if pool == "log":
        check_poolable(sets)  # before any sampling
    w = normalise_weights(weights, len(sets))
    net = Network.from_scenario(scenario)
    # the evidence needs no posterior draws: computed while the sampler starts
    weigh = Alongside([functools.partial(marginal_likelihood, f, scenario, net,
                                         draws=evidence_draws, seed=settings.seed)
                       for f in sets])
    runs = estimate_many(scenario, [f.parameter_prior(scenario) for f in sets], pods, settings,
                         progress, alongside=weigh, pointwise=True)  # for set_stacking
    evidence: tuple[Evidence, ...] = tuple(weigh.results)
    post, se = posterior_weights(evidence, w)
    stacking = set_stacking(runs)
    chosen = {"equal": np.full(len(sets), 1.0 / len(sets)), "history": post,
              "stacking": None if stacking is None else stacking.weights}
    if chosen[weighting] is None:
        raise UsageError(problems=[Problem("--weights", "", "stacking weights need each "
                                           "run's draws of the mechanism", "use history")])
    pools: list[tuple[str, Run]] = []
    if pool == "log":
        w_log = w if weighting == "history" else chosen[weighting]
        pooled = estimate(scenario, log_pool(sets, w_log, extremize, pool_id=LOG_POOL)
                          .parameter_prior(scenario), pods, settings, progress)
        pools.append((weighting, pooled))
    else:
        diag = runs[0].diagnostics
        worst = Diagnostics(max(r.diagnostics.r_hat_max for r in runs),
                            min(r.diagnostics.ess_bulk_min for r in runs),
                            min(r.diagnostics.ess_tail_min for r in runs),
                            sum(r.diagnostics.divergences for r in runs),
                            all(r.diagnostics.exact for r in runs)) if runs else diag
        for name, weights_k in chosen.items():
            if weights_k is None:
                continue
            pools.append((name, Run(scenario, LINEAR_POOL, "linear pool of " + " + ".join(
                f.priors for f in sets), mixture_draws(runs, weights_k, settings.seed), worst,
                settings.seed)))
        pooled = dict(pools)[weighting]
    return Comparison(scenario, tuple(runs), pool, pooled, w, evidence, post, se, stacking,
                      weighting, tuple(pools), rank_by)
