"""Compare prior sets on one scenario: a run per set, and the pool of them.

Linear pool: a mixture of the sets' posteriors with weights proportional to
prior weight times marginal likelihood of history (see
:mod:`plausibly.priors.pool`); its draws are a seeded, weight-proportional
subsample of the sets' draws. Log pool: one more run with the pooled prior.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, UsageError
from plausibly.models.inference import Progress, estimate, estimate_many
from plausibly.models.network import Network
from plausibly.models.results import PodResult, Run, by_outcome, csv_rows, rank, results_json
from plausibly.models.scenario import Scenario
from plausibly.models.settings import HDI_PROB, Settings
from plausibly.priors.elicitation import POOL_IDS
from plausibly.priors.fit import FittedPriors
from plausibly.priors.pool import Evidence, log_pool, marginal_likelihood, posterior_weights

__all__ = ["Comparison", "OutcomeSummaries", "RankedSummaries", "check_request", "compare",
           "mixture_draws"]

LINEAR_POOL, LOG_POOL = POOL_IDS


def _check_ids(ids: Sequence[str]) -> None:
    """Refuse prior-set ids that are repeated or taken by a pool: keys must not collide.

    Results, diagnostics and weights are keyed by prior-set id, and the pool's
    by its own id; a set with the pool's id would have its diagnostics
    replaced by the pool's (and an unconverged run pass the exit-3 gate).
    """
    problems = [Problem(pid, "id", f"the id '{pid}' is reserved for the pool of prior sets",
                        "give this prior set another id") for pid in dict.fromkeys(ids)
                if pid in POOL_IDS]
    problems += [Problem(pid, "id", f"two prior sets have the id '{pid}'",
                         "give each prior set its own id")
                 for pid in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise UsageError(problems=problems)


@dataclass(frozen=True)
class Comparison:
    """Runs per prior set, the pooled draws, and each set's weight from history."""

    scenario: Scenario
    runs: tuple[Run, ...]
    pool: str  # "linear" or "log"
    pooled: Run
    prior_weights: np.ndarray
    evidence: tuple[Evidence, ...]
    posterior_weights: np.ndarray
    posterior_weights_se: np.ndarray

    def __post_init__(self) -> None:
        _check_ids([r.priors for r in self.runs])
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

    def summarize(self, hdi_prob: float = HDI_PROB,
                  outcomes: Sequence[str] | None = None) -> RankedSummaries:
        """Summaries of every set and of the pool, per outcome, ranked by the pool.

        ``outcomes`` restricts (and orders) the outcomes; all by default, the
        headline first.
        """
        per_set = {r.priors: by_outcome(r.summarize(hdi_prob, outcomes)) for r in self.runs}
        pooled = by_outcome(self.pooled.summarize(hdi_prob, outcomes))
        out = {}
        for name, rows in pooled.items():
            ranked, apart = rank(rows)
            out[name] = OutcomeSummaries(name, {k: v[name] for k, v in per_set.items()}, rows,
                                         ranked, apart)
        return RankedSummaries(out)

    def weights_json(self) -> dict[str, dict[str, float]]:
        """Per set: prior and posterior weight (with its SE), log evidence (with its SE)."""
        return {e.priors: {"prior": round(float(w), 6), "posterior": round(float(p), 6),
                           "posterior_se": round(float(se), 6),
                           "log_evidence": round(e.log_z, 6),
                           "log_evidence_se": round(e.se_log_z, 6)}
                for e, w, p, se in zip(self.evidence, self.prior_weights,
                                       self.posterior_weights, self.posterior_weights_se,
                                       strict=True)}

    def to_dict(self, hdi_prob: float = HDI_PROB,
                outcomes: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``--format json`` object of ``plausibly compare`` (DESIGN.md)."""
        ranked = self.summarize(hdi_prob, outcomes)
        return results_json(self.scenario, hdi_prob, ranked.results(), self.diagnostics,
                            pool=self.pool, weights=self.weights_json(),
                            ranking=ranked.ranking)


@dataclass(frozen=True)
class OutcomeSummaries:
    """One outcome's summaries: per set, the pool, and the pool's ranking of the PODs.

    ``order`` holds row indices: the "history" baseline, then the PODs in
    scope by pooled counterfactual mean; ``apart`` the PODs out of scope
    (never ranked). See :func:`plausibly.models.results.rank`.
    """

    outcome: str
    per_set: dict[str, list[PodResult]]
    pooled: list[PodResult]
    order: tuple[int, ...]
    apart: tuple[int, ...] = ()

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


#: the pooling rules
POOLS = ("linear", "log")


def check_request(pool: str, sets: int, weights: Sequence[float] | None = None,
                  extremize: float = 1.0) -> None:
    """Refuse a comparison that cannot be done as asked, before any work (exit 2).

    Every problem at once: an unknown pool, a count of ``--weight`` that is
    not one per prior set, an ``--extremize`` that is not a finite number
    above 0 or that is given for the linear pool, which it does not touch.
    (Before, a bad ``--extremize`` was found only after every set had been
    sampled.)
    """
    problems = []
    if pool not in POOLS:
        problems.append(Problem("--pool", "", f"unknown pool {pool!r}", "use linear or log"))
    if weights is not None and len(weights) not in (0, sets):
        problems.append(Problem(
            "--weight", "", f"{len(weights)} weight{'s' if len(weights) != 1 else ''} for "
            f"{sets} prior set{'s' if sets != 1 else ''}",
            "give one --weight per -p, in the same order, or none"))
    if not (extremize > 0 and math.isfinite(extremize)):
        problems.append(Problem("--extremize", "", f"must be a finite number above 0, got "
                                f"{extremize:g}", "use 1 for none, or a value such as 1.5"))
    elif extremize != 1.0 and pool != "log":
        problems.append(Problem("--extremize", "", f"{extremize:g} applies to the log pool "
                                f"only (it scales the pooled log-odds), and the pool is {pool}",
                                "add --pool log, or leave --extremize out"))
    if problems:
        raise UsageError(problems=problems)


def compare(scenario: Scenario, sets: Sequence[FittedPriors], *, pool: str = "linear",
            weights: Sequence[float] | None = None, extremize: float = 1.0,
            pods: Sequence[str] | None = None, settings: Settings | None = None,
            evidence_draws: int = 20_000,
            progress: Progress | None = None) -> Comparison:
    """Run every prior set (all at once, on every core) and pool them.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total)`` with sampling iterations; the log
        pool's own run, after the sets', counts from 0 again.
    """
    from plausibly.priors.pool import check_poolable, normalise_weights

    _check_ids([f.priors for f in sets])  # before any sampling
    settings = settings or Settings()
    check_request(pool, len(sets), weights, extremize)  # before any work
    if pool == "log":
        check_poolable(sets)  # before any sampling
    w = normalise_weights(weights, len(sets))
    net = Network.from_scenario(scenario)
    weighed: list[Evidence] = []

    def weigh() -> None:  # needs no posterior draws: done while the chains sample
        weighed.extend(marginal_likelihood(f, scenario, net, draws=evidence_draws,
                                           seed=settings.seed)
                       for f in sets)

    runs = estimate_many(scenario, [f.parameter_prior(scenario) for f in sets], pods, settings,
                         progress, meanwhile=weigh)
    evidence = tuple(weighed)
    post, se = posterior_weights(evidence, w)
    if pool == "log":
        pooled = estimate(scenario, log_pool(sets, w, extremize, pool_id=LOG_POOL)
                          .parameter_prior(scenario), pods, settings, progress)
    else:
        draws = mixture_draws(runs, post, settings.seed)
        diag = runs[0].diagnostics
        worst = Diagnostics(max(r.diagnostics.r_hat_max for r in runs),
                            min(r.diagnostics.ess_bulk_min for r in runs),
                            min(r.diagnostics.ess_tail_min for r in runs),
                            sum(r.diagnostics.divergences for r in runs),
                            all(r.diagnostics.exact for r in runs)) if runs else diag
        pooled = Run(scenario, LINEAR_POOL, "linear pool of " + " + ".join(
            f.priors for f in sets), draws, worst, settings.seed)
    return Comparison(scenario, tuple(runs), pool, pooled, w, evidence, post, se)
