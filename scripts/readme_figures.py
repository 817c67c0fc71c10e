"""Make the README's pictures: docs/forest.png and docs/graph.png.

Runs the bundled scenario under every bundled prior set (as ``plausibly
compare`` does, linear pool, seeded), refuses to draw from a run that did not
converge, and writes

* ``docs/forest.png``: each POD's counterfactual plausibility of the headline
  outcome per prior set and pooled, ranked by the pool, the PODs out of
  scope drawn apart (legend entries carry each set's weight from history);
* ``docs/graph.png``: the graph with the pool's posterior median effect of
  each cause, outlined by what changes under a POD (``--pod``; by default
  the top-ranked one: the pool's first POD in scope for the headline
  outcome, as :func:`plausibly.models.results.rank` orders them).

Usage (from the repository root)::

    .venv/bin/python scripts/readme_figures.py [--draws N] [--tune N] [--seed N] [--pod ID]

(the sampling defaults are the command line's).

The files are regenerated on every run (this script's purpose), atomically.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from plausibly.models import settings as defaults
from plausibly.models.outputs import write_atomic
from plausibly.models.plots._render import figure_bytes
from plausibly.models.plots.forest import forest_figure
from plausibly.models.plots.graph import draw_graph, run_overlay
from plausibly.models.results import outcome_names, rank, summarize
from plausibly.models.scenario import load_scenario
from plausibly.models.settings import Settings
from plausibly.priors.catalog import load_prior_sets
from plausibly.priors.comparison import compare

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Sample, check convergence, draw; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=defaults.DRAWS)
    parser.add_argument("--tune", type=int, default=defaults.TUNE)
    parser.add_argument("--chains", type=int, default=defaults.CHAINS)
    parser.add_argument("--seed", type=int, default=defaults.SEED)
    parser.add_argument("--hdi-prob", type=float, default=defaults.HDI_PROB)
    parser.add_argument("--pod", help="the POD to outline in the graph (default: top-ranked)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    scenario = load_scenario("ussr_1930")
    sets = load_prior_sets(scenario)
    settings = Settings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    print(f"sampling {len(sets)} prior sets", file=sys.stderr)
    result = compare(scenario, [f for _, f in sets], settings=settings)
    bad = {r.priors: r.diagnostics for r in result.runs if not r.diagnostics.converged}
    for pid, d in bad.items():
        print(f"UNCONVERGED {pid}: {'; '.join(d.problems())}", file=sys.stderr)
    if bad:
        print("not drawing from unconverged runs: raise --draws/--tune", file=sys.stderr)
        return 3

    # the headline outcome's rows only: the forest plot and the ranking are of one outcome
    headline = outcome_names(scenario)[:1]
    per_set = [summarize(scenario, r.priors, r.draws, args.hdi_prob, headline)
               for r in result.runs]
    pooled = summarize(scenario, result.pooled.priors, result.pooled.draws, args.hdi_prob,
                       headline)
    labels = [f"{r.priors} (weight {w:.2f})"
              for r, w in zip(result.runs, result.posterior_weights, strict=True)]
    forest = forest_figure(scenario, [*per_set, pooled], args.hdi_prob,
                           labels=[*labels, "linear pool"])
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "forest.png", figure_bytes(forest, "png", dpi=130), force=True)

    ranked, _ = rank(pooled)  # the "history" row, then the PODs in scope, best first
    top = pooled[ranked[1]].pod
    pod = args.pod or top
    overlay = run_overlay(result.pooled, pod)
    which = "the top-ranked POD" if pod == top else "POD"
    subtitle = (f"arrows: posterior median effect of each cause under the linear pool of "
                f"{len(sets)} prior sets;\noutlines: the chance each event differs from "
                f"history under {which} {pod} ({scenario.pod(pod).label})")
    write_atomic(args.out / "graph.png", draw_graph(
        scenario, "png", strength=overlay.strength, highlight=overlay.highlight, pod=pod,
        subtitle=subtitle), force=True)
    worst = max(r.diagnostics.r_hat_max for r in result.runs)
    print(f"wrote {args.out / 'forest.png'} and {args.out / 'graph.png'} "
          f"({settings.chains} chains x {settings.draws} draws, seed {settings.seed}, "
          f"max R-hat {worst:.3f}; {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
