"""Benchmark: batched exact queries (plausibly) against a per-draw pgmpy loop.

Run from the repository root::

    .venv/bin/python bench/queries.py [--draws 4000] [--pgmpy-draws 5] [--profile]

On the version 1 scenario ``ussr_1930`` (``tests/data/v1``: the bundled files
before version 2) with parameter draws from the prior of its prior set
``contingency`` (fixed seed), it times

* plausibly: every POD x both queries (interventional and counterfactual) for
  all draws at once, and :func:`answer_pods` (which adds the "history" row, the
  per-event ``differs`` and the rewrite); best and median of ``--repeat`` runs
  (the workloads interleaved), after a first run that also finds and caches the
  contraction paths (its time is reported as "cold");
* pgmpy (the baseline): for a few draws, build a ``DiscreteBayesianNetwork``
  and ask ``CausalInference.query(do=...)`` for every hard POD; the time is
  extrapolated to all draws. pgmpy has no twin-network counterfactual, so only
  the interventional half is compared; soft PODs (``do = {x = 0.3}``) have no
  pgmpy equivalent and are left out of both arms of that comparison.

It also checks that both libraries give the same interventional answers (to
1e-9) on the draws pgmpy ran, and exits with status 1 if they do not.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from plausibly.models import queries as C
from plausibly.models.junction import plan_tree
from plausibly.models.network import Network
from plausibly.models.scenario import Pod, load_scenario
from plausibly.priors.catalog import load_prior_sets

#: the version 1 scenario and prior set (the bundled files before version 2, kept as test
#: fixtures): yes/no events only, so every hard POD has a pgmpy equivalent.
#: bench/queries_v2.py measures the version 2 language on a generated scenario.
_V1 = Path(__file__).resolve().parents[1] / "tests" / "data" / "v1"
SCENARIO = str(_V1 / "ussr_1930.toml")
PRIORS = str(_V1 / "priors" / "contingency.toml")
SEED = 20240917
TOL = 1e-9
TARGET_BATCH_S = 1.0
TARGET_RATIO = 100.0

# pgmpy warns FutureWarnings on import; silence them here, in the bench only
warnings.filterwarnings("ignore", category=FutureWarning)


def machine_info() -> list[str]:
    import opt_einsum
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        f"machine   {platform.system()} {platform.release()}, {cpu}",
        f"cpus      os.cpu_count()={os.cpu_count()}, usable={usable}",
        f"python    {platform.python_version()} ({sys.executable})",
        f"numpy     {np.__version__}, opt_einsum {opt_einsum.__version__}, "
        f"scipy {scipy.__version__}",
        f"threads   OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}",
        f"date      {time.strftime('%Y-%m-%d %H:%M %Z')}, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


# --------------------------------------------------------------------------- pgmpy


def pgmpy_model(net: Network, a: np.ndarray, b: np.ndarray):
    """A pgmpy network with the CPTs of one draw (as in tests/test_contract.py)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.nodes)
    model.add_edges_from([(net.nodes[p], net.nodes[i]) for i in range(net.size)
                          for p in net.parents[i]])
    for i, name in enumerate(net.nodes):
        ps = net.parents[i]
        k = len(ps)
        # pgmpy orders evidence columns with the first parent varying slowest
        bits = np.array([[(c >> (k - 1 - j)) & 1 for j in range(k)] for c in range(2 ** k)],
                        dtype=float).reshape(2 ** k, k)
        z = a[i] + bits @ b[i, :k]
        p1 = 1.0 / (1.0 + np.exp(-z))
        model.add_cpds(TabularCPD(name, 2, np.vstack([1.0 - p1, p1]),
                                  evidence=[net.nodes[p] for p in ps] or None,
                                  evidence_card=[2] * k or None))
    model.check_model()
    return model


