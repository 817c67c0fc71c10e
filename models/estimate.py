"""From a scenario and fitted priors to posterior plausibility draws, with diagnostics.

One MCMC run per prior set answers every POD: PODs are not evidence, so they
do not change the posterior over parameters; each posterior draw is pushed
through the exact queries of :mod:`plausibly.models.contract` at once.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models import defaults
from plausibly.models.contract import Network, answer_pods
from plausibly.models.scenario import Scenario

__all__ = [
    "QUERIES",
    "Diagnostics",
    "Run",
    "Settings",
    "Summary",
    "estimate",
    "estimate_many",
    "summarize",
]

QUERIES = ("interventional", "counterfactual", "rewrite")


@dataclass(frozen=True)
class Settings:
    """Sampling settings; the same settings and seed give the same numbers."""

    draws: int = defaults.DRAWS
    tune: int = defaults.TUNE
    chains: int = defaults.CHAINS
    seed: int = defaults.SEED


@dataclass(frozen=True)
class Diagnostics:
    """Convergence of one run; ``exact`` when every parameter was fixed."""

    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    exact: bool = False

    R_HAT_MAX = 1.01
    ESS_MIN = 400

    @property
    def converged(self) -> bool:
        """R-hat <= 1.01, bulk and tail ESS >= 400 and no divergence (or exact)."""
        return self.exact or (self.r_hat_max <= self.R_HAT_MAX
                              and self.ess_bulk_min >= self.ESS_MIN
                              and self.ess_tail_min >= self.ESS_MIN
                              and self.divergences == 0)

    def problems(self) -> list[str]:
        """Each failed criterion, in words."""
        out: list[str] = []
        if self.exact:
            return out
        if not self.r_hat_max <= self.R_HAT_MAX:
            out.append(f"max R-hat {self.r_hat_max:.3f} > {self.R_HAT_MAX}")
        if not self.ess_bulk_min >= self.ESS_MIN:
            out.append(f"min bulk ESS {self.ess_bulk_min:.0f} < {self.ESS_MIN}")
        if not self.ess_tail_min >= self.ESS_MIN:
            out.append(f"min tail ESS {self.ess_tail_min:.0f} < {self.ESS_MIN}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def summary(self) -> str:
        """The figures in one line (without the verdict)."""
        if self.exact:
            return "exact (every parameter fixed: nothing to sample)"
        return (f"R-hat max {self.r_hat_max:.3f}, bulk ESS min {self.ess_bulk_min:.0f}, "
                f"tail ESS min {self.ess_tail_min:.0f}, divergences {self.divergences}")

    def __str__(self) -> str:
        if self.exact:
            return self.summary()
        verdict = "converged" if self.converged else "NOT converged: " + "; ".join(
            self.problems())
        return f"{self.summary()} ({verdict})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (DESIGN.md's keys first)."""
        return {"r_hat_max": _round(self.r_hat_max), "ess_bulk_min": _round(self.ess_bulk_min, 0),
                "divergences": int(self.divergences), "ess_tail_min": _round(self.ess_tail_min, 0),
                "exact": self.exact, "converged": self.converged}


def _round(x: float, digits: int = 6) -> float | int | None:
    if not math.isfinite(x):
        return None
    return round(x) if digits == 0 else round(float(x), digits)


@dataclass(frozen=True)
class Summary:
    """Mean, standard deviation and highest-density interval of some draws."""

    mean: float
    sd: float
    hdi: tuple[float, float]

    @classmethod
    def of(cls, draws: np.ndarray, hdi_prob: float) -> Summary:
        """Summarise draws of shape ``(chain, draw)`` (or flat)."""
        flat = np.asarray(draws, dtype=float).ravel()
        lo, hi = _hdi(flat, hdi_prob)
        return cls(float(flat.mean()), float(flat.std(ddof=1)) if flat.size > 1 else 0.0,
                   (lo, hi))

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        """JSON-ready dict as in DESIGN.md."""
        return {"mean": round(self.mean, digits), "sd": round(self.sd, digits),
                "hdi": [round(self.hdi[0], digits), round(self.hdi[1], digits)]}

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.hdi[0]:.3f}, {self.hdi[1]:.3f}]"


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    """Narrowest interval holding ``prob`` of the draws (unimodal; as arviz.hdi)."""
    x = np.sort(x)
    n = x.size
    if n == 1:
        return float(x[0]), float(x[0])
    k = math.floor(prob * n)
    if k >= n:
        return float(x[0]), float(x[-1])
    widths = x[k:] - x[: n - k]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k])


