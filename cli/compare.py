"""Commands that compare prior sets: compare (a table) and report (an HTML page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plausibly.cli import options as o
from plausibly.cli.common import (
    DEFAULT_SCENARIO,
    console,
    handles_errors,
    sampling_progress,
    settings_of,
    styled,
)
from plausibly.cli.options import ScenarioArg
from plausibly.cli.render import (
    Column,
    abbreviations,
    check_converged,
    emit,
    print_apart,
    print_table,
)
from plausibly.models import settings as D
from plausibly.models.errors import UnconvergedError

__all__ = ["compare", "report"]


@handles_errors
def compare(scenario: ScenarioArg = DEFAULT_SCENARIO, priors: o.PriorsOpt = None,
            pool: o.PoolOpt = o.Pool.linear,
            weight: o.Weights = None,
            extremize: o.Extremize = 1.0,
            pod: o.Pods = None, outcome: o.Outcomes = None,
            fmt: o.FormatOpt = o.Format.table,
            plot: Annotated[Path | None, typer.Option(
                help="Also write a forest plot (.png or .svg) of the first outcome shown."
            )] = None,
            force: o.Force = False,
            draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
            seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
            allow_unconverged: o.AllowUnconverged = False) -> None:
    """Every POD under every prior set, side by side, ranked by the pooled counterfactual.

    Each set's posterior weight says how well it predicted real history
    (prior weight x marginal likelihood of history, normalised; with a
    Monte Carlo standard error).
    """
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.catalog import load_prior_sets
    from plausibly.priors.comparison import check_request
    from plausibly.priors.comparison import compare as run_compare

    if priors:  # the options alone, before reading a file (compare() checks again)
        check_request(pool, len(priors), weight, extremize)
    from plausibly.models.results import chosen_outcomes

    s = load_scenario(scenario)
    outcomes = chosen_outcomes(s, outcome)  # before any sampling
    if pod:
        for p in pod:
            s.pod(p)
    sets = load_prior_sets(s, priors)
    if plot is not None:
        from plausibly.models.outputs import check_writable

        check_writable(plot, force, {".png", ".svg"})
    with sampling_progress(f"{len(sets)} prior sets", chains, draws, tune) as progress:
        result = run_compare(s, [f for _, f in sets], pool=pool, weights=weight,
                             extremize=extremize, pods=pod,
                             settings=settings_of(draws, tune, chains, seed), progress=progress)
    ranked = result.summarize(hdi_prob, outcomes)
    weights = result.weights_json()
    if plot is not None:
        from plausibly.models.outputs import write_atomic
        from plausibly.models.plots.forest import forest_plot

        first = ranked.headline
        write_atomic(plot, forest_plot(s, [*first.per_set.values(), first.pooled], hdi_prob,
                                       plot.suffix[1:]), force=force)

    def table() -> None:
        out = console()
        for name, one in ranked.outcomes.items():
            per_set, pooled = one.per_set, one.pooled
            ids = list(per_set)
            rows = [(pooled[k].pod, *(f"{rows[k].counterfactual.mean:.3f}"
                                      for rows in per_set.values()),
                     str(pooled[k].counterfactual), f"{pooled[k].rewrite.mean:.2f}")
                    for k in one.order]
            print_table(out, f"{s.title}: counterfactual P({name}) given real history, "
                        f"posterior mean per prior set; the {pool} pool with its "
                        f"{hdi_prob:.0%} HDI. Ranked by the pool.", [
                            Column("POD", right=False, key=True),
                            *(Column(pid, short=short) for pid, short in zip(
                                ids, abbreviations(ids), strict=True)),
                            Column(f"{pool} pool", style="bold"), Column("rewrite")], rows)
            print_apart(out, [pooled[k] for k in one.apart])
        w = [(pid, f"{v['prior']:.3f}", f"{v['log_evidence']:.2f} ± {v['log_evidence_se']:.2f}",
              f"{v['posterior']:.3f} ± {v['posterior_se']:.3f}", r.diagnostics.summary())
             for r, (pid, v) in zip(result.runs, weights.items(), strict=True)]
        print_table(out, "Prior sets: weight from history (how unsurprising real history was)",
                    [Column("prior set", right=False, key=True), Column("prior weight"),
                     Column("log evidence"), Column("posterior weight"),
                     Column("diagnostics", right=False, prose=True)], w)
        if pool == "log":
            out.print(f"log pool run: {result.pooled.diagnostics.summary()}")
        if plot is not None:
            out.print(f"wrote {plot}")

    emit(fmt, result.to_dict(hdi_prob, outcomes), ranked.csv_rows(), table)
    check_converged(result.diagnostics, allow_unconverged)


@handles_errors
def report(scenario: ScenarioArg = DEFAULT_SCENARIO, priors: o.PriorsOpt = None,
           output: Annotated[Path, typer.Option(
               "--output", "-o", help="The HTML file to write.")] = Path("report.html"),
           pool: o.PoolOpt = o.Pool.linear,
           weight: o.Weights = None,
           extremize: o.Extremize = 1.0,
           pod: o.Pods = None, force: o.Force = False,
           draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
           seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
           allow_unconverged: o.AllowUnconverged = False) -> None:
    """Write one self-contained HTML report: the question, the graph, the ranked PODs and why.

    It runs the same comparison as 'plausibly compare' and adds the PODs with
    their proposers, the claims with their posts, the prior sets and their
    weights, the diagnostics, the assumptions in plain words and how to
    reproduce it. The page is offline: embedded SVG pictures, no script, no
    link to fetch. If sampling does not converge the report is still written, with
    a warning at its top, and the command exits 3 (unless --allow-unconverged).
    """
    from plausibly.models.outputs import check_writable, write_atomic
    from plausibly.models.settings import Settings
    from plausibly.priors.report import ReportRequest, build_report

    check_writable(output, force, {".html", ".htm"})
    request = ReportRequest(
        scenario=scenario, priors=tuple(priors or ()), pool=pool, weights=tuple(weight or ()),
        extremize=extremize, pods=tuple(pod or ()),
        settings=Settings(draws=draws, tune=tune, chains=chains, seed=seed),
        hdi_prob=hdi_prob, output=str(output), allow_unconverged=allow_unconverged)
    err = console(stderr=True)
    what = f"{len(priors)} prior sets" if priors else "the bundled prior sets"
    with sampling_progress(what, chains, draws, tune) as progress:
        result = build_report(request, progress=progress)
    write_atomic(output, result.html.encode("utf-8"), force=force)
    console().print(f"wrote {output}")
    bad = {k: d.problems() for k, d in result.diagnostics.items() if not d.converged}
    for k, problems in bad.items():
        err.print(styled(("UNCONVERGED", "bold red"), f" {k}: " + "; ".join(problems)))
    if bad and not allow_unconverged:
        raise UnconvergedError("the report says so at its top; raise --draws/--tune, or pass "
                               "--allow-unconverged to accept the numbers (exit 3)")
