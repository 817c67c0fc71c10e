"""Benchmark: a sweep over many prior sets, BlackJAX against PyMC: throughput and memory.

Run from the repository root::

    uv run --frozen python bench/sweep.py [--sets 100] [--batch 5] [--pymc-sets 10]

The prior sets are made from the bundled ones of ``ussr_1930``: set ``k``
is bundled set ``k mod 5`` (fitted, as ``ParameterPrior``) with the prior
means of its free (sampled) judged logits moved by Normal(0, ``--sd``) noise
drawn from ``numpy.random.default_rng([--seed, k])`` (fixed judgements stay as
the experts fixed them); ``dataclasses.replace(prior, id=f"sweep{k}", mu=...)``.
Set ``k`` is the same whatever the batch size and whichever sampler runs it,
and its fixed/free pattern is its bundled set's, so one compiled sampler per
pattern serves the whole sweep.

Each sampler runs in its own fresh process (this script with ``--arm``), so
that its peak memory is its own. There, after the imports, one untimed
warm-up call of ``estimate_many`` samples one bundled set per fixed/free
pattern (it compiles, or loads from the usual caches, the sampler). Then the
timed sweep: ``estimate_many(scenario, batch, settings)`` on ``--batch`` sets
at a time (default settings: every POD, 2 chains of 1,700 draws + 300 tuning),
keeping of each set only its diagnostics and the posterior mean of every
POD's headline counterfactual (from ``run.summarize()``, which is timed too);
the Run objects are dropped and ``gc.collect()`` runs after each batch. Sets
per second = sets / timed wall. PyMC runs ``--pymc-sets`` sets only; its
time for ``--sets`` is **extrapolated** from its rate, and the output says so.

Memory, two ways. First ``ru_maxrss`` of ``RUSAGE_SELF`` plus that of
``RUSAGE_CHILDREN`` (the largest of the reaped worker processes). That
overstates the peak: a forked worker's RSS counts the pages it still shares
with its parent. So also the summed PSS (``/proc/PID/smaps_rollup``: shared
pages split among their sharers) of the process and its live workers, sampled
every 0.5 s during the timed sweep. And this process's resident size
(``VmRSS``) after each batch, to show that it stays flat.

The two samplers run one after the other, not interleaved, so other load on
the machine may differ between them (each batch's load average is printed).
Besides the ratio of the whole sweep's rates, the ratio against BlackJAX's
last batches (as many sets as PyMC ran, the nearest in time to PyMC's) is
printed.

On the sets both samplers ran, the bench also prints how far apart their
posterior means are (each sampler's Monte Carlo error is about 0.002 on these
quantities): a check that both sampled the same posteriors.

Targets (from the issue): BlackJAX at least 5x PyMC's throughput, and peak
memory under 2 GB. The defaults (100 sets) take about 7 to 9 minutes on 2
cores under other load; 200 sets took 13.4 minutes (load average 4 to 7), so
the default is 100.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time

from machine import load, machine

THROUGHPUT_TARGET = 5.0
MEMORY_TARGET_GB = 2.0
MARK = "@@result "


def rss_gb() -> float:
    """This process's resident size now (``VmRSS``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def pss_gb(pid: int) -> float:
    """A process's proportional set size (shared pages split among their sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:  # it ended meanwhile
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (the sampling workers)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


class PssPeak(threading.Thread):
    """Samples the summed PSS of this process and its children, keeping the peak."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self.stopped = interval, 0.0, threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stopped.wait(self.interval):
            total = pss_gb(me) + sum(pss_gb(c) for c in children_of(me))
            self.peak = max(self.peak, total)