def pgmpy_draw(net: Network, a: np.ndarray, b: np.ndarray, pods: list[Pod],
               outcome: str) -> tuple[np.ndarray, float, float]:
    """All hard PODs for one draw: (answers, seconds building, seconds querying)."""
    from pgmpy.inference import CausalInference

    t0 = time.perf_counter()
    model = pgmpy_model(net, a, b)
    t1 = time.perf_counter()
    infer = CausalInference(model)
    answers = []
    for pod in pods:
        factor = infer.query(variables=[outcome], do={k: int(v) for k, v in pod.do.items()},
                             show_progress=False)
        answers.append(factor.get_value(**{outcome: 1}))
    t2 = time.perf_counter()
    return np.array(answers), t1 - t0, t2 - t1


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=4000, help="parameter draws (default 4000)")
    ap.add_argument("--pgmpy-draws", type=int, default=5,
                    help="draws the pgmpy loop really runs before extrapolating (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of plausibly (default 3)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--profile", action="store_true",
                    help="also print the cProfile hotspots of the batched queries")
    args = ap.parse_args(argv)

    print("== plausibly exact queries vs a per-draw pgmpy loop ==")
    for line in machine_info():
        print(line)

    scenario = load_scenario(SCENARIO)
    net = Network.from_scenario(scenario)
    [(_, fitted)] = load_prior_sets(scenario, [PRIORS])
    a, b = fitted.sample(scenario, args.draws, seed=args.seed)
    pods = list(scenario.pods)
    hard = [p for p in pods if not p.soft]
    soft = [p for p in pods if p.soft]
    S = args.draws
    print(f"workload  scenario {scenario.id} (v1 fixture; {net.size} events, "
          f"max {net.max_parents} causes), "
          f"prior set {PRIORS}, {S} prior draws (seed {args.seed}); "
          f"{len(pods)} PODs ({len(hard)} hard, {len(soft)} soft: "
          f"{', '.join(p.id for p in soft) or '-'})")
    print()

    # ---- plausibly ------------------------------------------------------------------
    def both_queries() -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {p.id: (C.interventional(net, a, b, p.do), C.counterfactual(net, a, b, p.do))
                for p in pods}

    def hard_interventional() -> dict[str, np.ndarray]:
        return {p.id: C.interventional(net, a, b, p.do) for p in hard}

    def all_answers() -> dict[str, C.PodAnswer]:
        return C.answer_pods(net, a, b, {p.id: p.do for p in pods})

    C._PATHS.clear()  # a fair cold start: no contraction path found yet
    plan_tree.cache_clear()  # nor junction tree planned
    cold = timed(both_queries, 1)[0]
    results = both_queries()
    cold_ap = timed(all_answers, 1)[0]  # first call: answer_pods' own paths
    t_both: list[float] = []
    t_hard: list[float] = []
    t_ap: list[float] = []
    for _ in range(args.repeat):  # interleaved, so a burst of other load hits all alike
        t_both += timed(both_queries, 1)
        t_hard += timed(hard_interventional, 1)
        t_ap += timed(all_answers, 1)

    # ---- pgmpy ----------------------------------------------------------------------
    t0 = time.perf_counter()
    import pgmpy  # noqa: F401  (import time reported separately, not in the loop)
    from pgmpy.inference import CausalInference  # noqa: F401
    t_import = time.perf_counter() - t0
    n_pg = max(1, min(args.pgmpy_draws, S))
    picks = np.linspace(0, S - 1, n_pg).round().astype(int)
    per_draw, builds, worst = [], [], 0.0
    for d in picks:
        t0 = time.perf_counter()
        got, t_build, _ = pgmpy_draw(net, a[d], b[d], hard, scenario.outcome)
        per_draw.append(time.perf_counter() - t0)
        builds.append(t_build)
        ours = np.array([results[p.id][0][d] for p in hard])
        worst = max(worst, float(np.max(np.abs(got - ours))))
    pg_mean = statistics.fmean(per_draw)
    pg_total = pg_mean * S

    # ---- report ---------------------------------------------------------------------
    best_both, med_both = min(t_both), statistics.median(t_both)
    best_hard, med_hard = min(t_hard), statistics.median(t_hard)
    best_ap, med_ap = min(t_ap), statistics.median(t_ap)
    n_both = 2 * len(pods)
    rows = [
        (f"plausibly: {len(pods)} PODs x 2 queries, cold (1st run, path search)",
         cold, S, None),
        (f"plausibly: {len(pods)} PODs x 2 queries ({n_both} batched contractions), "
         f"best of {args.repeat}", best_both, S, pg_total / best_both),
        (f"plausibly: {len(pods)} PODs x 2 queries, median of {args.repeat}",
         med_both, S, pg_total / med_both),
        ("plausibly: answer_pods (+history, differs, rewrite), cold", cold_ap, S, None),
        (f"plausibly: answer_pods, best of {args.repeat}", best_ap, S, None),
        (f"plausibly: answer_pods, median of {args.repeat}", med_ap, S, None),
        (f"plausibly: {len(hard)} hard PODs, interventional only, best of {args.repeat}",
         best_hard, S, pg_total / best_hard),
        (f"plausibly: {len(hard)} hard PODs, interventional only, median of {args.repeat}",
         med_hard, S, pg_total / med_hard),
        (f"pgmpy: {len(hard)} hard PODs, interventional only, per-draw loop "
         f"(EXTRAPOLATED from {n_pg} draws)", pg_total, S, None),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'what':<{w}}  {'seconds':>9}  {'per draw':>10}  {'pgmpy/plausibly':>15}")
    print("-" * (w + 42))
    for what, sec, n, ratio in rows:
        rat = f"{ratio:,.0f}x" if ratio is not None else ""
        print(f"{what:<{w}}  {sec:9.3f}  {sec / n * 1e6:8.1f}us  {rat:>15}")
    print()
    print(f"pgmpy loop: {n_pg} draws really run (indices {', '.join(map(str, picks))}), "
          f"{pg_mean:.3f} s per draw (model build {statistics.fmean(builds) * 1e3:.1f} ms, "
          f"{len(hard)} CausalInference do-queries the rest), x {S} = {pg_total:.1f} s "
          "EXTRAPOLATED, not measured.")
    print(f"pgmpy import (not counted above): {t_import:.2f} s")
    print("pgmpy has no twin-network counterfactual: only the interventional half is "
          "compared,")
    print(f"and soft PODs ({', '.join(p.id for p in soft) or 'none'}) are skipped in both "
          "arms of that comparison.")
    print(f"The ratio on the {n_both}-query rows sets pgmpy's interventional-only loop "
          "against plausibly doing both")
    print("queries for every POD: it is the conservative one. The hard-POD rows are "
          "like for like.")
    print()
    agree = worst <= TOL
    print(f"agreement: plausibly vs pgmpy interventional answers on the {n_pg} pgmpy draws "
          f"x {len(hard)} hard PODs: max |diff| = {worst:.2e} "
          f"({'OK' if agree else 'FAIL'}, tolerance {TOL:g})")
    like_ratio = pg_total / best_hard
    cons_ratio = pg_total / best_both
    print()
    print("targets:")
    def verdict(sec: float) -> str:
        return "MET" if sec < TARGET_BATCH_S else "MISSED"

    print(f"  whole batch ({n_both} queries x {S} draws) under {TARGET_BATCH_S:g} s: "
          f"best {best_both:.3f} s {verdict(best_both)}, "
          f"median {med_both:.3f} s {verdict(med_both)}")
    print(f"  answer_pods under {TARGET_BATCH_S:g} s: best {best_ap:.3f} s {verdict(best_ap)}, "
          f"median {med_ap:.3f} s {verdict(med_ap)}")
    print(f"  >= {TARGET_RATIO:g}x faster than the pgmpy loop: like for like "
          f"{like_ratio:,.0f}x, conservative {cons_ratio:,.0f}x -> "
          f"{'MET' if cons_ratio >= TARGET_RATIO else 'MISSED'}")

    if args.profile:
        print()
        print("== cProfile: one run of every POD x 2 queries (top 15 by own time) ==")
        prof = cProfile.Profile()
        prof.enable()
        both_queries()
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
