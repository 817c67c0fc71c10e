"""Benchmark: BlackJAX against PyMC, end to end through the CLI, measured in one run.

Run from the repository root::

    uv run --frozen python bench/estimate.py [--rounds 3] [--prior-set contingency]

Every command runs as a fresh process (``python -m plausibly.cli``), once
with ``--sampler blackjax`` and once with ``--sampler pymc``, in ``--rounds``
interleaved rounds: within a round each workload runs under both samplers back
to back, and which sampler goes first alternates from round to round, so a
burst of other load on the machine hits both alike. The best (min) and the
median of each are reported, and their ratio BlackJAX / PyMC is judged against
the targets of the issue:

* **cold compare** (``compare --format json --allow-unconverged``, every
  bundled prior set): empty caches, i.e. a fresh temporary
  ``PLAUSIBLY_CACHE_DIR`` (BlackJAX's exported programs and XLA's machine
  code) *and* a fresh PyTensor ``compiledir`` for each run. Target <= 0.35x.
* **warm compare**: the same command, caches kept. Each sampler's warm caches
  are the ones its own first cold run (round 1) filled, as a user's second
  run finds them. Target <= 0.4x.
* **one-set estimate** (``estimate -p SET --format json --allow-unconverged``),
  warm. Target <= 0.5x.
* **ESS per second** of the warm compare: the smallest bulk ESS over the sets
  (``diagnostics[set].ess_bulk_min`` of the JSON, which covers every
  parameter and every reported quantity) divided by the run's wall time.
  Target: BlackJAX >= 5x PyMC.

``--allow-unconverged`` only makes an unconverged run still print its JSON
(exit 3); the work is the same. Each run's peak RSS is the largest single
process among it and its workers (``os.wait4``), not their sum.

The earlier version of this bench also timed a naive arm (a fresh PyMC model
and MCMC run per (prior set, POD), extrapolated), PyMC's own parallel sampler
and arviz's diagnostics, in this process. They are dropped: they measured the
PyMC path against itself, not the two back ends, and cost several minutes more.
The default 3 rounds took 18 minutes on 2 cores under other load (load average 4 to 6).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import load, machine

from plausibly.models import settings as defaults

SAMPLERS = ("blackjax", "pymc")
#: (workload, ratio target BlackJAX / PyMC: at most this)
TIME_TARGETS = {"warm compare": 0.4, "cold compare": 0.35, "one-set estimate": 0.5}
#: ESS per second, BlackJAX / PyMC: at least this
ESS_TARGET = 5.0


@dataclass
class Timed:
    """One command's run."""

    wall: float
    peak_mb: float  # largest process's peak RSS (it or any of its workers)
    load: float  # 1-minute load average when it started
    out: dict


