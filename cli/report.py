"""The ``report`` command: one self-contained HTML page of a comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plausibly.cli import options as o
from plausibly.cli.common import DEFAULT_SCENARIO, console, handles_errors, sampling_progress
from plausibly.cli.inspect import ScenarioArg
from plausibly.models import defaults as D


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
    reproduce it. The page is offline: inline SVG, no script, no link to
    fetch. If sampling does not converge the report is still written, with
    a warning at its top, and the command exits 3 (unless --allow-unconverged).
    """
    from plausibly.models.estimate import Settings
    from plausibly.models.report import ReportRequest, build_report
    from plausibly.models.writing import check_writable, write_atomic

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
    write_atomic(output, result.html.encode("utf-8"))
    console().print(f"wrote {output}", markup=False)
    bad = {k: d.problems() for k, d in result.diagnostics.items() if not d.converged}
    for k, problems in bad.items():
        err.print(f"[bold red]UNCONVERGED[/] {k}: " + "; ".join(problems))
    if bad and not allow_unconverged:
        err.print("the report says so at its top; raise --draws/--tune, or pass "
                  "--allow-unconverged to accept the numbers (exit 3)")
        raise typer.Exit(3)

