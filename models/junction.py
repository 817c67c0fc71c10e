"""Every marginal of one network and evidence from one calibrated junction tree.

Many marginals of the same factors (the pair of every event of a twin
network) contracted one at a time repeat most of the work. A junction tree
does it once: the free variables are eliminated in min-fill order, the
cliques of that elimination are joined into a tree in which every variable's
cliques are connected (the running-intersection property), each factor goes
to a clique holding its scope, and two passes of messages (Shafer-Shenoy)
leave every clique with its marginal. The draws ride along as the last axis
of every table, where numpy's einsum loops run over them.

Every factor table and every message is divided, per draw, by its largest
entry or its sum, and the logs of those divisors are kept: a product of tiny
probabilities (two judged chances of 1e-300 on history's path) never
underflows, and the log of the total (``log_z``) is still exact.

The structure (cliques, messages, einsum strings) depends only on the
factors' scopes and the queries, and is planned once per process. A
calibration can start from an earlier one of the same structure, redoing only
the steps that read a factor table that changed (another POD's).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from plausibly.models.errors import ContractionTooLarge, Problem
from plausibly.models.factors import Factor, einsum_spec, free_vars, sizes
from plausibly.models.network import BATCH, Network

__all__ = ["Calibration", "Memo", "Step", "TreePlan", "answers", "calibrate", "marginals",
           "plan_tree", "too_large", "work"]

Scope = tuple[int, ...]


@dataclass(frozen=True)
class Step:
    """One einsum of a tree's schedule.

    ``inputs`` name its operands: ``(0, k)`` the ``k``-th operand (a factor
    table or soft evidence), ``(1, j)`` the result of step ``j``. ``kind`` is
    ``"potential"`` (a clique's operands multiplied once for several uses),
    ``"collect"`` or ``"distribute"`` (a message towards or away from the
    root, normalised per draw), ``"query"`` (a marginal, not yet normalised)
    or ``"total"`` (a root's sum; with no ``spec``, the sum of its one input).
    ``scope`` is the variables of its result: a message leaves out a separator
    variable it is constant along (one whose factors all lie on the side it
    goes to).
    """

    kind: str
    clique: int
    scope: Scope
    inputs: tuple[tuple[int, int], ...]
    spec: str


@dataclass(frozen=True)
class TreePlan:
    """A junction tree and its schedule, for one structure of factors and queries.

    ``cliques`` are the maximal cliques of the triangulated interaction graph,
    ``parent`` each one's neighbour towards its root (``-1`` for a root, one
    per connected component), ``steps`` every einsum (each after the steps it
    reads), ``queries`` the step of each query's marginal. ``per_draw`` is the
    bytes per draw of the largest clique, ``held`` a bound on the bytes per
    draw of every table a calibration holds at once.
    """

    cliques: tuple[Scope, ...]
    parent: tuple[int, ...]
    steps: tuple[Step, ...]
    queries: tuple[int, ...]
    per_draw: int
    held: int


def too_large(name: str, per_draw: int, budget: int) -> ContractionTooLarge:
    """The error for a query whose largest table per draw exceeds ``budget`` bytes."""
    return ContractionTooLarge(problems=[Problem(
        name, "",
        f"an exact query needs {per_draw / 2**30:.1f} GiB per draw for its largest "
        f"table (budget {budget / 2**30:.1f} GiB)",
        "give events fewer causes, or split densely connected events, so that the "
        "graph has a smaller treewidth")])


def _eliminate(scopes: Sequence[Scope], card: Mapping[int, int], budget: int, name: str
               ) -> list[Scope]:
    """The maximal cliques of a min-fill elimination of the interaction graph.

    Ties go to the smaller clique (min-weight), then to the lower variable,
    so the plan is deterministic. Raises :class:`ContractionTooLarge` as soon
    as a clique's table would exceed ``budget`` bytes per draw.
    """
    adj: dict[int, set[int]] = {}
    for scope in scopes:
        for v in scope:
            adj.setdefault(v, set()).update(u for u in scope if u != v)

    def cost(v: int) -> tuple[int, int, int]:
        nb = adj[v]
        fill = sum(len(nb - adj[u]) - 1 for u in nb) // 2
        return fill, math.prod(card[u] for u in nb) * card[v], v

    cliques: list[Scope] = []
    while adj:
        v = min(adj, key=cost)
        nb = adj.pop(v)
        clique = (v, *sorted(nb))
        entries = math.prod(card[u] for u in clique)
        if entries * 8 > budget:
            raise too_large(name, entries * 8, budget)
        for u in nb:
            adj[u].discard(v)
            adj[u].update(w for w in nb if w != u)
        cliques.append(clique)
    sets = [frozenset(c) for c in cliques]
    return [c for k, c in enumerate(cliques)
            if not any(sets[k] < s or (sets[k] == s and j > k) for j, s in enumerate(sets))]


def _spanning_forest(cliques: list[Scope]) -> list[list[int]]:
    """Neighbours of each clique in a maximum-weight spanning forest (Kruskal).

    Weighted by separator size, the forest of a triangulated graph's maximal
    cliques has the running-intersection property; cliques that share no
    variable stay in separate trees.
    """
    sets = [set(c) for c in cliques]
    pairs = sorted(((len(sets[i] & sets[j]), i, j) for i in range(len(cliques))
                    for j in range(i + 1, len(cliques)) if sets[i] & sets[j]),
                   key=lambda t: (-t[0], t[1], t[2]))
    group = list(range(len(cliques)))

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    near: list[list[int]] = [[] for _ in cliques]
    for _, i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            group[ri] = rj
            near[i].append(j)
            near[j].append(i)
    return near


def _home(scope: Scope, cliques: list[Scope]) -> int:
    """The smallest clique holding every variable of ``scope``."""
    return min((len(c), k) for k, c in enumerate(cliques) if set(scope) <= set(c))[1]


def _spec(inputs: Sequence[Scope], out: Scope) -> str:
    """An einsum string over integer variables, the draw axis last on every table."""
    return einsum_spec([(*s, BATCH) for s in inputs], (*out, BATCH))


@functools.lru_cache(maxsize=1024)
def plan_tree(scopes: tuple[Scope, ...], card: tuple[tuple[int, int], ...],
              queries: tuple[Scope, ...], budget: int, name: str) -> TreePlan:
    """Plan the junction tree of factors with these scopes, for these marginals.

    Parameters
    ----------
    scopes : tuple of tuple of int
        Each operand's variables, in the order of its table's axes.
    card : tuple of (int, int)
        Each variable's number of states.
    queries : tuple of tuple of int
        The marginals wanted; each lands in one clique (the elimination
        treats it as a factor's scope, so it needs no extra work if it is one).
    budget : int
        Bytes per draw no clique table may exceed.
    name : str
        The network's name, for the error.

    Raises
    ------
    ContractionTooLarge
        When a clique exceeds ``budget``, as soon as the elimination meets it.
    """
    cards = dict(card)
    cliques = _eliminate((*scopes, *queries), cards, budget, name)
    near = _spanning_forest(cliques)
    home = [_home(s, cliques) for s in scopes]
    asked = [_home(q, cliques) for q in queries]
    # one root per component: a clique with a query if there is one
    parent = [-2] * len(cliques)
    order: list[int] = []
    roots: list[int] = []
    for start in [*asked, *range(len(cliques))]:
        if parent[start] != -2:
            continue
        parent[start] = -1
        roots.append(start)
        queue = [start]
        while queue:
            c = queue.pop(0)
            order.append(c)
            for d in near[c]:
                if parent[d] == -2:
                    parent[d] = c
                    queue.append(d)
    needed: set[int] = set()  # cliques a query needs the distribute messages of
    for c in asked:
        while c >= 0 and c not in needed:
            needed.add(c)
            c = parent[c]
    edges = [(c, parent[c]) for c in reversed(order) if parent[c] >= 0] + [
        (parent[c], c) for c in order if parent[c] >= 0 and c in needed]
    uses = [sum(s == c for s, _ in edges) + asked.count(c) + (c in roots and c not in asked)
            for c in range(len(cliques))]
    steps: list[Step] = []
    own: list[list[tuple[tuple[int, int], Scope]]] = []  # each clique's factors as inputs
    for c in range(len(cliques)):
        mine = [((0, k), scopes[k]) for k, h in enumerate(home) if h == c]
        if uses[c] > 1 and len(mine) > 1:  # multiplied once, read several times
            scope = tuple(dict.fromkeys(v for _, s in mine for v in s))
            steps.append(Step("potential", c, scope, tuple(r for r, _ in mine),
                              _spec([s for _, s in mine], scope)))
            mine = [((1, len(steps) - 1), scope)]
        own.append(mine)
    inbox: list[dict[int, int]] = [{} for _ in cliques]

    def step(kind: str, c: int, out: Scope | None, skip: int = -1) -> None:
        inputs = own[c] + [((1, j), steps[j].scope) for d, j in inbox[c].items() if d != skip]
        there = {v for _, s in inputs for v in s}
        scope = tuple(v for v in (out if out is not None else cliques[c]) if v in there)
        if out is None:  # a message: the separator with ``skip``
            scope = tuple(v for v in scope if v in cliques[skip])
        steps.append(Step(kind, c, scope, tuple(r for r, _ in inputs),
                          _spec([s for _, s in inputs], scope)))

    for src, dst in edges:
        step("collect" if parent[src] == dst else "distribute", src, None, dst)
        inbox[dst][src] = len(steps) - 1
    found = []
    for c, q in zip(asked, queries, strict=True):
        step("query", c, q)
        found.append(len(steps) - 1)
    for r in roots:
        if r in asked:  # its query's sum is the total
            steps.append(Step("total", r, (), ((1, found[asked.index(r)]),), ""))
        else:
            step("total", r, ())
    widest = max((math.prod(cards[v] for v in c) for c in cliques), default=1)
    held = sum(math.prod(cards[v] for v in s) for s in (*scopes, *cliques)) + sum(
        math.prod(cards[v] for v in s.scope) for s in steps)
    return TreePlan(cliques=tuple(cliques), parent=tuple(parent), steps=tuple(steps),
                    queries=tuple(found), per_draw=8 * widest, held=8 * (held + widest))


def _per_draw(t: np.ndarray, by_max: bool = False) -> np.ndarray:
    """A table's sum (or largest entry) per draw (the last axis): shape ``(S,)``.

    Reduced over the other axes where they lie: einsum lays out its results
    like its inputs (the draws innermost, the rest in any order), and a
    reshape would copy them.
    """
    axes = tuple(range(t.ndim - 1))
    return t.max(axis=axes) if by_max else t.sum(axis=axes)


def _normalised(t: np.ndarray, by_max: bool, inplace: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """``t`` divided per draw by its largest entry (or its sum), and the log of that divisor.

    A draw whose entries are all 0 keeps them, and its log is ``-inf``. With
    ``inplace`` (a table nothing else holds) no new table is allocated: on
    the tables of a big clique that halves the time.
    """
    top = _per_draw(t, by_max)
    inverse = 1.0 / np.where(top > 0.0, top, 1.0)  # a product is cheaper than a quotient
    with np.errstate(divide="ignore"):
        log = np.log(top)
    if inplace:
        t *= inverse
        return t, log
    return t * inverse, log


@dataclass(frozen=True)
class Calibration:
    """The tables of one pass over a tree: what a later pass with some operands changed reuses.

    ``operands`` are the tables it was given (compared by identity), ``results``
    each step's table, ``logs`` the log of each collect message's normaliser
    and of each root's total.
    """

    operands: list[np.ndarray]
    results: list[np.ndarray]
    logs: list[np.ndarray | None]

    @property
    def log_z(self) -> np.ndarray:
        """Log of the sum, over every variable, of the operands' product: ``(S,)``."""
        return np.sum([x for x in self.logs if x is not None], axis=0)


def calibrate(plan: TreePlan, operands: Sequence[np.ndarray],
              previous: Calibration | None = None) -> Calibration:
    """Run the schedule of ``plan`` over one batch of tables.

    Parameters
    ----------
    plan : TreePlan
        From :func:`plan_tree` for these operands' scopes.
    operands : sequence of ndarray
        Each operand's table, the draw axis last (length ``S``, or 1 for a
        table shared by every draw).
    previous : Calibration, optional
        A pass of the same plan and draws: the steps that read none of the
        operands that changed (by identity) since are taken from it.
    """
    draws = max(t.shape[-1] for t in operands)
    if previous is not None and len(previous.operands) != len(operands):
        previous = None
    changed = [previous is None or previous.operands[k] is not t for k, t in enumerate(operands)]
    stale: list[bool] = []
    results: list[np.ndarray] = []
    logs: list[np.ndarray | None] = []
    for j, st in enumerate(plan.steps):
        stale.append(any(changed[k] if kind == 0 else stale[k] for kind, k in st.inputs))
        if previous is not None and not stale[j]:
            results.append(previous.results[j])
            logs.append(previous.logs[j])
            continue
        stale[j] = True
        ins = [operands[k] if kind == 0 else results[k] for kind, k in st.inputs]
        if st.kind == "total" and not st.spec:
            out = _per_draw(ins[0])
        else:
            out = np.einsum(st.spec, *ins) if ins else np.ones(draws)
        log = None
        if st.kind in ("collect", "distribute"):  # in place, unless einsum gave a view
            out, log = _normalised(out, False, not any(np.may_share_memory(out, x) for x in ins))
            log = log if st.kind == "collect" else None
        elif st.kind == "total":
            with np.errstate(divide="ignore"):
                log = np.log(out)
        results.append(out)
        logs.append(log)
    return Calibration(list(operands), results, logs)


def answers(plan: TreePlan, cal: Calibration) -> list[np.ndarray]:
    """Each query's marginal, normalised per draw, the draw axis last (NaN where the total is 0)."""
    out = []
    for j in plan.queries:
        table = cal.results[j]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(table / _per_draw(table))
    return out


@dataclass
class Memo:
    """What the trees of one batch of draws share.

    ``scaled``: each factor table (per evidence), divided per draw by its
    largest entry, and the log of that divisor. ``base``: the first
    calibration of each plan asked to be reused.
    """

    scaled: dict[tuple[Factor, tuple[tuple[int, int], ...]], tuple[np.ndarray, np.ndarray]] = (
        field(default_factory=dict))
    base: dict[int, tuple[TreePlan, Calibration]] = field(default_factory=dict)


def _planned(net: Network, factors: Sequence[Factor], fixed: Mapping[int, int],
             soft: Mapping[int, tuple[float, ...]], queries: Sequence[Scope], budget: int
             ) -> tuple[list[Factor], list[int], TreePlan | None]:
    """The factors with a table, the soft evidence's variables, and their plan (None: no table)."""
    tabled = [f for f in factors if free_vars(f, fixed)]
    lone = [v for v in soft if v not in fixed]
    scopes = tuple(free_vars(f, fixed) for f in tabled) + tuple((v,) for v in lone)
    if not scopes:
        return tabled, lone, None
    card = sizes(net, sorted({v for s in (*scopes, *queries) for v in s}))
    return tabled, lone, plan_tree(scopes, tuple(card.items()), tuple(queries), budget, net.name)


def work(net: Network, factors: Sequence[Factor], fixed: Mapping[int, int],
         soft: Mapping[int, tuple[float, ...]], queries: Sequence[Scope], budget: int,
         changed: Callable[[Factor], bool] | None = None) -> int:
    """Multiply-adds per draw of :func:`marginals` on these factors (planned, not run).

    With ``changed``, only of the steps a reused calibration would redo: those
    that read, directly or through a message, a factor ``changed`` picks.
    """
    tabled, _, plan = _planned(net, factors, fixed, soft, queries, budget)
    if plan is None:
        return 0
    card = dict(sizes(net, sorted({v for c in plan.cliques for v in c})))
    stale: list[bool] = []
    total = 0
    for st in plan.steps:
        stale.append(changed is None or any(
            (k < len(tabled) and changed(tabled[k])) if kind == 0 else stale[k]
            for kind, k in st.inputs))
        if stale[-1]:
            total += math.prod(card[v] for v in plan.cliques[st.clique]) * max(
                1, len(st.inputs) - 1)
    return total


def marginals(net: Network, factors: Sequence[Factor], fixed: Mapping[int, int],
              soft: Mapping[int, tuple[float, ...]], queries: Sequence[Scope],
              tables: Callable[[Factor], np.ndarray], draws: int, budget: int,
              memo: Memo | None = None, reuse: bool = False
              ) -> tuple[list[np.ndarray], np.ndarray]:
    """Every query's marginal of the factors given the evidence, for every draw.

    Parameters
    ----------
    net : Network
        The structure (cards, and its name for errors).
    factors : sequence of Factor
        The network's factors; those with no free variable are left out (as
        :func:`~plausibly.models.queries._contract` leaves them out of its table).
    fixed, soft : mapping
        Hard evidence (variable -> observed state, sliced out of the tables) and
        soft evidence (variable -> likelihood over its states, a unary factor).
    queries : sequence of tuple of int
        The free variables of each marginal wanted (none empty).
    tables : callable
        A factor's table over :func:`~plausibly.models.factors.free_vars`, the
        draw axis last.
    draws, budget : int
        The number of draws ``S``; bytes one table may use per draw (and, in
        all, per chunk of draws).
    memo : Memo, optional
        Scaled tables and calibrations shared with other calls on the same draws.
    reuse : bool
        Start from the first calibration of the same structure made with
        ``reuse`` (kept in ``memo``): only the steps that read a factor table
        that differs from it are recomputed. The interventional tree of each
        POD so redoes only what the POD's events reach from the baseline's.

    Returns
    -------
    marginals : list of ndarray
        Each query's distribution, shape ``(S, *states)``, normalised per draw.
    log_z : ndarray of shape ``(S,)``
        The log of the total probability of the tabled factors and soft evidence.

    Raises
    ------
    ContractionTooLarge
        When a clique's table exceeds ``budget`` per draw; before any table is built.
    """
    tabled, lone, plan = _planned(net, factors, fixed, soft, queries, budget)
    if plan is None:  # everything observed: nothing to marginalise (and no query)
        return [np.ones((draws,)) for _ in queries], np.zeros(draws)
    memo = Memo() if memo is None else memo
    operands = []
    log_scale = np.zeros(draws)
    for f in tabled:
        key = (f, tuple((v, fixed[v]) for v in f.inputs + f.out if v in fixed))
        whole = memo.scaled.get((f, ()))
        if key not in memo.scaled and whole is not None:  # a slice of one already made
            at = tuple(fixed.get(v, slice(None)) for v in free_vars(f, {}))
            t, log_top = _normalised(whole[0][at], by_max=True)
            memo.scaled[key] = t, whole[1] + log_top
        elif key not in memo.scaled:  # once per batch: every tree that reads it shares it
            memo.scaled[key] = _normalised(tables(f), by_max=True)
        t, log_top = memo.scaled[key]
        operands.append(t)
        log_scale = log_scale + log_top
    for v in lone:
        t, log_top = _normalised(np.asarray(soft[v], dtype=float)[:, None], by_max=True)
        operands.append(t)
        log_scale = log_scale + log_top
    chunk = max(1, min(draws, budget // plan.held))
    if chunk >= draws:
        base = memo.base.get(id(plan)) if reuse else None
        cal = calibrate(plan, operands, base[1] if base is not None and base[0] is plan else None)
        if reuse and base is None:
            memo.base[id(plan)] = (plan, cal)
        found, log_z = answers(plan, cal), cal.log_z
    else:  # a slice of every table per chunk of draws (shared tables stay whole)
        parts = [calibrate(plan, [t[..., start:start + chunk] if t.shape[-1] > 1 else t
                                  for t in operands])
                 for start in range(0, draws, chunk)]
        found = [np.concatenate([answers(plan, p)[k] for p in parts], axis=-1)
                 for k in range(len(queries))]
        log_z = np.concatenate([p.log_z for p in parts])
    return [np.moveaxis(t, -1, 0) for t in found], log_z + log_scale