def caches(root: Path) -> dict[str, str]:
    """An environment whose two caches live under ``root`` (created empty if new)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    flags = ",".join([f for f in flags.split(",") if f and not f.startswith("compiledir=")]
                     + [f"compiledir={root / 'pytensor'}"])
    return {**os.environ, "PLAUSIBLY_CACHE_DIR": str(root / "plausibly"),
            "PYTENSOR_FLAGS": flags}


def run_cli(args: list[str], env: dict[str, str]) -> Timed:
    """Run ``plausibly ARGS`` in a fresh process; its wall time, peak RSS and JSON."""
    cmd = [sys.executable, "-m", "plausibly.cli", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in (0, 3):  # 3: unconverged, JSON still printed
            sys.exit(f"plausibly {' '.join(args)} failed ({code}):\n"
                     f"{err.read().decode(errors='replace')}")
        return Timed(wall, usage.ru_maxrss / 1024, load, json.loads(out.read()))


def min_ess(out: dict) -> float:
    return min(d["ess_bulk_min"] for d in out["diagnostics"].values())


def verdict(ratio: float, target: float, at_most: bool) -> str:
    met = ratio <= target if at_most else ratio >= target
    return "MET" if met else "missed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prior-set", default="contingency",
                        help="the bundled prior set of the one-set estimate")
    opts = parser.parse_args()
    print(machine())
    print("load average at start: " + load())
    print(f"settings: {defaults.CHAINS} chains x {defaults.DRAWS} draws + {defaults.TUNE} "
          f"tuning (the defaults); {opts.rounds} rounds, interleaved, the first sampler "
          f"alternating\n")

    compare = ["compare", "--format", "json", "--allow-unconverged"]
    one_set = ["estimate", "-p", opts.prior_set, "--format", "json", "--allow-unconverged"]
    scratch = Path(tempfile.mkdtemp(prefix="plausibly-bench-"))
    warm_env = {s: caches(scratch / f"warm-{s}") for s in SAMPLERS}
    times: dict[tuple[str, str], list[Timed]] = {}
    began = time.perf_counter()
    try:
        for r in range(opts.rounds):
            order = SAMPLERS if r % 2 == 0 else SAMPLERS[::-1]
            for workload in ("cold compare", "warm compare", "one-set estimate"):
                for sampler in order:
                    args = [*(one_set if workload == "one-set estimate" else compare),
                            "--sampler", sampler]
                    fresh = None
                    if workload != "cold compare":
                        env = warm_env[sampler]
                    elif r == 0:  # its caches become this sampler's warm caches
                        env = warm_env[sampler]
                    else:
                        fresh = scratch / f"cold-{sampler}-{r}"
                        env = caches(fresh)
                    got = run_cli(args, env)
                    if fresh is not None:
                        shutil.rmtree(fresh, ignore_errors=True)
                    times.setdefault((workload, sampler), []).append(got)
                    print(f"round {r + 1}: {workload:17s} {sampler:8s} {got.wall:6.1f} s   "
                          f"peak {got.peak_mb / 1024:4.2f} GB   load {got.load:.1f}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total = time.perf_counter() - began

    first = times[("warm compare", "blackjax")][0].out
    print(f"\ncompare: {len(first['diagnostics'])} prior sets x "
          f"{len(first['ranking'][first['outcomes'][0]]['pods'])} PODs in scope (+ history); "
          f"estimate: -p {opts.prior_set}. Wall time in seconds, fresh process each:")
    print(f"{'':18s} {'blackjax':>15s} {'pymc':>15s} {'blackjax / pymc':>17s}")
    print(f"{'':18s} {'min':>7s} {'median':>7s} {'min':>7s} {'median':>7s} {'min':>8s} "
          f"{'median':>8s}   target")
    verdicts = []
    for workload, target in (("warm compare", TIME_TARGETS["warm compare"]),
                             ("cold compare", TIME_TARGETS["cold compare"]),
                             ("one-set estimate", TIME_TARGETS["one-set estimate"])):
        bj = [t.wall for t in times[(workload, "blackjax")]]
        pm = [t.wall for t in times[(workload, "pymc")]]
        best, med = min(bj) / min(pm), statistics.median(bj) / statistics.median(pm)
        print(f"{workload:18s} {min(bj):7.1f} {statistics.median(bj):7.1f} {min(pm):7.1f} "
              f"{statistics.median(pm):7.1f} {best:7.2f}x {med:7.2f}x   <= {target}x")
        verdicts.append((f"{workload} <= {target}x", best, med, target, True))

    def ess_rates(sampler: str) -> list[float]:
        return [min_ess(t.out) / t.wall for t in times[("warm compare", sampler)]]

    bj_rate, pm_rate = ess_rates("blackjax"), ess_rates("pymc")
    best = max(bj_rate) / max(pm_rate)
    med = statistics.median(bj_rate) / statistics.median(pm_rate)
    print("\nESS per second, warm compare (min bulk ESS over the sets / wall; higher is better):")
    print(f"{'':18s} {'best':>7s} {'median':>7s} {'best':>7s} {'median':>7s} {'best':>8s} "
          f"{'median':>8s}")
    print(f"{'ESS/s':18s} {max(bj_rate):7.0f} {statistics.median(bj_rate):7.0f} "
          f"{max(pm_rate):7.0f} {statistics.median(pm_rate):7.0f} {best:7.2f}x {med:7.2f}x"
          f"   >= {ESS_TARGET}x")
    verdicts.append((f"ESS/s >= {ESS_TARGET}x", best, med, ESS_TARGET, False))
    for sampler in SAMPLERS:
        outs = [t.out for k, ts in times.items() if k[1] == sampler and k[0] != "one-set estimate"
                for t in ts]
        diags = [d for o in outs for d in o["diagnostics"].values()]
        peak = max(t.peak_mb for k, ts in times.items() if k[1] == sampler for t in ts)
        print(f"  {sampler}: over its {len(outs)} compares: min bulk ESS "
              f"{min(d['ess_bulk_min'] for d in diags):.0f}, max R-hat "
              f"{max(d['r_hat_max'] for d in diags):.4f}, divergences "
              f"{sum(d['divergences'] for d in diags)}, unconverged sets "
              f"{sum(not d['converged'] for d in diags)}; largest process peak "
              f"{peak / 1024:.2f} GB")

    print("\ntargets (BlackJAX against PyMC, same run):")
    for label, best, med, target, at_most in verdicts:
        print(f"  {label:24s} best {best:5.2f}x: {verdict(best, target, at_most):6s}   "
              f"median {med:5.2f}x: {verdict(med, target, at_most)}")
    print(f"\nbench took {total / 60:.1f} min; load average at end: "
          + load())


if __name__ == "__main__":
    main()
