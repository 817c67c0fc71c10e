"""Exact interventional and counterfactual queries, batched over posterior draws.

Each query is one einsum over the factors of :mod:`plausibly.models.factors`
(the mutilated network, or the twin network for counterfactuals), contracted
along a path :mod:`opt_einsum` plans once per shape; the draws ride along as a
batch axis, so thousands of draws cost one contraction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import opt_einsum

from plausibly.models.errors import ContractionTooLarge, ImpossibleHistory, Problem
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
from plausibly.models.network import BATCH, Network
from plausibly.models.settings import MEMORY_BUDGET

__all__ = ["MEMORY_BUDGET", "PodAnswer", "answer_pods", "counterfactual", "differs",
           "distribution", "interventional", "pod_chance"]


#: Bytes one contraction may use for its largest intermediate tensor.


_PATHS: dict[str, tuple[tuple[Any, ...], int]] = {}


#: Factor tables computed for one set of parameters ``(a, b)``, keyed by factor
#: and evidence. Valid only while ``a`` and ``b`` stay the same: a cache is made
#: inside :func:`answer_pods` for one batch of draws and dropped after it.
Cache = dict[tuple[Factor, tuple[tuple[int, int], ...]], tuple[Any, tuple[int, ...]]]

#: a normalising sum below this is recomputed with every table scaled (see _contract)
_TINY = 1e-250


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
              output: tuple[int, ...], cache: Cache | None = None, *, scaled: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Contract the factors to the ``output`` variables.

    Returns ``(log_scale, table)`` with ``table`` of shape ``(S, 2, ...)``:
    the factors with no free variable are multiplied out in log space
    (``log_scale``, shape ``(S,)``); the rest are contracted. The size of the
    contraction is checked against :data:`MEMORY_BUDGET` before any table
    is built.

    With ``scaled``, each table is first divided, per draw, by its largest
    entry, whose log goes to ``log_scale``: tiny entries (a fixed chance of
    1e-300 judged for two events on history's path) then no longer multiply
    to 0. It costs a pass over every table, so it is the fallback for a
    normalising sum that came out too small (:func:`_posterior_pair`).
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
    if scaled:
        for k, t in enumerate(tensors):
            top = t.reshape(-1, t.shape[-1]).max(axis=0)
            top = np.where(top > 0.0, top, 1.0)
            tensors[k] = t / top
            log_scale = log_scale + np.log(top)
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
            raise ContractionTooLarge(problems=[Problem(
                net.name, "",
                f"an exact query needs {per_draw / 2**30:.1f} GiB per draw for its largest "
                f"table (budget {MEMORY_BUDGET / 2**30:.1f} GiB)",
                "give events fewer causes, or split densely connected events, so that the "
                "graph has a smaller treewidth")])
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
    return distribution(net, a, b, do, t, cache)[:, least:].sum(axis=1)


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


def _posterior_pair(net: Network, a: np.ndarray, b: np.ndarray, dov: Mapping[int, Setting],
                    node: int, cache: Cache | None = None) -> np.ndarray:
    """P(X_f, X_cf | history) as an ``(S, m, m)`` table (factual, counterfactual)."""
    factors, cvars = twin(net, dov)
    hard, soft = evidence(net)
    fv, cv = fvar(node), cvars[node]
    needed = set(hard) | set(soft) | {fv, cv}
    factors = relevant(factors, needed)
    out = (fv, cv) if cv != fv else (fv,)
    _, table = _contract(net, factors, a, b, hard, soft, out, cache)
    total = table.reshape(a.shape[0], -1).sum(axis=1)
    if not np.all(total > _TINY):  # near or past underflow (0 / 0 = NaN): again, scaled
        _, table = _contract(net, factors, a, b, hard, soft, out, cache, scaled=True)
        total = table.reshape(a.shape[0], -1).sum(axis=1)
        if not np.all(total > 0.0):
            raise _impossible(net, int(np.sum(~(total > 0.0))), a.shape[0])
    table = table / total[(...,) + (None,) * (table.ndim - 1)]
    # put fixed variables back as axes (zero where not observed)
    m = net.card(node)
    full = np.zeros((a.shape[0], m, m))
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
    pair = _posterior_pair(net, a, b, _do(net, do or {}), t, cache)
    return np.asarray(pair[:, :, least:].sum(axis=(1, 2)))


def differs(net: Network, a: np.ndarray, b: np.ndarray,
            do: Mapping[Any, Any] | None = None, cache: Cache | None = None) -> np.ndarray:
    """P(X* != X | history) for every event under the POD, shape ``(S, N)``.

    Events the POD cannot reach never differ (they share their noise and
    their causes); for the others this is the chance that the alternate
    history departs from the factual one at that event.
    """
    a, b = _params(net, a, b)
    dov = _do(net, do or {})
    out = np.zeros(a.shape[:2])
    for i in sorted(net.downstream(list(dov))):
        pair = _posterior_pair(net, a, b, dov, i, cache)
        out[:, i] = 1.0 - np.trace(pair, axis1=1, axis2=2)
    return out


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
    chance = np.ones(a.shape[0])
    hard, soft = evidence(net)
    draws = a.shape[0]
    for i, setting in dov.items():
        v = _likelier(setting, net.history[i], draws)
        mine = Factor(i, (fvar(i),), tuple(fvar(p) for p in net.parents[i]))
        causes = tuple(dict.fromkeys(fvar(p) for p in net.parents[i]))
        # the causes' joint posterior given history (X's own record included)
        factors = relevant(mutilated(net, {}), set(hard) | set(soft) | set(causes))
        _, post = _contract(net, factors, a, b, hard, soft, causes, cache)
        free = tuple(c for c in causes if c not in hard)
        post = post / post.reshape(draws, -1).sum(axis=1)[(...,) + (None,) * len(free)]
        # P(X = s | causes) for every state s, averaged over the causes: (S, states)
        own, idx = table(mine, net, a, b, {c: hard[c] for c in causes if c in hard})
        order = [idx.index(c) for c in (BATCH, *free, fvar(i))]
        given = np.transpose(own, order).reshape(draws, -1, net.card(i))
        states = (given * post.reshape(draws, -1, 1)).sum(axis=1)
        chance = chance * states[np.arange(draws), v]
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

    Parameters
    ----------
    pods : mapping
        POD id -> its ``do`` mapping (values as :func:`interventional` takes
        them, or :class:`DrawWeights`). The baseline row ``"history"`` (no
        intervention) is always added first.
    """
    a, b = _params(net, a, b)
    results: dict[str, PodAnswer] = {}
    cache: Cache = {}  # factor tables shared by every query below (same parameters)
    events = sorted({e for e, _ in net.outcomes})
    for pid, do in {"history": {}, **pods}.items():
        results[pid] = _answer_one(net, a, b, do, events, cache)
    return results


def _answer_one(net: Network, a: np.ndarray, b: np.ndarray, do: Mapping[Any, Any],
                events: list[int], cache: Cache) -> PodAnswer:
    """Every query of one POD (see :func:`answer_pods`)."""
    dov = _do(net, do)
    dif = differs(net, a, b, dov, cache)
    dist = {e: distribution(net, a, b, dov, e, cache) for e in events}
    pairs = {e: _posterior_pair(net, a, b, dov, e, cache) for e in events}
    return PodAnswer(
        interventional=np.stack([dist[e][:, k:].sum(axis=1) for e, k in net.outcomes],
                                axis=1),
        counterfactual=np.stack([pairs[e][:, :, k:].sum(axis=(1, 2))
                                 for e, k in net.outcomes], axis=1),
        differs=dif,
        rewrite=np.delete(dif, events, axis=1).sum(axis=1),
        pod_chance=pod_chance(net, a, b, dov, cache),
    )
