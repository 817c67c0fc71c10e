"""Benchmark: ESS per CPU-second of sampling, BlackJAX against PyMC, in one process.

Run from the repository root::

    uv run --frozen python bench/ess.py [--rounds 2]

``bench/estimate.py`` divides a whole command's ESS by its wall time. Most of
that time is work both samplers share: start-up, the exact POD queries, the
diagnostics and the output. So that ratio follows the wall-time ratio and says
little about the sampler itself. This bench measures the sampler alone.

For every bundled prior set, in ``--rounds`` rounds, with the sampler that
goes first alternating:

* **timed**: ``sample_sets`` on that set alone, with the default settings (2
  chains, 300 tuning steps and 1,700 draws each, the default seed), in this process (no
  query workers), from warm caches (the untimed ``estimate`` below compiles). The
  figure is the process's CPU time (``time.process_time``: every thread, so
  BlackJAX's two chain threads count in full, and PyMC's chains one after the
  other), with the wall time beside it.
* **untimed**, first: ``estimate`` with the same settings, which samples the
  same draws (the bench checks every timed run's, bit for bit) and answers
  every POD. Its smallest bulk ESS over every parameter and every reported
  quantity (``Run.diagnostics.ess_bulk_min``, what the JSON reports) is
  divided by the timed CPU seconds.

It prints each set's figures and the ratio BlackJAX / PyMC of the summed ESS
per summed CPU-second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np
from machine import load, machine

from plausibly.models import inference, sampling
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario
from plausibly.models.settings import Settings
from plausibly.priors.catalog import load_prior_sets

SAMPLERS = ("blackjax", "pymc")
TARGET = 5.0  # issue #15: ESS per second at least 5x PyMC's


def timed_sampling(net, prior, settings: Settings) -> tuple[np.ndarray, float, float]:
    """The set's draws of ``z``, and the CPU and wall seconds ``sample_sets`` took."""
    cpu, wall = time.process_time(), time.perf_counter()
    [(groups, _)] = sampling.sample_sets(net, [prior], draws=settings.draws, tune=settings.tune,
                                         chains=settings.chains, seed=settings.seed,
                                         sampler=settings.sampler)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return np.asarray(groups.posterior["z"].values), cpu, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    sampling.workers_for = lambda tasks: 1  # every chain in this process: no query workers
    print(machine())
    print(f"load average at start: {load()}")
    scenario = load_scenario("ussr_1930")
    net = Network.from_scenario(scenario)
    sets = [(ps.id, fitted.parameter_prior(scenario))
            for ps, fitted in load_prior_sets(scenario)]
    base = Settings()
    print(f"{scenario.id}: {len(sets)} bundled prior sets, {base.chains} chains x "
          f"{base.draws} draws + {base.tune} tuning, seed {base.seed}\n")

    ess: dict[tuple[str, str], int] = {}
    draws: dict[tuple[str, str], np.ndarray] = {}
    cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
    wall: dict[tuple[str, str], list[float]] = defaultdict(list)
    for name, prior in sets:  # warms the caches (untimed); each run's ESS from estimate
        for sampler in SAMPLERS:
            run = inference.estimate(scenario, prior, settings=replace(base, sampler=sampler))
            ess[(name, sampler)] = int(run.diagnostics.ess_bulk_min)
            draws[(name, sampler)] = np.asarray(run.groups.posterior["z"].values)
    for r in range(args.rounds):
        order = SAMPLERS if r % 2 == 0 else SAMPLERS[::-1]
        for name, prior in sets:
            for sampler in order:
                z, c, w = timed_sampling(net, prior, replace(base, sampler=sampler))
                if not np.array_equal(z, draws[(name, sampler)]):
                    print(f"FAIL: {name}, {sampler}: estimate sampled other draws")
                    return 1
                cpu[(name, sampler)].append(c)
                wall[(name, sampler)].append(w)
        print(f"round {r + 1} done, load average {load()}")

    print(f"\n{'prior set':<13}{'sampler':<10}{'min bulk ESS':>13}{'CPU s':>8}{'wall s':>8}"
          f"{'ESS/CPU-s':>11}")
    totals = {}
    for name, _ in sets:
        for sampler in SAMPLERS:
            c = statistics.median(cpu[(name, sampler)])
            w = statistics.median(wall[(name, sampler)])
            e = ess[(name, sampler)]
            print(f"{name:<13}{sampler:<10}{e:>13,}{c:>8.2f}{w:>8.2f}{e / c:>11.0f}")
    for sampler in SAMPLERS:
        e = sum(ess[(n, sampler)] for n, _ in sets)
        c = sum(statistics.median(cpu[(n, sampler)]) for n, _ in sets)
        w = sum(statistics.median(wall[(n, sampler)]) for n, _ in sets)
        totals[sampler] = (e, c, w)
        print(f"{'all sets':<13}{sampler:<10}{e:>13,}{c:>8.2f}{w:>8.2f}{e / c:>11.0f}")
    (eb, cb, wb), (ep, cp, wp) = totals["blackjax"], totals["pymc"]
    ratio = (eb / cb) / (ep / cp)
    print(f"\nESS per CPU-second of sampling, BlackJAX / PyMC: {ratio:.1f}x "
          f"(target >= {TARGET:g}x: {'MET' if ratio >= TARGET else 'NOT MET'})")
    print(f"ESS per wall-second of sampling, BlackJAX / PyMC: {(eb / wb) / (ep / wp):.1f}x "
          f"(BlackJAX runs the two chains at once, a thread each, PyMC here one after the "
          f"other)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
