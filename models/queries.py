"""Exact interventional and counterfactual queries, batched over posterior draws.

An interventional query is one einsum over the mutilated network's factors
(:mod:`plausibly.models.factors`) along an :mod:`opt_einsum` path, the draws a
batch axis. Counterfactuals (the twin network given history), ``differs``, the
POD chance and all of :func:`answer_pods` read their marginals from calibrated
junction trees (:mod:`plausibly.models.junction`), one per network and evidence.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import opt_einsum

from plausibly.models.errors import ImpossibleHistory, Problem
from plausibly.models.factors import (
    DrawWeights,
    Factor,
    Setting,
    einsum_spec,
    evidence,
    free_vars,
    fvar,
    mutilated,
    relevant,
    sizes,
    table,
    twin,
)
from plausibly.models.junction import Memo, marginals, too_large, work
from plausibly.models.network import BATCH, Network
from plausibly.models.settings import MEMORY_BUDGET

__all__ = ["MEMORY_BUDGET", "PodAnswer", "answer_pods", "counterfactual", "differs",
           "distribution", "interventional", "pod_chance"]


#: contraction path and bytes per draw of each einsum planned (see _plan)
_PATHS: dict[str, tuple[tuple[Any, ...], int]] = {}


#: Factor tables computed for one set of parameters ``(a, b)``, keyed by factor
#: and evidence. Valid only while ``a`` and ``b`` stay the same: a caller of the
#: single queries may pass one for a batch of draws (answer_pods keeps a Memo).
Cache = dict[tuple[Factor, tuple[tuple[int, int], ...]], tuple[Any, tuple[int, ...]]]


def _cached_table(f: Factor, net: Network, a: np.ndarray, b: np.ndarray,
                  fixed: Mapping[int, int], cache: Cache | None) -> tuple[Any, tuple[int, ...]]:
    """:func:`table` with the draw axis moved last (contiguous), remembered per evidence.

    With the draws innermost, numpy's einsum loops run over thousands of
    draws instead of axes of length 2: ten times faster on the bundled
    scenario.
    """
    key = (f, tuple((v, fixed[v]) for v in f.inputs + f.out if v in fixed))
    if cache is None or key not in cache:
        t, idx = table(f, net, a, b, fixed)
        found = (np.ascontiguousarray(np.moveaxis(t, 0, -1)), idx)
        if cache is None:
            return found
        cache[key] = found
    return cache[key]


def _contract(net: Network, factors: list[Factor], a: np.ndarray, b: np.ndarray,
              fixed: Mapping[int, int], soft: Mapping[int, tuple[float, ...]],
              output: tuple[int, ...], cache: Cache | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Contract the factors to the ``output`` variables.

    Returns ``(log_scale, table)`` with ``table`` of shape ``(S, 2, ...)``:
    the factors with no free variable are multiplied out in log space
    (``log_scale``, shape ``(S,)``); the rest are contracted. The size of the
    contraction is checked against :data:`MEMORY_BUDGET` before any table
    is built.
    """
    free_out = tuple(v for v in output if v not in fixed)
    tabled = [f for f in factors if free_vars(f, fixed)]
    indices = [free_vars(f, fixed) for f in tabled]
    indices += [(v,) for v in soft if v not in fixed]
    batched = [True] * len(tabled) + [False] * (len(indices) - len(tabled))
    if indices:
        spec, path, per_draw = _plan(net, indices, batched, free_out)
    log_scale = np.zeros(a.shape[0])
    for f in factors:
        if not free_vars(f, fixed):
            t, _ = _cached_table(f, net, a, b, fixed, cache)
            with np.errstate(divide="ignore"):  # a factor of 0: log 0 = -inf, and so it is
                log_scale = log_scale + np.log(t)
    if not indices:  # everything observed: the factors were all scalars per draw
        shape = tuple(sizes(net, free_out).values())
        return log_scale, np.ones((a.shape[0], *shape))
    # the draw axis goes last: numpy's inner loops then run over the draws
    tensors = [_cached_table(f, net, a, b, fixed, cache)[0] for f in tabled]
    tensors += [np.array(h) for v, h in soft.items() if v not in fixed]
    draws = a.shape[0]
    chunk = max(1, min(draws, MEMORY_BUDGET // (4 * per_draw)))
    pieces = []
    for start in range(0, draws, chunk):
        part = tensors if chunk >= draws else [t[..., start:start + chunk] if bt else t
                                               for t, bt in zip(tensors, batched, strict=True)]
        pieces.append(_expression(spec, path, tuple(t.shape for t in part))(*part))
    table = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=-1)
    return log_scale, np.moveaxis(table, -1, 0)


@functools.lru_cache(maxsize=4096)
def _expression(spec: str, path: tuple[Any, ...], shapes: tuple[tuple[int, ...], ...]) -> Any:
    """A compiled opt_einsum expression for these exact shapes (the path is reused)."""
    return opt_einsum.contract_expression(spec, *shapes, optimize=list(path))


def _plan(net: Network, indices: list[tuple[int, ...]], batched: list[bool],
          out: tuple[int, ...]) -> tuple[str, tuple[Any, ...], int]:
    """Einsum string (draw axis last), contraction path and bytes per draw; cached.

    Soft-evidence vectors (one index) carry no draw axis; factor tables do.

    Raises
    ------
    ContractionTooLarge
        When an input table or the largest intermediate exceeds the budget.
    """
    with_batch = [(*idx, BATCH) if bt else idx
                  for idx, bt in zip(indices, batched, strict=True)]
    spec = einsum_spec(with_batch, (*out, BATCH))
    if spec not in _PATHS:
        card = sizes(net, [v for idx in with_batch for v in idx])
        shapes = [tuple(card[v] for v in idx) for idx in with_batch]
        biggest_input = max(math.prod(shape) for shape in shapes)
        if biggest_input * 8 <= MEMORY_BUDGET:
            steps, info = opt_einsum.contract_path(spec, *shapes, shapes=True, optimize="auto")
            path = tuple(steps)
            per_draw = max(int(info.largest_intermediate), biggest_input) * 8
        else:
            path, per_draw = (), biggest_input * 8
        if per_draw > MEMORY_BUDGET:
            raise too_large(net.name, per_draw, MEMORY_BUDGET)
        _PATHS[spec] = (path, per_draw)
    path, per_draw = _PATHS[spec]
    return spec, path, per_draw


def _params(net: Network, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameters as ``a (S, N, T)`` and ``b (S, N, K)``.

    Version 1's ``a (S, N)`` and single draws are accepted.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if b.ndim == 2:
        a, b = a[None], b[None]
    if a.ndim == 2:
        a = a[:, :, None]
    if (a.shape[1] != net.size or b.shape[:2] != a.shape[:2] or b.shape[2] < net.max_parents
            or a.shape[2] < net.max_thresholds):
        raise ValueError(f"parameters of shape {a.shape}, {b.shape} do not fit a network of "
                         f"{net.size} events with up to {net.max_parents} terms and "
                         f"{net.max_thresholds} thresholds")
    return a, b


def _do(net: Network, do: Mapping[Any, Any]) -> dict[int, Setting]:
    """A POD as each set event's weights over its states (per draw when drawn so)."""
    out: dict[int, Setting] = {}
    for k, v in do.items():
        if isinstance(v, DrawWeights):
            out[net.index(k)] = v
            continue
        w = net.do_weights(k, v)
        out[net.index(k)] = DrawWeights(w) if np.ndim(w) == 2 else tuple(float(x) for x in w)
    return out


def _target(net: Network, target: str | int | None, at_least: int | str | None
            ) -> tuple[int, int]:
    """The event asked about and the lowest state that counts (default: the headline outcome)."""
    if target is None:
        return net.outcomes[0]
    t = net.index(target)
    return t, 1 if at_least is None else net.state_index(t, at_least)


def interventional(net: Network, a: np.ndarray, b: np.ndarray,
                   do: Mapping[Any, Any] | None = None,
                   target: str | int | None = None, cache: Cache | None = None,
                   at_least: int | str | None = None) -> np.ndarray:
    """P(target >= at_least | do(POD)) in the model's own world, for every draw.

    Parameters
    ----------
    net : Network
        The structure.
    a, b : ndarray
        Thresholds ``(S, N, T)`` (or version 1's intercepts ``(S, N)``) and
        term weights ``(S, N, K)`` on the logit scale; or one draw without
        the first axis.
    do : mapping, optional
        Events to set: node id or index -> a probability of "yes" (yes/no
        events; 1/0 for hard), a state name, or weights over the states.
    target : str or int, optional
        The event asked about; the headline outcome by default.
    at_least : int or str, optional
        The lowest state that counts (default: the second, "yes").

    Returns
    -------
    ndarray of shape ``(S,)``
    """
    a, b = _params(net, a, b)
    t, least = _target(net, target, at_least)
    # sums of normalised terms may pass 1 by a rounding error: probabilities stay in [0, 1]
    return np.clip(distribution(net, a, b, do, t, cache)[:, least:].sum(axis=1), 0.0, 1.0)


def distribution(net: Network, a: np.ndarray, b: np.ndarray,
                 do: Mapping[Any, Any] | None = None, target: str | int | None = None,
                 cache: Cache | None = None) -> np.ndarray:
    """P(target = s | do(POD)) for every state ``s``, shape ``(S, states)``."""
    a, b = _params(net, a, b)
    t = net.outcomes[0][0] if target is None else net.index(target)
    dov = _do(net, do or {})
    factors = relevant(mutilated(net, dov), {fvar(t)})
    _, table = _contract(net, factors, a, b, {}, {}, (fvar(t),), cache)
    return np.asarray(table / table.sum(axis=1, keepdims=True))


def _pair(net: Network, node: int, cv: int, hard: Mapping[int, int], table: np.ndarray
          ) -> np.ndarray:
    """The ``(S, m, m)`` pair table from the marginal of its free variables.

    Fixed variables are put back as axes (zero where not observed); an event
    the POD cannot reach (``cv`` its factual variable) sits on the diagonal.
    """
    fv, m = fvar(node), net.card(node)
    full = np.zeros((table.shape[0], m, m))
    if cv == fv:
        if fv in hard:
            full[:, hard[fv], hard[fv]] = 1.0
        else:
            idx = np.arange(m)
            full[:, idx, idx] = table
    elif fv in hard:
        full[:, hard[fv], :] = table
    else:
        full[:] = table
    return full


def _pairs(net: Network, a: np.ndarray, b: np.ndarray, dov: Mapping[int, Setting],
           nodes: Iterable[int], memo: Memo, cache: Cache | None = None
           ) -> dict[int, np.ndarray]:
    """P(X_f, X_cf | history), ``(S, m, m)``, of every node from one tree of the twin network."""
    factors, cvars = twin(net, dov)
    hard, soft = evidence(net)
    draws = a.shape[0]
    free = {i: tuple(v for v in dict.fromkeys((fvar(i), cvars[i])) if v not in hard)
            for i in nodes}
    if not free:
        return {}
    factors = relevant(factors, set(hard) | set(soft) | {v for f in free.values() for v in f})
    asked = list(dict.fromkeys(f for f in free.values() if f))
    found, log_z = marginals(net, factors, hard, soft, asked,
                             lambda f: _cached_table(f, net, a, b, hard, cache)[0], draws,
                             MEMORY_BUDGET, memo)
    if not np.all(log_z > -np.inf):  # what the tree saw has probability exactly 0
        raise _impossible(net, int(np.sum(~(log_z > -np.inf))), draws)
    by_scope = dict(zip(asked, found, strict=True))
    return {i: _pair(net, i, cvars[i], hard, by_scope.get(f, np.ones((draws,))))
            for i, f in free.items()}


def _outcomes(net: Network, a: np.ndarray, b: np.ndarray, dov: Mapping[int, Setting],
              events: list[int], memo: Memo) -> dict[int, np.ndarray]:
    """:func:`distribution` of every event in ``events``, from one junction tree.

    Either the POD's events keep their causes as (ignored) inputs, so every
    POD's tree has one structure and redoes only what its events reach from
    the "history" row's; or, when cheaper, the mutilated network has its own
    tree, with the events the POD sets for certain sliced out as observed.
    """
    outs, draws = {fvar(e) for e in events}, a.shape[0]
    shared = relevant([Factor(i, (fvar(i),), tuple(fvar(p) for p in net.parents[i]),
                              q=dov.get(i)) for i in range(net.size)], outs)
    fixed = {fvar(i): int(np.argmax(w)) for i, w in dov.items()
             if not isinstance(w, DrawWeights) and max(w) == 1.0}
    own = relevant(mutilated(net, dov), outs)
    joint = tuple(fvar(e) for e in events)
    free = tuple(v for v in joint if v not in fixed)
    if not dov or not free or (work(net, own, fixed, {}, [free], MEMORY_BUDGET) >= work(
            net, shared, {}, {}, [joint], MEMORY_BUDGET, lambda f: f.node in dov)):
        fixed, free = {}, joint
        (found,), _ = marginals(net, shared, {}, {}, [joint],
                                lambda f: _cached_table(f, net, a, b, {}, None)[0], draws,
                                MEMORY_BUDGET, memo, reuse=True)
    else:
        (found,), _ = marginals(net, own, fixed, {}, [free],
                                lambda f: _cached_table(f, net, a, b, fixed, None)[0], draws,
                                MEMORY_BUDGET, memo)
    out = {}
    for e in events:
        if fvar(e) in fixed:
            out[e] = np.zeros((draws, net.card(e)))
            out[e][:, fixed[fvar(e)]] = 1.0
        else:
            k = free.index(fvar(e)) + 1
            out[e] = found.sum(axis=tuple(x for x in range(1, len(free) + 1) if x != k))
    return out


def _impossible(net: Network, bad: int, draws: int) -> ImpossibleHistory:
    """What happened has probability 0 in double precision: no conditional exists."""
    where = "every parameter draw" if bad == draws else f"{bad} of {draws} parameter draws"
    return ImpossibleHistory(problems=[Problem(
        net.name, "history",
        f"what happened has probability 0 in double precision (below about 1e-308) under "
        f"{where}, so no counterfactual can be conditioned on it",
        "judge the probabilities on history's path less extremely: a fixed (lone-number) "
        "probability such as 1e-300 is the usual cause; give a range instead, e.g. "
        "[1e-6, 1e-4, 0.01]")])


def counterfactual(net: Network, a: np.ndarray, b: np.ndarray,
                   do: Mapping[Any, Any] | None = None,
                   target: str | int | None = None, cache: Cache | None = None,
                   at_least: int | str | None = None) -> np.ndarray:
    """P(target* >= at_least | do*(POD), history), Pearl's abduction-action-prediction.

    Same parameters as :func:`interventional`; the evidence is ``net.history``.
    With no POD this is the posterior of the target given history.
    """
    a, b = _params(net, a, b)
    t, least = _target(net, target, at_least)
    pair = _pairs(net, a, b, _do(net, do or {}), [t], Memo(), cache)[t]
    return np.clip(pair[:, :, least:].sum(axis=(1, 2)), 0.0, 1.0)


def differs(net: Network, a: np.ndarray, b: np.ndarray,
            do: Mapping[Any, Any] | None = None, cache: Cache | None = None) -> np.ndarray:
    """P(X* != X | history) for every event under the POD, shape ``(S, N)``.

    Events the POD cannot reach never differ (they share their noise and
    their causes); for the others this is the chance that the alternate
    history departs from the factual one at that event.
    """
    a, b = _params(net, a, b)
    dov = _do(net, do or {})
    reach = sorted(net.downstream(list(dov)))
    return _departures(_pairs(net, a, b, dov, reach, Memo(), cache), reach, a.shape[:2])


def _departures(pairs: Mapping[int, np.ndarray], reach: Iterable[int], shape: tuple[int, ...]
                ) -> np.ndarray:
    """P(X* != X), ``(S, N)``: 1 - trace of each pair in ``reach`` (clipped: rounding), else 0."""
    out = np.zeros(shape)
    for i in reach:
        out[:, i] = 1.0 - np.trace(pairs[i], axis1=1, axis2=2)
    return np.clip(out, 0.0, 1.0)


def _likelier(weights: Setting, record: tuple[float, ...] | None, draws: int) -> np.ndarray:
    """The state a POD's setting makes likeliest, per draw: shape ``(S,)``.

    Weights drawn per posterior draw (a prior set's judged strength) are
    judged draw by draw, so that a draw's answer does not depend on which
    other draws are in the batch. Of equally likely states, one other than
    what happened (a POD is a departure from history: 50/50 on a yes/no event
    that happened counts "no"), else the first.
    """
    w = weights.values if isinstance(weights, DrawWeights) else np.asarray(weights)[None, :]
    w = np.broadcast_to(w, (draws, w.shape[-1]))
    tied = w >= w.max(axis=1, keepdims=True) - 1e-12
    happened = record.index(1.0) if record is not None and max(record) == 1.0 else None
    if happened is not None:
        departs = tied.copy()
        departs[:, happened] = False
        tied = np.where(departs.any(axis=1, keepdims=True), departs, tied)
    return np.argmax(tied, axis=1)


def pod_chance(net: Network, a: np.ndarray, b: np.ndarray, do: Mapping[Any, Any],
               cache: Cache | None = None) -> np.ndarray:
    """How likely history itself made the POD, per draw: shape ``(S,)``.

    The product over the POD's events X of P(X = v | X's causes as they
    actually were), v being the state the POD sets (for a soft POD its
    likeliest state). Causes whose history is unknown or soft are averaged
    over their joint posterior given history; a closed gate makes any v but
    the first state impossible. A POD that history had made nearly
    impossible scores near 0 (Tetlock and Belkin's cotenability).
    """
    a, b = _params(net, a, b)
    dov = _do(net, do)
    return _chance(net, dov, _given_history(net, a, b, dov, Memo(), cache), a.shape[0])


def _given_history(net: Network, a: np.ndarray, b: np.ndarray, events: Iterable[int],
                   memo: Memo, cache: Cache | None = None) -> dict[int, np.ndarray]:
    """P(X = s | X's causes as they were) for each event X and state s: ``(S, states)``.

    The causes' joint posterior given history (X's own record included) of
    every event comes from one junction tree of the factual network.
    """
    hard, soft = evidence(net)
    draws = a.shape[0]
    causes = {i: tuple(dict.fromkeys(fvar(p) for p in net.parents[i])) for i in sorted(events)}
    free = {i: tuple(c for c in cs if c not in hard) for i, cs in causes.items()}
    asked = list(dict.fromkeys(f for f in free.values() if f))
    found: list[np.ndarray] = []
    if asked:
        factors = relevant(mutilated(net, {}),
                           set(hard) | set(soft) | {c for cs in causes.values() for c in cs})
        found, _ = marginals(net, factors, hard, soft, asked,
                             lambda f: _cached_table(f, net, a, b, hard, cache)[0], draws,
                             MEMORY_BUDGET, memo)
    posterior = dict(zip(asked, found, strict=True))
    out = {}
    for i, cs in causes.items():
        post = posterior.get(free[i], np.ones(draws))
        mine = Factor(i, (fvar(i),), tuple(fvar(p) for p in net.parents[i]))
        own, idx = table(mine, net, a, b, {c: hard[c] for c in cs if c in hard})
        order = [idx.index(c) for c in (BATCH, *free[i], fvar(i))]
        given = np.transpose(own, order).reshape(draws, -1, net.card(i))
        out[i] = (given * post.reshape(draws, -1, 1)).sum(axis=1)
    return out


def _chance(net: Network, dov: Mapping[int, Setting], given: Mapping[int, np.ndarray],
            draws: int) -> np.ndarray:
    """The POD chance (:func:`pod_chance`) from :func:`_given_history` of its events."""
    chance = np.ones(draws)
    for i, setting in dov.items():
        v = _likelier(setting, net.history[i], draws)
        chance = chance * given[i][np.arange(draws), v]
    return chance


@dataclass(frozen=True)
class PodAnswer:
    """Per-draw answers for one POD (arrays over the draw axis)."""

    interventional: np.ndarray  # (S, outcomes)
    counterfactual: np.ndarray  # (S, outcomes)
    differs: np.ndarray  # (S, N)
    rewrite: np.ndarray  # expected number of changed events, outcome events excluded
    pod_chance: np.ndarray  # (S,): how likely history made the POD (1 for no POD)

    @property
    def route(self) -> np.ndarray:
        """POD chance x counterfactual, ``(S, outcomes)``: how plausible the whole path is."""
        return self.pod_chance[:, None] * self.counterfactual


def answer_pods(net: Network, a: np.ndarray, b: np.ndarray,
                pods: Mapping[str, Mapping[Any, Any]]) -> dict[str, PodAnswer]:
    """Answer the "history" baseline and every POD for every draw and outcome at once.

    Per POD, one junction tree of the twin network given history gives every
    pair marginal (``differs`` and the counterfactuals), and one of the
    mutilated network every interventional distribution; the causes'
    posterior for the POD chance comes from one tree shared by all PODs.

    Parameters
    ----------
    pods : mapping
        POD id -> its ``do`` mapping (values as :func:`interventional` takes
        them, or :class:`DrawWeights`). The baseline row ``"history"`` (no
        intervention) is always added first.
    """
    a, b = _params(net, a, b)
    memo = Memo()  # factor tables and trees shared by every query below (same parameters)
    events = sorted({e for e, _ in net.outcomes})
    dovs = {pid: _do(net, do) for pid, do in {"history": {}, **pods}.items()}
    given = _given_history(net, a, b, {i for dov in dovs.values() for i in dov}, memo)
    return {pid: _answer_one(net, a, b, dov, events, given, memo) for pid, dov in dovs.items()}


def _answer_one(net: Network, a: np.ndarray, b: np.ndarray, dov: Mapping[int, Setting],
                events: list[int], given: Mapping[int, np.ndarray], memo: Memo) -> PodAnswer:
    """Every query of one POD (see :func:`answer_pods`)."""
    reach = sorted(net.downstream(list(dov)))
    pairs = _pairs(net, a, b, dov, sorted({*reach, *events}), memo)
    dif = _departures(pairs, reach, a.shape[:2])
    dist = _outcomes(net, a, b, dov, events, memo)
    return PodAnswer(
        interventional=np.clip(np.stack([dist[e][:, k:].sum(axis=1) for e, k in net.outcomes],
                                        axis=1), 0.0, 1.0),
        counterfactual=np.clip(np.stack([pairs[e][:, :, k:].sum(axis=(1, 2))
                                         for e, k in net.outcomes], axis=1), 0.0, 1.0),
        differs=dif,
        rewrite=np.delete(dif, events, axis=1).sum(axis=1),
        pod_chance=_chance(net, dov, given, a.shape[0]),
    )
