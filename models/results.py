"""What a run is and how it is summarised: per-draw answers, summaries, JSON and CSV."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from plausibly.models import settings
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, RunFileError, UsageError
from plausibly.models.scenario import HISTORY_ROW, YES_NO, Outcome, Scenario
from plausibly.models.validate import suggest
from plausibly.models.workers import in_blocks

__all__ = ["CSV_HEADER", "NO_POD_CHANCE", "QUANTITIES", "QUERIES", "RANK_BY", "PodResult",
           "Run", "Summary", "by_outcome", "csv_rows", "edge_effects", "hdis", "history_json",
           "outcome_names", "padded_terms", "pod_scope", "rank", "results_json", "summaries",
           "summarize", "term_names"]


#: the queries answered per (POD, outcome): the last axis of ``plausibility``
QUERIES = ("interventional", "counterfactual")
#: the quantities a result summarises, in the order of the JSON and CSV
QUANTITIES = (*QUERIES, "pod_chance", "route", "rewrite")
#: what PODs may be ranked by (``--rank``): the counterfactual, or the whole route
RANK_BY = ("counterfactual", "route")
#: said wherever a run saved before POD chance existed is shown
NO_POD_CHANCE = ("this run was saved by an older plausibly without the POD chance: "
                 "pod_chance and route are absent (re-run to get them)")


def term_names(scenario: Scenario) -> list[list[str]]:
    """The name of every term of each event's linear predictor, in the engine's order.

    One per non-first state of each influencing cause (``"cause"`` for a
    yes/no cause, ``"cause=state"`` for a cause with states), then one per
    interaction (``"A & B"``): as prior sets key their ``given`` judgements.
    """
    out = []
    for x in scenario.order:
        own: list[str] = []
        for c in scenario.influences[x]:
            node = scenario.node(c)
            own.extend([c] if node.states == YES_NO else [f"{c}={st}" for st in node.states[1:]])
        own.extend(i.key for i in scenario.interactions_of(x))
        out.append(own)
    return out


def padded_terms(scenario: Scenario, width: int) -> list[list[str]]:
    """:func:`term_names` padded with ``""`` to ``width`` slots per event."""
    return [[*t, *[""] * (width - len(t))] for t in term_names(scenario)]


@dataclass(frozen=True)
class Summary:
    """Mean, median, standard deviation and highest-density interval of some draws."""

    mean: float
    sd: float
    hdi: tuple[float, float]
    median: float = math.nan

    @classmethod
    def of(cls, draws: np.ndarray, hdi_prob: float) -> Summary:
        """Summarise draws of shape ``(chain, draw)`` (or flat)."""
        flat = np.asarray(draws, dtype=float).ravel()
        return summaries(flat[:, None], hdi_prob)[0]

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        """JSON-ready dict as in DESIGN.md: mean, median, sd, hdi."""
        return {"mean": round(self.mean, digits), "median": round(self.median, digits),
                "sd": round(self.sd, digits),
                "hdi": [round(self.hdi[0], digits), round(self.hdi[1], digits)]}

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.hdi[0]:.3f}, {self.hdi[1]:.3f}]"


def summaries(draws: np.ndarray, hdi_prob: float) -> list[Summary]:
    """:meth:`Summary.of` for every column of ``draws`` (draw, column) at once.

    One sort serves the median and the HDI of every column; a run has a few
    thousand columns (every POD x outcome x query and every event's
    ``p_differs``), which one by one cost a second. Blocks of 128 columns are
    summarised in a thread per core (numpy's sorts and sums let go of
    Python's lock); a column's numbers do not depend on its block.
    """
    draws = np.asarray(draws, dtype=float)
    parts = in_blocks(lambda cols: _summaries(draws[:, cols], hdi_prob), draws.shape[1], 128)
    return [one for part in parts for one in part]


def _summaries(draws: np.ndarray, hdi_prob: float) -> list[Summary]:
    # each column contiguous: its mean is numpy's pairwise sum, as for a flat array
    x = np.ascontiguousarray(draws.T)
    n = x.shape[1]
    mean = x.mean(axis=1)
    sd = x.std(axis=1, ddof=1) if n > 1 else np.zeros(x.shape[0])
    median = np.median(x, axis=1)
    x.sort(axis=1)
    lo, hi = hdis(x, hdi_prob, ordered=True)
    return [Summary(float(m), float(d), (float(a), float(b)), float(q))
            for m, d, a, b, q in zip(mean, sd, lo, hi, median, strict=True)]


def hdis(rows: np.ndarray, prob: float, *, ordered: bool = False
         ) -> tuple[np.ndarray, np.ndarray]:
    """Narrowest interval holding ``prob`` of each row's draws (unimodal; as arviz.hdi).

    ``rows`` is (column, draw), each row already sorted with ``ordered``.
    Returns the lower and upper ends, one per row.
    """
    x = rows if ordered else np.sort(rows, axis=1)
    n = x.shape[1]
    k = math.floor(prob * n)
    if n == 1 or k >= n:
        return x[:, 0], x[:, -1]
    start = np.argmin(x[:, k:] - x[:, : n - k], axis=1)
    at = np.arange(x.shape[0])
    return x[at, start], x[at, start + k]


class Groups(Mapping[str, xr.Dataset]):
    """ArviZ's groups of a run (``posterior``, ``sample_stats``, ...) as plain xarray Datasets.

    What plausibly's own functions carry between them, read as an
    ``InferenceData`` is (``groups["posterior"]``, ``groups.posterior``,
    ``groups.groups()``); :meth:`to_arviz` makes the real one, importing
    ArviZ (and with it matplotlib and scipy.stats, about a second) only then.
    """

    def __init__(self, **groups: xr.Dataset) -> None:
        self._groups = dict(groups)

    def __getitem__(self, name: str) -> xr.Dataset:
        return self._groups[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def __getattr__(self, name: str) -> xr.Dataset:
        groups = self.__dict__.get("_groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(name)

    def groups(self) -> list[str]:
        """The groups' names, as ``InferenceData.groups()``."""
        return list(self._groups)

    def to_arviz(self) -> Any:
        """ArviZ's ``InferenceData`` of these groups."""
        import warnings

        from plausibly.models._arviz import arviz

        with warnings.catch_warnings():  # a group ArviZ does not know is kept, quietly
            warnings.simplefilter("ignore", UserWarning)
            return arviz().InferenceData(**self._groups)


@dataclass(frozen=True)
class Run:
    """One prior set's posterior plausibility draws for every POD and outcome.

    ``draws`` is an :class:`xarray.Dataset` with ``plausibility`` (dims chain,
    draw, pod, outcome, query: the probability of each outcome, headline
    first, interventionally and counterfactually), ``rewrite`` (chain, draw,
    pod: the expected number of events that differ from history, outcomes
    excluded) and ``differs`` (chain, draw, pod, event: the probability that
    each event turns out otherwise than in history); and the mechanism of
    every draw, ``a`` (chain, draw, event, threshold: the log-odds of
    "at least state k" with none of its causes; yes/no events have one
    threshold, padding 0) and ``b`` (chain, draw, event, term_slot: the log
    odds ratio of each term, named by the coordinate ``term``: ``"cause"``,
    ``"cause=state"`` or ``"A & B"``; slots past an event's terms hold 0 and
    term "").

    ``groups`` holds the sampled parameters as ArviZ's groups (None when
    exact); :attr:`idata` is ArviZ's ``InferenceData`` of them, made (and
    ArviZ imported) when first asked for. ``log_likelihood`` holds the
    pointwise log-likelihood terms of the draws
    (:func:`~plausibly.models.pointwise.pointwise_log_likelihood`, each
    ``(chain, draw)``) when they were computed with the queries; otherwise
    :func:`~plausibly.models.store.history_groups` computes them.
    """

    scenario: Scenario
    priors: str
    name: str
    draws: xr.Dataset
    diagnostics: Diagnostics
    seed: int
    groups: Groups | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    #: the pointwise log-likelihood terms, each (chain, draw), when the sampler computed them
    log_likelihood: dict[str, np.ndarray] | None = None

    @functools.cached_property
    def idata(self) -> Any:
        """ArviZ's ``InferenceData`` of the sampled parameters (None when exact)."""
        return None if self.groups is None else self.groups.to_arviz()

    @property
    def pods(self) -> list[str]:
        """POD ids, the "history" baseline first."""
        return [str(p) for p in self.draws["pod"].values]

    @property
    def outcomes(self) -> list[str]:
        """Outcome names, the headline first."""
        return [str(o) for o in self.draws["outcome"].values]

    def summarize(self, hdi_prob: float = settings.HDI_PROB,
                  outcomes: Sequence[str] | None = None) -> list[PodResult]:
        """Per-(POD, outcome) summaries (see :func:`summarize`)."""
        return summarize(self.scenario, self.priors, self.draws, hdi_prob, outcomes)


@dataclass(frozen=True)
class PodResult:
    """Summaries for one (prior set, POD, outcome).

    ``scope`` is the POD's (``"in"`` for the "history" row); ``rewrite``,
    ``pod_chance`` and ``events`` do not depend on the outcome (outcome
    events are left out). ``pod_chance`` (how likely history made the POD)
    and ``route`` (POD chance x counterfactual, per draw) are ``None`` for a
    run saved before they existed.
    """

    priors: str
    pod: str
    interventional: Summary
    counterfactual: Summary
    rewrite: Summary
    events: dict[str, tuple[Any, Summary]]  # history as the scenario gives it
    outcome: str = ""
    scope: str = "in"
    pod_chance: Summary | None = None
    route: Summary | None = None

    def score(self, by: str = "counterfactual") -> float:
        """The mean PODs are ranked by: ``"counterfactual"`` or ``"route"``.

        Raises
        ------
        UsageError
            For ``"route"`` when the run has no POD chance (saved by an older version).
        """
        if by not in RANK_BY:
            raise ValueError(f"rank by one of {RANK_BY}, got {by!r}")
        summary = self.counterfactual if by == "counterfactual" else self.route
        if summary is None:
            raise UsageError(problems=[Problem("--rank", "", NO_POD_CHANCE,
                                               "use --rank counterfactual")])
        return summary.mean

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of DESIGN.md (``pod_chance`` and ``route`` null when absent)."""
        return {
            "priors": self.priors, "pod": self.pod, "scope": self.scope,
            "outcome": self.outcome,
            "interventional": self.interventional.to_dict(),
            "counterfactual": self.counterfactual.to_dict(),
            "pod_chance": None if self.pod_chance is None else self.pod_chance.to_dict(),
            "route": None if self.route is None else self.route.to_dict(),
            "rewrite": self.rewrite.to_dict(),
            "events": {e: {"history": h, "p_differs": s.to_dict()}
                       for e, (h, s) in self.events.items()},
        }


def history_json(scenario: Scenario, event: str) -> Any:
    """An event's history for JSON, as the scenario gives it.

    A yes/no event: true/false, or the probability of "yes" when disputed;
    an event with states (``states = [...]``): the state's name, or its
    weights table (``{state: weight}``); ``None`` when unknown.
    """
    node = scenario.node(event)
    h = node.history
    if h is None or isinstance(h, str):
        return h
    if isinstance(h, Mapping):
        return {str(k): float(v) for k, v in h.items()}
    if node.declared_states:
        if h in (0.0, 1.0):
            return node.states[int(h)]
        return {node.states[0]: 1.0 - float(h), node.states[1]: float(h)}
    return bool(h) if h in (0.0, 1.0) else float(h)


def outcome_names(scenario: Scenario) -> list[str]:
    """The scenario's outcome names, the headline first (``EVENT`` or ``EVENT>=STATE``)."""
    return [o.name for o in scenario.outcomes or (Outcome(scenario.outcome),)]


def chosen_outcomes(scenario: Scenario, names: Sequence[str] | None) -> list[str] | None:
    """Outcome names asked for with ``--outcome``, checked (``None``: every outcome).

    Raises
    ------
    UsageError
        Naming every unknown outcome, with a did-you-mean, before any work.
    """
    if not names:
        return None
    known = outcome_names(scenario)
    problems = [Problem("--outcome", "", f"unknown outcome '{n}'{suggest(n, known)}",
                        f"use one of: {', '.join(known)}") for n in names if n not in known]
    if problems:
        raise UsageError(problems=problems)
    return list(dict.fromkeys(names))


def pod_scope(scenario: Scenario, pod: str) -> str:
    """A POD's scope (``"in"`` or ``"out"``); ``"in"`` for the "history" row."""
    return "in" if pod == HISTORY_ROW else scenario.pod(pod).scope


def summarize(scenario: Scenario, priors: str, draws: xr.Dataset,
              hdi_prob: float = settings.HDI_PROB,
              outcomes: Sequence[str] | None = None) -> list[PodResult]:
    """Summaries per (POD, outcome): the "history" row first, each POD's outcomes headline first.

    ``outcomes`` restricts (and orders) the outcomes reported; all by default.
    """
    out = []

    def flat(values: np.ndarray) -> np.ndarray:  # (chain, draw, ...) -> (draws, ...)
        return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])

    plaus = flat(draws["plausibility"].values)  # (draws, pod, outcome, query)
    n, _, outs = plaus.shape[:3]
    chance = flat(draws["pod_chance"].values) if "pod_chance" in draws else None
    skip = set(scenario.outcome_events)
    kept = [j for j, e in enumerate(scenario.order) if e not in skip]
    # every summarised quantity as one column of one matrix, summarised at once
    blocks = {"plaus": plaus.reshape(n, -1), "rewrite": flat(draws["rewrite"].values),
              "differs": flat(draws["differs"].values)[:, :, kept].reshape(n, -1)}
    if chance is not None:
        blocks["chance"] = chance
        blocks["route"] = (chance[:, :, None] * plaus[..., 1]).reshape(n, -1)
    columns = summaries(np.concatenate(list(blocks.values()), axis=1), hdi_prob)
    at, cut = {}, 0
    for name, block in blocks.items():
        at[name], cut = columns[cut:cut + block.shape[1]], cut + block.shape[1]
    names = [str(o) for o in draws["outcome"].values]
    chosen = [names.index(o) for o in outcomes] if outcomes else range(len(names))
    histories = [history_json(scenario, scenario.order[j]) for j in kept]
    for k, pod in enumerate(draws["pod"].values):
        pod = str(pod)
        events = {scenario.order[j]: (histories[m], at["differs"][k * len(kept) + m])
                  for m, j in enumerate(kept)}
        scope = pod_scope(scenario, pod)
        pc = None if chance is None else at["chance"][k]
        for o in chosen:
            route = None if chance is None else at["route"][k * outs + o]
            out.append(PodResult(priors, pod, at["plaus"][(k * outs + o) * 2],
                                 at["plaus"][(k * outs + o) * 2 + 1], at["rewrite"][k], events,
                                 names[o], scope, pc, route))
    return out


