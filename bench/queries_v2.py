"""Benchmark: version 2 exact queries (states, gates, interactions) against a pgmpy loop.

Run from the repository root::

    .venv/bin/python bench/queries_v2.py [--draws 4000] [--pgmpy-draws 3] [--repeat 3]

The workload is a generated scenario (fixed seed): 30 events in time order,
each with one to three causes among the six events before it (mean in-degree
about 2, as in the bundled scenario's 62 edges on 30 events); five events with
three states; three gates
(``requires``); three interactions; history hard on most events, soft on
three and unknown on four (so the counterfactual conditions on a real
contraction). Its PODs: every event but the outcome set hard to a state other
than history's (29), plus three soft PODs over states. Parameters: ``--draws``
draws of ordered thresholds and term weights (seeded).

It times, best and median of ``--repeat`` runs after an untimed warm-up
(reported as "cold"):

* every POD x both queries (interventional, counterfactual) for all draws;
* :func:`answer_pods` (adds the history row, ``differs`` for every event the POD
  reaches, the rewrite and the POD chance);
* pgmpy: for ``--pgmpy-draws`` draws, a ``DiscreteBayesianNetwork`` with that
  draw's CPTs (ordered logit, gates) and, per hard POD, pgmpy's own ``do``
  followed by variable elimination; the time is extrapolated to all draws and
  said to be. pgmpy has no twin-network counterfactual: only the hard
  interventional queries are compared, like for like.

It checks that both agree on the draws pgmpy ran (1e-9) and exits 1 if not.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings

import numpy as np

from plausibly.models import queries as C
from plausibly.models.network import YES_NO, Network

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from queries import machine_info

SEED = 20261202
TOL = 1e-9
TARGET_BATCH_S = 1.0
TARGET_RATIO = 100.0
warnings.filterwarnings("ignore", category=FutureWarning)


def workload(rng: np.random.Generator) -> tuple[Network, dict[str, dict[int, object]]]:
    """The generated 30-event network and its PODs (see the module's docstring)."""
    n = 30
    three = {4, 9, 14, 19, 24}  # the events with states
    states = tuple(("low", "mid", "high") if i in three else YES_NO for i in range(n))
    parents: list[tuple[int, ...]] = []
    for i in range(n):
        pool = list(range(max(0, i - 6), i))
        rng.shuffle(pool)
        parents.append(tuple(sorted(pool[: min(int(rng.integers(1, 4)), len(pool))])))
    gated = {10: parents[10][0], 20: parents[20][0], 27: parents[27][0]}
    # three interactions, on the first events from 12, 22 and 29 on with two causes that
    # influence them (not a gate): with this seed event 12 has one cause
    paired: list[int] = []
    for start in (12, 22, 29):
        paired.append(next(i for i in [*range(start, n), *range(start)]
                           if i not in paired
                           and len([p for p in parents[i] if gated.get(i) != p]) >= 2))
    terms, gates = [], []
    for i in range(n):
        own = []
        for p in parents[i]:
            if gated.get(i) == p:
                continue
            own.extend(((p, s, s),) for s in range(1, len(states[p])))
        if i in paired:  # an interaction of the first two influences, each at its top
            x, y = [p for p in parents[i] if gated.get(i) != p][:2]
            own.append(((x, len(states[x]) - 1, len(states[x]) - 1),
                        (y, len(states[y]) - 1, len(states[y]) - 1)))
        terms.append(tuple(own))
        gates.append(((gated[i], len(states[gated[i]]) - 1),) if i in gated else ())
    history: list[object] = []
    for i in range(n):
        m = len(states[i])
        if i in (3, 8, 16, 25):
            history.append(None)
        elif i in (6, 14, 21):
            w = rng.random(m) + 0.2
            history.append(tuple(w / w.sum()))
        else:
            history.append(tuple(float(k == m - 1) for k in range(m)))
    # a gated event is at its first state where its gate was closed in history
    for i, (p, least) in ((i, g[0]) for i, g in enumerate(gates) if g):
        h = history[p]
        if isinstance(h, tuple) and max(h) == 1.0 and h.index(1.0) < least:
            history[i] = tuple(float(k == 0) for k in range(len(states[i])))
    net = Network(tuple(f"e{i:02d}" for i in range(n)), tuple(parents), tuple(history), n - 1,
                  "generated", states=states, terms=tuple(terms), gates=tuple(gates))
    pods: dict[str, dict[int, object]] = {}
    for i in range(n - 1):
        h = history[i]
        happened = h.index(1.0) if isinstance(h, tuple) and max(h) == 1.0 else -1
        pods[f"set_{i:02d}"] = {i: states[i][0 if happened != 0 else len(states[i]) - 1]}
    for i in sorted(three)[:3]:
        pods[f"soft_{i:02d}"] = {i: {"low": 0.2, "mid": 0.3, "high": 0.5}}
    return net, pods


def parameters(rng: np.random.Generator, net: Network, draws: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds (sorted, decreasing) and term weights for every draw."""
    a = -np.sort(-rng.normal(0.0, 1.5, (draws, net.size, net.max_thresholds)), axis=-1)
    b = rng.normal(0.0, 2.0, (draws, net.size, net.max_parents))
    return a, b


def cpd_columns(net: Network, a: np.ndarray, b: np.ndarray, i: int) -> np.ndarray:
    """P(X_i = s | parents) for every parent configuration (pgmpy's column order)."""
    ps = net.parents[i]
    cols = []
    for config in itertools.product(*[range(net.card(p)) for p in ps]):
        world = dict(zip(ps, config, strict=True))
        m = net.card(i)
        if not net.gate_open(i, world):
            cols.append([1.0] + [0.0] * (m - 1))
            continue
        eta = float(np.dot(b[i, : len(net.terms[i])], net.activations(i, world)))
        up = [1.0] + [1.0 / (1.0 + np.exp(-(a[i, k] + eta))) for k in range(m - 1)] + [0.0]
        cols.append([up[s] - up[s + 1] for s in range(m)])
    return np.array(cols).T


def pgmpy_draw(net: Network, a: np.ndarray, b: np.ndarray,
               hard: dict[str, dict[int, object]]) -> tuple[np.ndarray, float]:
    """Every hard POD's P(outcome >= yes) for one draw by pgmpy; (answers, seconds)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

    t0 = time.perf_counter()
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.nodes)
    model.add_edges_from([(net.nodes[p], x) for i, x in enumerate(net.nodes)
                          for p in net.parents[i]])
    for i, x in enumerate(net.nodes):
        ps = net.parents[i]
        names = {x: list(net.states[i]), **{net.nodes[p]: list(net.states[p]) for p in ps}}
        model.add_cpds(TabularCPD(x, net.card(i), cpd_columns(net, a, b, i),
                                  evidence=[net.nodes[p] for p in ps] or None,
                                  evidence_card=[net.card(p) for p in ps] or None,
                                  state_names=names))
    out = net.nodes[net.outcome]
    answers = []
    for do in hard.values():
        [(i, state)] = do.items()
        found = VariableElimination(model.do([net.nodes[i]])).query(
            [out], evidence={net.nodes[i]: state}, show_progress=False)
        answers.append(found.get_value(**{out: "yes"}))
    return np.array(answers), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=4000)
    ap.add_argument("--pgmpy-draws", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    print("== plausibly version 2 exact queries vs a per-draw pgmpy loop ==")
    for line in machine_info():
        print(line)
    rng = np.random.default_rng(args.seed)
    net, pods = workload(rng)
    a, b = parameters(rng, net, args.draws)
    hard = {k: v for k, v in pods.items() if k.startswith("set_")}
    print(f"workload  generated: {net.size} events ({sum(c == 3 for c in net.cards)} with 3 "
          f"states), {sum(map(bool, net.gates))} gates, "
          f"{sum(len(t) > 1 for ts in net.terms for t in ts)} interactions, "
          f"{len(pods)} PODs ({len(hard)} hard), {args.draws} draws")

    def batch() -> None:
        for do in pods.values():
            C.interventional(net, a, b, do)
            C.counterfactual(net, a, b, do)

    def shared() -> None:  # one table cache for the batch, as the single queries allow
        cache: C.Cache = {}
        for do in pods.values():
            C.interventional(net, a, b, do, cache=cache)
            C.counterfactual(net, a, b, do, cache=cache)

    def answers() -> None:
        C.answer_pods(net, a, b, pods)

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    jobs = {"batch": batch, "shared": shared, "answer_pods": answers}
    cold = {name: timed(fn) for name, fn in jobs.items()}
    runs: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.repeat):  # interleaved, so that a slower spell hits them all
        for name, fn in jobs.items():
            runs[name].append(timed(fn))
    hard_only = {"hard": 0.0}

    def hard_batch() -> None:
        for do in hard.values():
            C.interventional(net, a, b, do)

    hard_only["hard"] = min(timed(hard_batch) for _ in range(args.repeat))

    picks = np.linspace(0, args.draws - 1, args.pgmpy_draws).astype(int)
    spent, worst = [], 0.0
    for d in picks:
        got, seconds = pgmpy_draw(net, a[d], b[d], hard)
        spent.append(seconds)
        ours = np.array([C.interventional(net, a[d], b[d], do)[0] for do in hard.values()])
        worst = max(worst, float(np.max(np.abs(ours - got))))
    pgmpy_total = statistics.mean(spent) * args.draws

    print(f"\n{'workload':<58}{'cold s':>8}{'best s':>8}{'median s':>9}")
    for name, label in (("batch", f"every POD x both queries ({2 * len(pods)} queries)"),
                        ("shared", "  the same, one table cache shared by the queries"),
                        ("answer_pods", "answer_pods (history row, differs, POD chance)")):
        print(f"{label:<58}{cold[name]:>8.3f}{min(runs[name]):>8.3f}"
              f"{statistics.median(runs[name]):>9.3f}")
    print(f"{'plausibly: hard PODs, interventional only':<58}{'':>8}"
          f"{hard_only['hard']:>8.3f}")
    print(f"{'pgmpy: hard PODs, interventional, per-draw (EXTRAPOLATED)':<58}{'':>8}"
          f"{pgmpy_total:>8.1f}")
    print(f"\npgmpy: {len(picks)} draws really run, {statistics.mean(spent):.2f} s per draw, "
          f"x {args.draws} = {pgmpy_total:.0f} s EXTRAPOLATED, not measured.")
    ok = worst <= TOL
    print(f"agreement on those draws: max |diff| = {worst:.2e} ({'OK' if ok else 'FAIL'}, "
          f"tolerance {TOL:g})")
    ratio = pgmpy_total / hard_only["hard"]
    print("\ntargets:")
    print(f"  every POD x both queries x {args.draws} draws under {TARGET_BATCH_S:g} s:")
    for name, how in (("answer_pods", "answer_pods, as estimate asks them"),
                      ("shared", "one query at a time, one table cache"),
                      ("batch", "one query at a time, no cache")):
        best = min(runs[name])
        print(f"    {how:<38} best {best:.3f} s "
              f"{'MET' if best < TARGET_BATCH_S else 'NOT MET'}")
    print(f"  >= {TARGET_RATIO:g}x the pgmpy loop (like for like): {ratio:,.0f}x "
          f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