def arm(opts: argparse.Namespace) -> None:
    """One sampler's sweep, in this (fresh) process; prints a result line for the parent."""
    began = time.perf_counter()
    import numpy as np

    from plausibly.models.inference import estimate_many
    from plausibly.models.parameters import ParameterPrior
    from plausibly.models.results import outcome_names
    from plausibly.models.scenario import load_scenario
    from plausibly.models.settings import Settings
    from plausibly.priors.catalog import load_prior_sets

    scenario = load_scenario(opts.scenario)
    bases = [f.parameter_prior(scenario) for _, f in load_prior_sets(scenario)]
    settings = Settings(sampler=opts.arm)
    headline = outcome_names(scenario)[0]
    imported = time.perf_counter() - began

    def prior_set(k: int) -> ParameterPrior:
        base = bases[k % len(bases)]
        rng = np.random.default_rng([opts.seed, k])
        mu = base.mu.copy()
        mu[base.free] += rng.normal(0.0, opts.sd, base.free.size)
        return dataclasses.replace(base, id=f"sweep{k}", name=f"sweep {k} (from {base.id})",
                                   mu=mu)

    patterns = list({b.structure: b for b in bases}.values())
    start = time.perf_counter()
    estimate_many(scenario, patterns, settings=settings)
    gc.collect()
    warm = time.perf_counter() - start
    print(f"  {opts.arm}: imports and bundled sets {imported:.1f} s; warm-up ({len(patterns)} "
          f"set{'s' if len(patterns) > 1 else ''}, one per fixed/free pattern) {warm:.1f} s, "
          f"RSS {rss_gb():.2f} GB", flush=True)

    kept: list[dict] = []
    batches = []
    sampler = PssPeak()
    sampler.start()
    start = time.perf_counter()
    for first in range(0, opts.sets, opts.batch):
        t0 = time.perf_counter()
        sets = [prior_set(k) for k in range(first, min(first + opts.batch, opts.sets))]
        runs = estimate_many(scenario, sets, settings=settings)
        for run in runs:
            means = {r.pod: r.counterfactual.mean for r in run.summarize()
                     if r.outcome == headline}
            d = run.diagnostics
            kept.append({"id": run.priors, "means": means, "r_hat_max": d.r_hat_max,
                         "ess_bulk_min": d.ess_bulk_min, "divergences": d.divergences,
                         "converged": d.converged})
        del runs, sets
        gc.collect()
        wall = time.perf_counter() - t0
        batches.append({"sets": len(kept) - first, "wall": wall, "rss_gb": rss_gb(),
                        "load": os.getloadavg()[0]})
        print(f"  {opts.arm}: batch {len(batches):3d}: sets {first:3d}-{len(kept) - 1:3d} in "
              f"{wall:5.1f} s ({(len(kept) - first) / wall:.2f} sets/s), RSS "
              f"{batches[-1]['rss_gb']:.2f} GB, load {os.getloadavg()[0]:.1f}", flush=True)
    timed = time.perf_counter() - start
    sampler.stopped.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    print(MARK + json.dumps({"imported": imported, "warm": warm, "timed": timed,
                             "total": time.perf_counter() - began, "kept": kept,
                             "batches": batches, "self_gb": own, "children_gb": children,
                             "pss_peak_gb": sampler.peak}),
          flush=True)


