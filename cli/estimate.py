"""Commands that sample: estimate, compare, explain, sensitivity."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from plausibly.cli import options as o
from plausibly.cli.common import DEFAULT_SCENARIO, console, handles_errors, sampling_progress
from plausibly.cli.inspect import ScenarioArg
from plausibly.models import defaults as D


def _settings(draws: int, tune: int, chains: int, seed: int) -> Any:
    from plausibly.models.estimate import Settings

    return Settings(draws=draws, tune=tune, chains=chains, seed=seed)


def _emit(fmt: o.Format, payload: dict[str, Any], rows: list[tuple[Any, ...]],
          table: Any) -> None:
    from plausibly.models.estimate import CSV_HEADER

    if fmt is o.Format.json:
        typer.echo(json.dumps(payload, indent=1, allow_nan=False))
    elif fmt is o.Format.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
    else:
        table()


def _check_converged(diagnostics: dict[str, Any], allow: bool) -> None:
    bad = {k: d.problems() for k, d in diagnostics.items() if not d.converged}
    if not bad:
        return
    err = console(stderr=True)
    for k, problems in bad.items():
        err.print(f"[bold red]UNCONVERGED[/] {k}: " + "; ".join(problems))
    if allow:
        err.print("continuing because of --allow-unconverged: treat these numbers with care")
        return
    err.print("the numbers above are not trustworthy: raise --draws/--tune, or pass "
              "--allow-unconverged to accept them (exit 3)")
    raise typer.Exit(3)


@handles_errors
def estimate(scenario: ScenarioArg = DEFAULT_SCENARIO,
             priors: Annotated[str | None, typer.Option(
                 "--priors", "-p", help="A prior-set .toml file or bundled id.")] = None,
             pod: o.Pods = None, output: o.OutputNc = None, force: o.Force = False,
             fmt: o.FormatOpt = o.Format.table,
             from_run: Annotated[Path | None, typer.Option(
                 "--from", help="Re-render a saved run.nc instead of sampling.")] = None,
             plot: Annotated[Path | None, typer.Option(
                 help="Also write each POD's posterior density (.png or .svg).")] = None,
             draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
             seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
             allow_unconverged: o.AllowUnconverged = False) -> None:
    """Posterior plausibility of the outcome under every POD, for one prior set.

    One MCMC run conditioned on history answers every POD: interventional
    (the POD in the model's own world) and counterfactual (the POD applied
    to real history, keeping its luck), plus the rewrite (how many events
    change). The "history" row is the baseline.
    """
    from plausibly.models.estimate import csv_rows, report, summarize
    from plausibly.models.estimate import estimate as run_estimate
    from plausibly.models.scenario import load_scenario
    from plausibly.models.store import load_run, save_run

    if plot is not None:
        from plausibly.models.writing import check_writable

        check_writable(plot, force, {".png", ".svg"})
    if from_run is not None:
        run = load_run(from_run)
        s = run.scenario
        priors_path = None
    else:
        s = load_scenario(scenario)
        ps, fitted = _one_prior_set(s, priors)
        if pod:
            for p in pod:
                s.pod(p)
        with sampling_progress(ps.id, chains, draws, tune) as progress:
            run = run_estimate(s, fitted, pod, _settings(draws, tune, chains, seed), progress)
        priors_path = ps.path
        if output is not None:
            save_run(run, output, force=force, priors_path=priors_path)
    results = summarize(s, run.priors, run.draws, hdi_prob)
    if pod and from_run is not None:
        keep = {"history", *pod}
        results = [r for r in results if r.pod in keep]
    diagnostics = {run.priors: run.diagnostics}
    if plot is not None:
        from plausibly.models.plots import density_plot
        from plausibly.models.writing import write_atomic

        write_atomic(plot, density_plot(run, hdi_prob, plot.suffix[1:].lower(),
                                        [r.pod for r in results]))

    def table() -> None:
        from rich.table import Table

        out = console()
        base = results[0]
        t = Table(title=f"{s.title} — prior set {run.priors} ({run.name}); "
                  f"mean [{hdi_prob:.0%} HDI]", title_justify="left")
        for col in ("POD", "interventional", "Δ vs history", "counterfactual", "rewrite"):
            t.add_column(col, justify="left" if col == "POD" else "right")
        for r in results:
            delta = r.interventional.mean - base.interventional.mean
            t.add_row(r.pod, str(r.interventional), f"{delta:+.3f}", str(r.counterfactual),
                      f"{r.rewrite.mean:.2f}")
        out.print(t)
        out.print(f"diagnostics: {run.diagnostics.summary()}", markup=False)
        if output is not None and from_run is None:
            out.print(f"saved the run to {output}", markup=False)
        if plot is not None:
            out.print(f"wrote {plot}", markup=False)

    _emit(fmt, report(s, hdi_prob, results, diagnostics), csv_rows(results), table)
    _check_converged(diagnostics, allow_unconverged)


def _usage(message: str) -> typer.Exit:
    from plausibly.cli.common import fail
    from plausibly.models.errors import PlausiblyError

    return fail(PlausiblyError(message))


@handles_errors
def compare(scenario: ScenarioArg = DEFAULT_SCENARIO, priors: o.PriorsOpt = None,
            pool: o.PoolOpt = o.Pool.linear,
            weight: o.Weights = None,
            extremize: o.Extremize = 1.0,
            pod: o.Pods = None, fmt: o.FormatOpt = o.Format.table,
            plot: Annotated[Path | None, typer.Option(
                help="Also write a forest plot (.png or .svg).")] = None,
            force: o.Force = False,
            draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
            seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
            allow_unconverged: o.AllowUnconverged = False) -> None:
    """Every POD under every prior set, side by side, ranked by the pooled counterfactual.

    Each set's posterior weight says how well it predicted real history
    (prior weight x marginal likelihood of history, normalised; with a
    Monte Carlo standard error).
    """
    from plausibly.models.estimate import csv_rows, report, summarize
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.catalog import load_prior_sets
    from plausibly.priors.compare import compare as run_compare

    s = load_scenario(scenario)
    if pod:
        for p in pod:
            s.pod(p)
    sets = load_prior_sets(s, priors)
    if plot is not None:
        from plausibly.models.writing import check_writable

        check_writable(plot, force, {".png", ".svg"})
    with sampling_progress(f"{len(sets)} prior sets", chains, draws, tune) as progress:
        result = run_compare(s, [f for _, f in sets], pool=pool, weights=weight,
                             extremize=extremize, pods=pod,
                             settings=_settings(draws, tune, chains, seed), progress=progress)
    per_set = {r.priors: summarize(s, r.priors, r.draws, hdi_prob) for r in result.runs}
    pooled = summarize(s, result.pooled.priors, result.pooled.draws, hdi_prob)
    order = sorted(range(1, len(pooled)), key=lambda k: -pooled[k].counterfactual.mean)
    order = [0, *order]
    results = [rows[k] for k in order for rows in [*per_set.values(), pooled]]
    diagnostics = {r.priors: r.diagnostics for r in result.runs}
    if pool == "log":
        diagnostics[result.pooled.priors] = result.pooled.diagnostics
    weights = {e.priors: {"prior": round(float(w), 6), "posterior": round(float(p), 6),
                          "posterior_se": round(float(se), 6),
                          "log_evidence": round(e.log_z, 6), "log_evidence_se": round(
                              e.se_log_z, 6)}
               for e, w, p, se in zip(result.evidence, result.prior_weights,
                                      result.posterior_weights, result.posterior_weights_se,
                                      strict=True)}
    if plot is not None:
        from plausibly.models.plots import forest_plot
        from plausibly.models.writing import write_atomic

        write_atomic(plot, forest_plot(s, [*per_set.values(), pooled], hdi_prob,
                                       plot.suffix[1:]))

    def table() -> None:
        from rich.table import Table

        out = console()
        t = Table(title=f"{s.title}: counterfactual P({s.outcome}) given real history, "
                  f"posterior mean per prior set; the {pool} pool with its {hdi_prob:.0%} HDI. "
                  "Ranked by the pool.", title_justify="left")
        t.add_column("POD")
        for pid in per_set:
            t.add_column(pid, justify="right")
        t.add_column(f"{pool} pool", justify="right", style="bold")
        t.add_column("rewrite", justify="right")
        for k in order:
            cells = [f"{rows[k].counterfactual.mean:.3f}" for rows in per_set.values()]
            t.add_row(pooled[k].pod, *cells, str(pooled[k].counterfactual),
                      f"{pooled[k].rewrite.mean:.2f}")
        out.print(t)
        w = Table(title="Prior sets: weight from history (how unsurprising real history was)",
                  title_justify="left")
        for col in ("prior set", "prior weight", "log evidence", "posterior weight",
                    "diagnostics"):
            w.add_column(col, justify="left" if col in ("prior set", "diagnostics") else "right")
        for r, (pid, v) in zip(result.runs, weights.items(), strict=True):
            w.add_row(pid, f"{v['prior']:.3f}", f"{v['log_evidence']:.2f} ± "
                      f"{v['log_evidence_se']:.2f}", f"{v['posterior']:.3f} ± "
                      f"{v['posterior_se']:.3f}", r.diagnostics.summary())
        out.print(w)
        if pool == "log":
            out.print(f"log pool run: {result.pooled.diagnostics.summary()}", markup=False)
        if plot is not None:
            out.print(f"wrote {plot}", markup=False)

    payload = report(s, hdi_prob, results, diagnostics, pool=pool, weights=weights,
                     ranking=[pooled[k].pod for k in order[1:]])
    _emit(fmt, payload, csv_rows(results), table)
    _check_converged(diagnostics, allow_unconverged)


def _one_prior_set(s: Any, priors: str | None) -> Any:
    from plausibly.priors.catalog import load_prior_sets

    if priors is None:
        sets = load_prior_sets(s)
        if len(sets) > 1:
            ids = ", ".join(ps.id for ps, _ in sets)
            raise _usage(f"this command takes one prior set: add -p with one of {ids}")
    else:
        sets = load_prior_sets(s, [priors])
    return sets[0]


@handles_errors
def explain(args: Annotated[list[str], typer.Argument(
                metavar="[SCENARIO] POD",
                help="The POD whose alternate history to tell, after an optional scenario "
                "file or bundled id (default ussr_1930).")],
            priors: Annotated[str | None, typer.Option(
                "--priors", "-p", help="A prior-set .toml file or bundled id.")] = None,
            fmt: o.FormatOpt = o.Format.table,
            draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
            seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
            allow_unconverged: o.AllowUnconverged = False) -> None:
    """The counterfactual timeline: every event in time order, and how likely it changes.

    For each event: what happened, and the posterior probability (mean and
    HDI) that under the POD it turns out otherwise. The links that carry the
    effect light up; the ones that break stay near zero.
    """
    from plausibly.models.estimate import csv_rows, report, summarize
    from plausibly.models.estimate import estimate as run_estimate
    from plausibly.models.scenario import load_scenario

    if len(args) > 2:
        raise _usage(f"explain takes [SCENARIO] POD, got {len(args)} arguments: "
                     + " ".join(args))
    scenario, pod = (args[0], args[1]) if len(args) == 2 else (DEFAULT_SCENARIO, args[0])
    s = load_scenario(scenario)
    chosen = s.pod(pod)
    ps, fitted = _one_prior_set(s, priors)
    with sampling_progress(ps.id, chains, draws, tune) as progress:
        run = run_estimate(s, fitted, [pod], _settings(draws, tune, chains, seed), progress)
    results = summarize(s, run.priors, run.draws, hdi_prob)
    r = results[1]
    diagnostics = {run.priors: run.diagnostics}

    def table() -> None:
        from rich.table import Table

        out = console()
        out.print(f"[bold]{chosen.label}[/] ({pod}, proposed by {', '.join(chosen.by)}) — "
                  f"prior set {run.priors}")
        t = Table(title=f"The alternate timeline: P(event differs from history) mean "
                  f"[{hdi_prob:.0%} HDI]", title_justify="left")
        for col in ("year", "event", "history", "differs", ""):
            t.add_column(col, justify="right" if col in ("year", "differs") else "left")
        for n in s.nodes:
            if n.id == s.outcome:
                continue
            _h, summ = r.events[n.id]
            mark = "POD" if n.id in chosen.do else ("#" * round(10 * summ.mean))
            t.add_row(str(n.year), n.label, n.history_text, str(summ), mark)
        out.print(t)
        out.print(f"outcome {s.outcome}: counterfactual {r.counterfactual} "
                  f"(interventional {r.interventional}); expected events rewritten "
                  f"{r.rewrite.mean:.2f}", markup=False)
        out.print(f"diagnostics: {run.diagnostics.summary()}", markup=False)

    _emit(fmt, report(s, hdi_prob, [r], diagnostics), csv_rows([r]), table)
    _check_converged(diagnostics, allow_unconverged)


@handles_errors
def sensitivity(scenario: ScenarioArg = DEFAULT_SCENARIO,
                priors: Annotated[str | None, typer.Option(
                    "--priors", "-p", help="A prior-set .toml file or bundled id.")] = None,
                top: Annotated[int, typer.Option(
                    help="How many PODs (by counterfactual mean) to explain.")] = 5,
                fmt: o.FormatOpt = o.Format.table,
                draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
                seed: o.Seed = D.SEED,
                allow_unconverged: o.AllowUnconverged = False) -> None:
    """Which judgements drive each answer: prior/likelihood power-scaling and rank correlations.

    Prior sensitivity above 0.05 means the answer is shaped by the prior set
    rather than by history; the drivers are the judgements whose posterior
    draws move most with the answer.
    """
    from plausibly.models.estimate import estimate as run_estimate
    from plausibly.models.estimate import layout_of
    from plausibly.models.scenario import load_scenario
    from plausibly.models.sensitivity import sensitivity as run_sensitivity

    s = load_scenario(scenario)
    ps, fitted = _one_prior_set(s, priors)
    with sampling_progress(ps.id, chains, draws, tune) as progress:
        run = run_estimate(s, fitted, None, _settings(draws, tune, chains, seed), progress)
    found = sorted(run_sensitivity(run, layout_of(s, fitted)), key=lambda x: -x.mean)
    payload = {"scenario": s.id, "priors": run.priors, "pods": [
        {"pod": f.pod, "counterfactual_mean": round(f.mean, 6), "prior_sensitivity": round(
            f.prior, 6), "likelihood_sensitivity": round(f.likelihood, 6),
         "drivers": [{"parameter": d.parameter, "judgement": str(d),
                      "spearman": round(d.correlation, 4)} for d in f.drivers]}
        for f in found], "diagnostics": {run.priors: run.diagnostics.to_dict()}}
    rows = [(run.priors, f.pod, "prior_sensitivity", f.prior, "", "", "") for f in found]

    def table() -> None:
        from rich.table import Table

        out = console()
        t = Table(title=f"Sensitivity of each POD's counterfactual plausibility "
                  f"(prior set {run.priors})", title_justify="left")
        for col in ("POD", "mean", "prior psens", "likelihood psens", "main drivers"):
            t.add_column(col, justify="left" if col in ("POD", "main drivers") else "right")
        for f in found:
            t.add_row(f.pod, f"{f.mean:.3f}", f"{f.prior:.3f}" + (" *" if f.prior_informative
                                                                  else ""),
                      f"{f.likelihood:.3f}",
                      "; ".join(f"{d} ({d.correlation:+.2f})" for d in f.drivers))
        out.print(t)
        out.print("* prior sensitivity > 0.05: the prior set, not history, shapes this answer")
        for f in found[:top]:
            out.print("- " + f.sentence(), markup=False)
        out.print(f"diagnostics: {run.diagnostics.summary()}", markup=False)

    _emit(fmt, payload, rows, table)
    _check_converged({run.priors: run.diagnostics}, allow_unconverged)