def by_outcome(results: Sequence[PodResult]) -> dict[str, list[PodResult]]:
    """Results grouped per outcome, in the order they first appear (the headline first)."""
    out: dict[str, list[PodResult]] = {}
    for r in results:
        out.setdefault(r.outcome, []).append(r)
    return out


def rank(rows: Sequence[PodResult], *, by_plausibility: bool = True,
         by: str = "counterfactual") -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The one place PODs are ranked: ``(ranked, apart)`` as indices into ``rows``.

    ``rows`` are one outcome's results, the "history" row first. ``ranked``
    holds the "history" row, then every POD in scope, by the mean of ``by``
    (``"counterfactual"`` or ``"route"``; highest first, ties in the given
    order; in the given order with ``by_plausibility=False``); ``apart`` the
    PODs with ``scope = "out"``, in the given order: they remove the
    question itself and are never ranked.
    """
    inside = [k for k, r in enumerate(rows) if r.pod != HISTORY_ROW and r.scope != "out"]
    if by_plausibility:
        inside.sort(key=lambda k: -rows[k].score(by))
    head = [k for k, r in enumerate(rows) if r.pod == HISTORY_ROW]
    return (tuple(head + inside),
            tuple(k for k, r in enumerate(rows) if r.pod != HISTORY_ROW and r.scope == "out"))


def results_json(scenario: Scenario, hdi_prob: float, results: Sequence[PodResult],
                 diagnostics: dict[str, Diagnostics], **extra: Any) -> dict[str, Any]:
    """The ``--format json`` object of DESIGN.md (extra top-level keys appended)."""
    return {"scenario": scenario.id, "outcomes": outcome_names(scenario), "hdi_prob": hdi_prob,
            "results": [r.to_dict() for r in results],
            "diagnostics": {k: d.to_dict() for k, d in diagnostics.items()}, **extra}


CSV_HEADER = ("priors", "pod", "outcome", "quantity", "mean", "median", "sd", "hdi_low",
              "hdi_high")


def csv_rows(results: Sequence[PodResult]) -> list[tuple[Any, ...]]:
    """Flat rows for ``--format csv``: one per (prior set, POD, outcome, quantity).

    ``interventional``, ``counterfactual`` and ``route`` per outcome;
    ``pod_chance``, ``rewrite`` and each ``p_differs:EVENT``, which do not
    depend on the outcome, once per (prior set, POD), with an empty outcome.
    A run saved without the POD chance has no ``pod_chance`` and ``route`` rows.
    """
    rows = []
    seen: set[tuple[str, str]] = set()
    for r in results:
        for name in (*QUERIES, "route"):
            s = getattr(r, name)
            if s is not None:
                rows.append((r.priors, r.pod, r.outcome, name, s.mean, s.median, s.sd,
                             *s.hdi))
        if (r.priors, r.pod) in seen:
            continue
        seen.add((r.priors, r.pod))
        if r.pod_chance is not None:
            s = r.pod_chance
            rows.append((r.priors, r.pod, "", "pod_chance", s.mean, s.median, s.sd, *s.hdi))
        s = r.rewrite
        rows.append((r.priors, r.pod, "", "rewrite", s.mean, s.median, s.sd, *s.hdi))
        for event, (_, s) in r.events.items():
            rows.append((r.priors, r.pod, "", f"p_differs:{event}", s.mean, s.median, s.sd,
                         *s.hdi))
    return rows


def edge_effects(run: Run, *, file: str = "") -> dict[tuple[str, str], float]:
    """The posterior median log odds ratio ``b`` of every influence of a run.

    For a cause with states, the term of its highest state; gates have none
    (they are not in the result). Each interaction's term is keyed
    ``(i.key, effect)``, e.g. ``("A & B", "X")`` (never an edge's key: an
    event id has no space).

    Raises
    ------
    PlausiblyError
        When the run holds no per-draw mechanism (saved by an older version).
    """
    draws = run.draws
    if "b" not in draws or "term" not in draws.coords:
        raise RunFileError(problems=[Problem(
            file or run.scenario.id, "", "the run holds no per-draw effects of the causes "
            "(variables 'a' and 'b'): it was saved by an older plausibly",
            "re-run 'plausibly estimate -o' to save it again")])
    b = draws["b"].values  # (chain, draw, event, slot)
    median = np.median(b.reshape(-1, *b.shape[2:]), axis=0)
    terms = draws["term"].values
    index = {str(e): i for i, e in enumerate(draws["event"].values)}
    out: dict[tuple[str, str], float] = {}
    for e in run.scenario.edges:
        if e.gate:
            continue
        i = index[e.effect]
        names = [str(t) for t in terms[i]]
        node = run.scenario.node(e.cause)
        name = e.cause if node.states == YES_NO else f"{e.cause}={node.states[-1]}"
        out[(e.cause, e.effect)] = float(median[i, names.index(name)])
    for inter in run.scenario.interactions:
        i = index[inter.effect]
        names = [str(t) for t in terms[i]]
        out[(inter.key, inter.effect)] = float(median[i, names.index(inter.key)])
    return out