def run_arm(sampler: str, sets: int, opts: argparse.Namespace) -> dict:
    """Run one sampler's sweep in a fresh process, echoing its progress; its result."""
    cmd = [sys.executable, __file__, "--arm", sampler, "--sets", str(sets),
           "--batch", str(min(opts.batch, sets)), "--seed", str(opts.seed),
           "--sd", str(opts.sd), "--scenario", opts.scenario]
    result = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(MARK):
                result = json.loads(line[len(MARK):])
            else:
                print(line, end="", flush=True)
    if proc.returncode or result is None:
        sys.exit(f"the {sampler} sweep failed ({proc.returncode})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=100, help="BlackJAX's prior sets")
    parser.add_argument("--batch", type=int, default=5,
                        help="sets per estimate_many call (5: the peak memory stays under 2 GB)")
    parser.add_argument("--pymc-sets", type=int, default=10,
                        help="PyMC's prior sets (its rate is extrapolated to --sets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sd", type=float, default=0.2,
                        help="sd of the noise on the prior means (logit scale)")
    parser.add_argument("--scenario", default="ussr_1930")
    parser.add_argument("--arm", choices=("blackjax", "pymc"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.arm:
        arm(opts)
        return

    from plausibly.models import settings as defaults

    print(machine())
    print("load average at start: " + load())
    print(f"sweep: {opts.scenario}, every POD, {defaults.CHAINS} chains x {defaults.DRAWS} "
          f"draws + {defaults.TUNE} tuning; prior sets perturbed from the bundled ones "
          f"(sd {opts.sd}, seed {opts.seed}); {opts.batch} sets per estimate_many call\n")
    began = time.perf_counter()
    bj = run_arm("blackjax", opts.sets, opts)
    pm = run_arm("pymc", opts.pymc_sets, opts)

    print()
    rates = {}
    for name, r, n in (("blackjax", bj, opts.sets), ("pymc", pm, opts.pymc_sets)):
        kept = r["kept"]
        rates[name] = rate = len(kept) / r["timed"]
        rss = [b["rss_gb"] for b in r["batches"]]
        print(f"{name}: {n} sets in {r['timed']:.1f} s: {rate:.3f} sets/s "
              f"({r['timed'] / n:.2f} s per set); start-up {r['imported'] + r['warm']:.1f} s "
              f"(imports {r['imported']:.1f}, warm-up {r['warm']:.1f}) not counted")
        loads = [b["load"] for b in r["batches"]]
        print(f"  load average during it: {min(loads):.1f} to {max(loads):.1f}")
        print(f"  peak memory: ru_maxrss self {r['self_gb']:.2f} GB + largest worker "
              f"{r['children_gb']:.2f} GB = {r['self_gb'] + r['children_gb']:.2f} GB; "
              f"summed PSS of the process and its workers, sampled every 0.5 s, peaked at "
              f"{r['pss_peak_gb']:.2f} GB")
        print(f"  RSS after each batch {min(rss):.2f} to {max(rss):.2f} GB "
              f"(first {rss[0]:.2f}, last {rss[-1]:.2f})")
        print(f"  diagnostics: min bulk ESS {min(k['ess_bulk_min'] for k in kept):.0f}, "
              f"max R-hat {max(k['r_hat_max'] for k in kept):.4f}, divergences "
              f"{sum(k['divergences'] for k in kept)}, unconverged sets "
              f"{sum(not k['converged'] for k in kept)} of {len(kept)}")
    extrapolated = opts.sets / rates["pymc"]
    print(f"pymc for {opts.sets} sets: {extrapolated:.0f} s (**extrapolated** from "
          f"{opts.pymc_sets} sets), against blackjax's measured {bj['timed']:.0f} s")

    shared = min(len(bj["kept"]), len(pm["kept"]))
    diffs = [abs(a["means"][p] - b["means"][p])
             for a, b in zip(bj["kept"][:shared], pm["kept"][:shared], strict=True)
             for p in a["means"]]
    print(f"same {shared} sets under both: headline counterfactual posterior means differ by "
          f"at most {max(diffs):.4f} (mean {sum(diffs) / len(diffs):.4f}) over {len(diffs)} "
          f"(set, POD) pairs")

    # the arms run one after the other, so other load on the machine may differ between
    # them: also against blackjax's last batches, the nearest in time to pymc's
    last = bj["batches"][-max(1, -(-opts.pymc_sets // opts.batch)):]
    near = sum(b["sets"] for b in last) / sum(b["wall"] for b in last)
    print(f"blackjax's last {sum(b['sets'] for b in last)} sets (just before pymc's, load "
          f"{min(b['load'] for b in last):.1f} to {max(b['load'] for b in last):.1f}): "
          f"{near:.3f} sets/s")

    ratio = rates["blackjax"] / rates["pymc"]
    ratio_near = near / rates["pymc"]
    peak = bj["self_gb"] + bj["children_gb"]
    pss = bj["pss_peak_gb"]

    def met(ok: bool) -> str:
        return "MET" if ok else "missed"

    print("\ntargets:")
    print(f"  throughput blackjax / pymc >= {THROUGHPUT_TARGET}x: whole sweep {ratio:.2f}x: "
          f"{met(ratio >= THROUGHPUT_TARGET)}; nearest in time {ratio_near:.2f}x: "
          f"{met(ratio_near >= THROUGHPUT_TARGET)}")
    print(f"  peak memory (blackjax sweep) < {MEMORY_TARGET_GB} GB: ru_maxrss self + children "
          f"{peak:.2f} GB: {met(peak < MEMORY_TARGET_GB)}; summed PSS {pss:.2f} GB: "
          f"{met(pss < MEMORY_TARGET_GB)}")
    print(f"\nbench took {(time.perf_counter() - began) / 60:.1f} min; load average at end: "
          + load())


if __name__ == "__main__":
    main()