@dataclass(frozen=True)
class Run:
    """One prior set's posterior plausibility draws for every POD.

    ``draws`` is an :class:`xarray.Dataset` with ``plausibility`` (dims chain,
    draw, pod, query) and ``differs`` (chain, draw, pod, event): the
    probability that each event turns out otherwise than in history; and the
    mechanism of every draw, ``a`` (chain, draw, event: the log-odds of the
    event with none of its causes) and ``b`` (chain, draw, event, cause_slot:
    the log odds ratio of each cause, named by the coordinate ``cause``;
    slots past an event's causes hold 0 and cause "").
    """

    scenario: Scenario
    priors: str
    name: str
    draws: xr.Dataset
    diagnostics: Diagnostics
    seed: int
    idata: Any = None  # arviz InferenceData of the parameters (None when exact)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def pods(self) -> list[str]:
        """POD ids, the "history" baseline first."""
        return [str(p) for p in self.draws["pod"].values]

    def summarize(self, hdi_prob: float = defaults.HDI_PROB) -> list[PodResult]:
        """Per-POD summaries (see :func:`summarize`)."""
        return summarize(self.scenario, self.priors, self.draws, hdi_prob)


def arviz() -> Any:
    """Import arviz without its FutureWarning about the coming 1.0 refactor.

    The warning is addressed to library authors (we pin arviz < 1), not to
    someone reading plausibly's output.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
        import arviz as az
    return az


def _diagnostics(z: np.ndarray, values: np.ndarray, divergences: int) -> Diagnostics:
    """R-hat, bulk and tail ESS over every parameter and every reported quantity.

    ``z`` is (chain, draw, param) and ``values`` (chain, draw, ...). A quantity
    that is constant across draws (an event the POD cannot reach) has no
    R-hat, and is skipped there; its ESS is the number of draws, as in arviz.
    """
    from plausibly.models.convergence import diagnose

    checked = np.concatenate([z.reshape(*z.shape[:2], -1),
                              values.reshape(*values.shape[:2], -1)], axis=-1)
    rhat, bulk, tail = diagnose(checked)

    def extreme(vals: np.ndarray, fn: Any) -> float:
        vals = vals[np.isfinite(vals)]
        return float(fn(vals)) if vals.size else float("nan")

    return Diagnostics(extreme(rhat, np.max), extreme(bulk, np.min), extreme(tail, np.min),
                       divergences)


#: ``progress(done, total)``: sampling iterations done so far, of all
Progress = Callable[[int, int], None]


def estimate(scenario: Scenario, fitted: Any, pods: Sequence[str] | None = None,
             settings: Settings | None = None, progress: Progress | None = None) -> Run:
    """Sample the posterior given history and answer every POD for every draw.

    Parameters
    ----------
    scenario : Scenario
    fitted : FittedPriors
        From :func:`plausibly.priors.fit_prior_set` (or a pool).
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
    return estimate_many(scenario, [fitted], pods, settings, progress)[0]


