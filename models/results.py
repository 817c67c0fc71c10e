"""What a run is and how it is summarised: per-draw answers, summaries, JSON and CSV."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models import settings
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, RunFileError
from plausibly.models.scenario import Scenario

__all__ = ["CSV_HEADER", "QUERIES", "PodResult", "Run", "Summary", "csv_rows", "edge_effects",
           "results_json", "summarize"]


QUERIES = ("interventional", "counterfactual", "rewrite")


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

    def summarize(self, hdi_prob: float = settings.HDI_PROB) -> list[PodResult]:
        """Per-POD summaries (see :func:`summarize`)."""
        return summarize(self.scenario, self.priors, self.draws, hdi_prob)


@dataclass(frozen=True)
class PodResult:
    """Summaries for one (prior set, POD) pair."""

    priors: str
    pod: str
    interventional: Summary
    counterfactual: Summary
    rewrite: Summary
    events: dict[str, tuple[Any, Summary]]  # history as the scenario gives it

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
              hdi_prob: float = settings.HDI_PROB) -> list[PodResult]:
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


def results_json(scenario: Scenario, hdi_prob: float, results: Sequence[PodResult],
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


def edge_effects(run: Run, *, file: str = "") -> dict[tuple[str, str], float]:
    """The posterior median log odds ratio ``b`` of every edge of a run.

    Raises
    ------
    PlausiblyError
        When the run holds no per-draw mechanism (saved by an older version).
    """
    import numpy as np

    draws = run.draws
    if "b" not in draws or "cause" not in draws.coords:
        raise RunFileError(problems=[Problem(
            file or run.scenario.id, "", "the run holds no per-draw effects of the causes "
            "(variables 'a' and 'b'): it was saved by an older plausibly",
            "re-run 'plausibly estimate -o' to save it again")])
    b = draws["b"].values  # (chain, draw, event, slot)
    median = np.median(b.reshape(-1, *b.shape[2:]), axis=0)
    causes = draws["cause"].values
    index = {str(e): i for i, e in enumerate(draws["event"].values)}
    out: dict[tuple[str, str], float] = {}
    for e in run.scenario.edges:
        i = index[e.effect]
        slot = [str(c) for c in causes[i]].index(e.cause)
        out[(e.cause, e.effect)] = float(median[i, slot])
    return out
