"""Commands that compare prior sets: compare (a table) and report (an HTML page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    print_fields,
    print_table,
    small_number,
)
from plausibly.models import settings as D
from plausibly.models.errors import UnconvergedError

__all__ = ["compare", "report"]


@handles_errors
def compare(scenario: ScenarioArg = DEFAULT_SCENARIO, priors: o.PriorsOpt = None,
            pool: o.PoolOpt = o.Pool.linear,
            weight: o.Weights = None,
            weights: o.WeightingOpt = o.Weighting.history,
            rank_by: o.RankOpt = o.RankBy.counterfactual,
            extremize: o.Extremize = 1.0,
            pod: o.Pods = None, outcome: o.Outcomes = None,
            fmt: o.FormatOpt = o.Format.table,
            plot: Annotated[Path | None, typer.Option(
                help="Also write a forest plot (.png or .svg) of the first outcome shown."
            )] = None,
            force: o.Force = False,
            draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
            seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
            sampler: o.SamplerOpt = o.SamplerName.blackjax,
            allow_unconverged: o.AllowUnconverged = False) -> None:
    """Every POD under every prior set, side by side, ranked by the pool.

    Ranked by the pooled counterfactual (or, with --rank route, by the route:
    how likely history made the POD times the counterfactual), with each
    POD's probability of ranking first; PODs out of scope are listed apart.
    The sets are weighted three ways, shown side by side: equal, from history
    (prior weight x marginal likelihood of history, with a Monte Carlo
    standard error) and stacking (leave-one-event-out); --weights chooses
    the one that ranks.
    """
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.catalog import load_prior_sets
    from plausibly.priors.comparison import check_request
    from plausibly.priors.comparison import compare as run_compare

    if priors:  # the options alone, before reading a file (compare() checks again)
        check_request(pool, len(priors), weight, extremize, weights, rank_by)
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
                             settings=settings_of(draws, tune, chains, seed, sampler),
                             progress=progress,
                             weighting=weights, rank_by=rank_by)
    ranked = result.summarize(hdi_prob, outcomes)
    weight_table = result.weights_json()
    if plot is not None:
        from plausibly.models.outputs import write_atomic
        from plausibly.models.plots.forest import forest_plot

        first = ranked.headline
        write_atomic(plot, forest_plot(s, [*first.per_set.values(), first.pooled], hdi_prob,
                                       plot.suffix[1:], rank_by=rank_by), force=force)

    def table() -> None:
        out = console()
        for name, one in ranked.outcomes.items():
            print_ranking(out, s, one, pool, weights, rank_by, hdi_prob, name)
        print_weights(out, result, weight_table)
        print_pools(out, result, ranked, hdi_prob, outcomes)
        if not result.has_pod_chance:
            from plausibly.models.results import NO_POD_CHANCE

            out.print(NO_POD_CHANCE)
        if pool == "log":
            out.print(f"log pool run: {result.pooled.diagnostics.summary()}")
        if plot is not None:
            out.print(f"wrote {plot}")

    emit(fmt, result.to_dict(hdi_prob, outcomes), ranked.csv_rows(), table)
    check_converged(result.diagnostics, allow_unconverged)


def _num(x: Any, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def print_ranking(out: Any, s: Any, one: Any, pool: str, weighting: str, rank_by: str,
                  hdi_prob: float, name: str) -> None:
    """One outcome's ranking: per set, the pool with its HDI, the route, P(first)."""
    from plausibly.models.ranking import INDISTINCT_MARK, INDISTINCT_NOTE

    per_set, pooled = one.per_set, one.pooled
    ids = list(per_set)
    u = one.pool_uncertainty
    rows = []
    marked = False
    for k in one.order:
        r = pooled[k]
        p_first, mark = "", ""
        if u is not None and r.pod in u.pods:
            p, _hdi, indistinct = u.of(r.pod)
            p_first = f"{p:.2f}"
            if indistinct:
                mark, marked = f" {INDISTINCT_MARK}", True
        rows.append((r.pod + mark, *(f"{rows_k[k].counterfactual.mean:.3f}"
                                     for rows_k in per_set.values()),
                     str(r.counterfactual), small_number(None if r.route is None else r.route.mean),
                     p_first))
    by = "route (POD chance x counterfactual)" if rank_by == "route" else "counterfactual"
    print_table(out, f"{s.title}: counterfactual P({name}) given real history, posterior "
                f"mean per prior set; the {pool} pool ({weighting} weights) with its "
                f"{hdi_prob:.0%} HDI, its route and P(ranked first). Ranked by the pool's "
                f"{by}.", [
                    Column("POD", right=False, key=True),
                    *(Column(pid, short=short) for pid, short in zip(
                        ids, abbreviations(ids), strict=True)),
                    Column(f"{pool} pool", short="pool", style="bold"),
                    Column("route"), Column("P(first)", short="P1")], rows)
    if marked:
        out.print(INDISTINCT_NOTE.format(prob=f"{hdi_prob:.0%}"), style="dim")
    print_apart(out, [pooled[k] for k in one.apart], s)


def print_weights(out: Any, result: Any, table: dict[str, dict[str, Any]]) -> None:
    """The sets' weights three ways, with one line per weighting saying what it means."""
    from plausibly.priors.comparison import WEIGHTINGS

    w = [(pid, f"{v['prior']:.3f}", f"{v['log_evidence']:.2f} ± {v['log_evidence_se']:.2f}",
          f"{v['equal']:.3f}", f"{v['posterior']:.3f} ± {v['posterior_se']:.3f}",
          _num(v["stacking"]))
         for pid, v in table.items()]
    print_table(out, "Prior sets: three weightings (the pool uses "
                f"{result.weighting})", [
                    Column("prior set", right=False, key=True),
                    Column("prior weight", short="prior"),
                    Column("log evidence", short="log Z"),
                    Column("equal"), Column("history"), Column("stacking")], w)
    for line in WEIGHTINGS.values():
        print_fields(out, "", line.split(" "), style="dim")
    for r in result.runs:
        print_fields(out, f"{r.priors}:", [r.diagnostics.summary()])


def print_pools(out: Any, result: Any, ranked: Any, hdi_prob: float,
                outcomes: Any) -> None:
    """The linear pool under each weighting, side by side (the pooled mean per POD)."""
    pools = result.pools_summaries(hdi_prob, outcomes)
    if len(pools) < 2:
        return
    names = list(pools)
    what = "route" if result.rank_by == "route" else "counterfactual"
    for name, one in ranked.outcomes.items():
        order = [one.pooled[k].pod for k in one.order]
        rows = []
        for pod in order:
            cells = []
            for w in names:
                r = next(x for x in pools[w][name] if x.pod == pod)
                score = r.route if what == "route" else r.counterfactual
                cells.append(small_number(None if score is None else score.mean))
            rows.append((pod, *cells))
        print_table(out, f"P({name}): the {what} under each weighting (pooled mean)", [
            Column("POD", right=False, key=True), *(Column(w) for w in names)], rows)


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
           sampler: o.SamplerOpt = o.SamplerName.blackjax,
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
    from plausibly.priors.report import ReportRequest, build_report

    check_writable(output, force, {".html", ".htm"})
    request = ReportRequest(
        scenario=scenario, priors=tuple(priors or ()), pool=pool, weights=tuple(weight or ()),
        extremize=extremize, pods=tuple(pod or ()),
        settings=settings_of(draws, tune, chains, seed, sampler),
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