def estimate_many(scenario: Scenario, sets: Sequence[Any], pods: Sequence[str] | None = None,
                  settings: Settings | None = None, progress: Progress | None = None,
                  meanwhile: Callable[[], None] | None = None) -> list[Run]:
    """:func:`estimate` for several prior sets at once, one run each.

    Every (set, chain) is one task for the worker pool of
    :func:`plausibly.models.pymc_model.sample_sets`, and each task answers the
    PODs on its own chain's draws, so all cores stay busy until the last
    chain; a set's diagnostics are computed here while later sets still
    sample. A set's numbers are the same as from :func:`estimate` alone.
    ``meanwhile()``, if given, is called once, while the workers sample.
    """
    from plausibly.models.pymc_model import sample_sets

    settings = settings or Settings()
    chosen = [scenario.pod(p) for p in pods] if pods else list(scenario.pods)
    todo = {p.id: p.do for p in chosen}
    net = Network.from_scenario(scenario)
    layouts = [layout_of(scenario, f) for f in sets]
    sampled = [k for k, layout in enumerate(layouts) if layout.free.size]
    runs: dict[int, Run] = {}
    for k in set(range(len(sets))) - set(sampled):  # every parameter fixed: exact
        a, b = layouts[k].to_ab(np.zeros((1, 0)))
        pod_ids, plaus, differs = _answers(net, a, b, todo)
        runs[k] = _run(scenario, sets[k], settings, None, a, b, pod_ids, plaus[None],
                       differs[None])

    def after(i: int, z: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        a, b = layouts[sampled[i]].to_ab(z)
        return _answers(net, a, b, todo)

    def on_set(i: int, idata: Any, per_chain: list[Any]) -> None:
        k = sampled[i]
        z = idata.posterior["z"].values  # (chain, draw, param)
        a, b = layouts[k].to_ab(z.reshape(z.shape[0] * z.shape[1], -1))
        runs[k] = _run(scenario, sets[k], settings, idata, a, b, per_chain[0][0],
                       np.stack([c[1] for c in per_chain]), np.stack([c[2] for c in per_chain]))

    if sampled:
        sample_sets(net, [layouts[k] for k in sampled], draws=settings.draws, tune=settings.tune,
                    chains=settings.chains, seed=settings.seed, after=after, progress=progress,
                    on_set=on_set, meanwhile=meanwhile)
    elif meanwhile is not None:
        meanwhile()
    return [runs[k] for k in range(len(sets))]


def _answers(net: Network, a: np.ndarray, b: np.ndarray, todo: dict[str, Any],
             ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """POD ids ("history" first), plausibility (S, pod, query), differs (S, pod, event)."""
    answers = answer_pods(net, a, b, todo)
    pod_ids = list(answers)
    plaus = np.stack([np.stack([answers[p].interventional, answers[p].counterfactual,
                                answers[p].rewrite], axis=-1) for p in pod_ids], axis=1)
    return pod_ids, plaus, np.stack([answers[p].differs for p in pod_ids], axis=1)


def _run(scenario: Scenario, fitted: Any, settings: Settings, idata: Any, a: np.ndarray,
         b: np.ndarray, pod_ids: list[str], plaus: np.ndarray, differs: np.ndarray) -> Run:
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
        diag = _diagnostics(idata.posterior["z"].values, plaus,
                            int(stats["diverging"].sum()) if "diverging" in stats else 0)
        idata = _with_probabilities(idata, scenario, a, b, chains, draws)
    return Run(scenario, fitted.priors, fitted.name, ds, diag, settings.seed, idata)


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


def layout_of(scenario: Scenario, fitted: Any) -> Any:
    """The :class:`ParameterLayout` of a scenario under fitted priors."""
    from plausibly.models.pymc_model import parameter_layout

    width = max([len(p) for p in scenario.parents.values()] + [1])
    return parameter_layout(fitted.arrays(scenario.order, scenario.parents, width),
                            scenario.order, scenario.parents)


def file_sha256(path: str | None) -> str:
    """Hex digest of a file ('' when there is no file)."""
    if not path:
        return ""
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@dataclass(frozen=True)
class PodResult:
    """Summaries for one (prior set, POD) pair."""

    priors: str
    pod: str
    interventional: Summary
    counterfactual: Summary
    rewrite: Summary
    events: dict[str, tuple[float | None, Summary]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of DESIGN.md."""
        return {
            "priors": self.priors, "pod": self.pod,
            "interventional": self.interventional.to_dict(),
            "counterfactual": self.counterfactual.to_dict(),
            "rewrite": self.rewrite.to_dict(),
            "events": {e: {"history": _history_json(h), "p_differs": s.to_dict()}
                       for e, (h, s) in self.events.items()},
        }


def _history_json(h: float | None) -> bool | float | None:
    if h is None:
        return None
    return bool(h) if h in (0.0, 1.0) else h


def summarize(scenario: Scenario, priors: str, draws: xr.Dataset,
              hdi_prob: float = defaults.HDI_PROB) -> list[PodResult]:
    """Summaries per POD (the "history" row first) from a draws dataset."""
    out = []
    plaus = draws["plausibility"].values
    differs = draws["differs"].values
    for k, pod in enumerate(draws["pod"].values):
        s = [Summary.of(plaus[:, :, k, q], hdi_prob) for q in range(len(QUERIES))]
        events = {e: (scenario.node(e).history, Summary.of(differs[:, :, k, j], hdi_prob))
                  for j, e in enumerate(scenario.order) if e != scenario.outcome}
        out.append(PodResult(priors, str(pod), s[0], s[1], s[2], events))
    return out


def report(scenario: Scenario, hdi_prob: float, results: Sequence[PodResult],
           diagnostics: dict[str, Diagnostics], **extra: Any) -> dict[str, Any]:
    """The ``--format json`` object of DESIGN.md (extra top-level keys appended)."""
    return {"scenario": scenario.id, "outcome": scenario.outcome, "hdi_prob": hdi_prob,
            "results": [r.to_dict() for r in results],
            "diagnostics": {k: d.to_dict() for k, d in diagnostics.items()}, **extra}


CSV_HEADER = ("priors", "pod", "quantity", "mean", "sd", "hdi_low", "hdi_high")


def csv_rows(results: Sequence[PodResult]) -> list[tuple[Any, ...]]:
    """Flat rows for ``--format csv``: one per (prior set, POD, quantity)."""
    rows = []
    for r in results:
        for name in QUERIES:
            s = getattr(r, name)
            rows.append((r.priors, r.pod, name, s.mean, s.sd, *s.hdi))
        for event, (_, s) in r.events.items():
            rows.append((r.priors, r.pod, f"p_differs:{event}", s.mean, s.sd, *s.hdi))
    return rows
