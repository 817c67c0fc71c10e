"""Commands that sample one prior set: estimate, explain, sensitivity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plausibly.cli import options as o
from plausibly.cli.common import (
    DEFAULT_SCENARIO,
    console,
    handles_errors,
    one_prior_set,
    refuse_given,
    sampling_progress,
    settings_of,
    styled,
    usage,
)
from plausibly.cli.options import ScenarioArg
from plausibly.cli.render import (
    Column,
    check_converged,
    emit,
    print_apart,
    print_fields,
    print_table,
    small_number,
)
from plausibly.models import settings as D

__all__ = ["SENSITIVITY_NOTES", "estimate", "explain", "sensitivity"]

#: What the sensitivity table's columns are, under it.
SENSITIVITY_NOTES = (
    "prior / likelihood sensitivity: power-scaling (Kallioinen et al. 2023), how much the "
    "answer's posterior moves when the prior set / history's evidence is made a little "
    "stronger or weaker; * prior sensitivity above 0.05: the prior set, not history, shapes "
    "this answer",
    "associated judgements: the sampled judgements whose values rise (+) or fall (-) with the "
    "answer across the posterior draws (Spearman rank correlation): an association, not the "
    "effect of changing a judgement",
)


#: the options ``estimate --from`` refuses, and why
_NOT_WITH_FROM = {
    "scenario": "the scenario is the one saved in the run",
    "priors": "the prior set is the one saved in the run",
    "output": "--from samples nothing, so there is no new run to save (to keep another copy "
              "of the saved run, copy its .nc file)",
    "draws": "--from does not sample: the draws are the saved run's",
    "tune": "--from does not sample: the tuning was the saved run's",
    "chains": "--from does not sample: the chains are the saved run's",
    "seed": "--from does not sample: the seed was the saved run's",
    "sampler": "--from does not sample: the saved run was sampled already",
}


@handles_errors
def estimate(ctx: typer.Context, scenario: ScenarioArg = DEFAULT_SCENARIO,
             priors: Annotated[str | None, typer.Option(
                 "--priors", "-p", help="A prior-set .toml file or bundled id.")] = None,
             pod: o.Pods = None, outcome: o.Outcomes = None, output: o.OutputNc = None,
             force: o.Force = False, fmt: o.FormatOpt = o.Format.table,
             from_run: Annotated[Path | None, typer.Option(
                 "--from", help="Re-render a saved run.nc instead of sampling (so without "
                 "SCENARIO, -p, -o, --draws, --tune, --chains, --seed or --sampler).")] = None,
             plot: Annotated[Path | None, typer.Option(
                 help="Also write each POD's posterior density (.png or .svg).")] = None,
             draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
             seed: o.Seed = D.SEED, hdi_prob: o.HdiProb = D.HDI_PROB,
             sampler: o.SamplerOpt = o.SamplerName.blackjax,
             allow_unconverged: o.AllowUnconverged = False) -> None:
    """Posterior plausibility of every outcome under every POD, for one prior set.

    One MCMC run conditioned on history answers every POD: interventional
    (the POD in the model's own world) and counterfactual (the POD applied
    to real history, keeping its luck), plus the rewrite (how many events
    change). The "history" row is the baseline. One table per outcome, the
    headline first (--outcome to choose); PODs out of scope are listed apart.
    """
    from plausibly.models.inference import estimate as run_estimate
    from plausibly.models.outputs import check_outputs, write_atomic
    from plausibly.models.results import (
        by_outcome,
        chosen_outcomes,
        csv_rows,
        rank,
        results_json,
        summarize,
    )
    from plausibly.models.scenario import load_scenario
    from plausibly.models.store import load_run, run_netcdf

    if from_run is not None:
        refuse_given(ctx, "--from", _NOT_WITH_FROM,
                     "leave it out to re-render the saved run, or leave out --from to sample anew")
    outputs: list[tuple[Path, set[str]]] = []
    if output is not None and from_run is None:
        outputs.append((output, {".nc"}))
    if plot is not None:
        outputs.append((plot, {".png", ".svg"}))
    check_outputs(outputs, force)  # every output path, before any work
    if from_run is not None:
        run = load_run(from_run)
        s = run.scenario
        outcomes = chosen_outcomes(s, outcome)
        priors_path = None
    else:
        s = load_scenario(scenario)
        outcomes = chosen_outcomes(s, outcome)  # before any sampling
        ps, fitted = one_prior_set(s, priors)
        if pod:
            for p in pod:
                s.pod(p)
        with sampling_progress(ps.id, chains, draws, tune) as progress:
            run = run_estimate(s, fitted.parameter_prior(s), pod,
                               settings_of(draws, tune, chains, seed, sampler), progress)
        priors_path = ps.path
        if output is not None:
            write_atomic(output, run_netcdf(run, priors_path, label=str(output)), force=force)
    results = summarize(s, run.priors, run.draws, hdi_prob, outcomes)
    if pod and from_run is not None:
        keep = {"history", *pod}
        results = [r for r in results if r.pod in keep]
    diagnostics = {run.priors: run.diagnostics}
    if plot is not None:
        from plausibly.models.plots.density import density_plot

        write_atomic(plot, density_plot(run, hdi_prob, plot.suffix[1:].lower(),
                                        list(dict.fromkeys(r.pod for r in results)),
                                        outcome=results[0].outcome), force=force)

    def table() -> None:
        out = console()
        for name, rows in by_outcome(results).items():
            ranked, apart = rank(rows, by_plausibility=False)
            base = rows[ranked[0]]
            body = [(r.pod, str(r.interventional),
                     f"{r.interventional.mean - base.interventional.mean:+.3f}",
                     str(r.counterfactual),
                     small_number(None if r.route is None else r.route.mean),
                     f"{r.rewrite.mean:.2f}")
                    for r in (rows[k] for k in ranked)]
            print_table(out, f"P({name}) — {s.title} — prior set {run.priors} ({run.name}); "
                        f"mean [{hdi_prob:.0%} HDI]; route = POD chance x counterfactual", [
                            Column("POD", right=False, key=True), Column("interventional"),
                            Column("Δ vs history", short="Δ"), Column("counterfactual"),
                            Column("route"), Column("rewrite")], body)
            print_apart(out, [rows[k] for k in apart], s)
        if "pod_chance" not in run.draws:
            from plausibly.models.results import NO_POD_CHANCE

            out.print(NO_POD_CHANCE)
        out.print(f"diagnostics: {run.diagnostics.summary()}")
        if output is not None and from_run is None:
            out.print(f"saved the run to {output}")
        if plot is not None:
            out.print(f"wrote {plot}")

    emit(fmt, results_json(s, hdi_prob, results, diagnostics), csv_rows(results), table)
    check_converged(diagnostics, allow_unconverged)


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
            sampler: o.SamplerOpt = o.SamplerName.blackjax,
            allow_unconverged: o.AllowUnconverged = False) -> None:
    """The counterfactual timeline: every event in time order, and how likely it changes.

    For each event: what happened, and the posterior probability (mean and
    HDI) that under the POD it turns out otherwise. The links that carry the
    effect light up; the ones that break stay near zero.
    """
    from plausibly.models.inference import estimate as run_estimate
    from plausibly.models.results import csv_rows, results_json, summarize
    from plausibly.models.scenario import load_scenario

    if len(args) > 2:
        raise usage(f"explain takes [SCENARIO] POD, got {len(args)} arguments: "
                     + " ".join(args))
    scenario, pod = (args[0], args[1]) if len(args) == 2 else (DEFAULT_SCENARIO, args[0])
    s = load_scenario(scenario)
    chosen = s.pod(pod)
    ps, fitted = one_prior_set(s, priors)
    with sampling_progress(ps.id, chains, draws, tune) as progress:
        run = run_estimate(s, fitted.parameter_prior(s), [pod],
                           settings_of(draws, tune, chains, seed, sampler), progress)
    shown = [x for x in summarize(s, run.priors, run.draws, hdi_prob) if x.pod == pod]
    r = shown[0]  # the timeline does not depend on the outcome
    diagnostics = {run.priors: run.diagnostics}

    def table() -> None:
        out = console()
        out.print(styled((chosen.label, "bold"), f" ({pod}, proposed by "
                         f"{', '.join(chosen.by)}) — prior set {run.priors}"))
        rows = []
        for n in s.nodes:
            if n.id in s.outcome_events:
                continue
            _h, summ = r.events[n.id]
            mark = "POD" if n.id in chosen.do else ("#" * round(10 * summ.mean))
            rows.append((str(n.year), n.label, n.history_text, str(summ), mark))
        print_table(out, "The alternate timeline: P(event differs from history) mean "
                    f"[{hdi_prob:.0%} HDI]", [
                        Column("year"), Column("event", right=False, prose=True, key=True),
                        Column("history", right=False), Column("differs"),
                        Column("", right=False)], rows)
        if chosen.scope == "out":
            out.print("This POD is out of scope: it removes the question itself, so it is "
                      "not ranked.")
        if r.pod_chance is not None:
            print_fields(out, "POD chance (how likely history itself made the POD):",
                         [str(r.pod_chance)])
        for x in shown:
            print_fields(out, f"outcome {x.outcome}:", [
                f"counterfactual {x.counterfactual}", f"(interventional {x.interventional})",
                *([] if x.route is None else [f"route {x.route}"])])
        out.print(f"expected events rewritten {r.rewrite.mean:.2f}")
        out.print(f"diagnostics: {run.diagnostics.summary()}")

    emit(fmt, results_json(s, hdi_prob, shown, diagnostics), csv_rows(shown), table)
    check_converged(diagnostics, allow_unconverged)


@handles_errors
def sensitivity(scenario: ScenarioArg = DEFAULT_SCENARIO,
                priors: Annotated[str | None, typer.Option(
                    "--priors", "-p", help="A prior-set .toml file or bundled id.")] = None,
                top: Annotated[int, typer.Option(
                    help="How many PODs (by counterfactual mean) to explain.")] = 5,
                outcome: Annotated[str | None, typer.Option(
                    "--outcome", help="The outcome whose answers to study (as the outputs "
                    "name it); the headline by default.")] = None,
                fmt: o.FormatOpt = o.Format.table,
                draws: o.Draws = D.DRAWS, tune: o.Tune = D.TUNE, chains: o.Chains = D.CHAINS,
                seed: o.Seed = D.SEED, sampler: o.SamplerOpt = o.SamplerName.blackjax,
                allow_unconverged: o.AllowUnconverged = False) -> None:
    """How much each answer rests on the prior set (power-scaling), and what goes with it.

    Prior sensitivity: how much a POD's answer moves when the prior set is
    made a little stronger or weaker (power-scaling); above 0.05 the prior
    set, not history, shapes it. Likelihood sensitivity: the same for
    history's evidence. Associated judgements: the sampled judgements whose
    values rise and fall with the answer across the posterior draws (rank
    correlation): an association, not the effect of changing one.
    """
    from plausibly.models.inference import estimate as run_estimate
    from plausibly.models.power_scaling import sensitivity as run_sensitivity
    from plausibly.models.results import chosen_outcomes, outcome_names
    from plausibly.models.scenario import load_scenario

    s = load_scenario(scenario)
    name = (chosen_outcomes(s, [outcome] if outcome else None) or outcome_names(s))[0]
    ps, fitted = one_prior_set(s, priors)
    with sampling_progress(ps.id, chains, draws, tune) as progress:
        prior = fitted.parameter_prior(s)
        run = run_estimate(s, prior, None, settings_of(draws, tune, chains, seed, sampler),
                           progress)
    found = sorted(run_sensitivity(run, prior, outcome=name), key=lambda x: -x.mean)
    payload = {"scenario": s.id, "priors": run.priors, "outcome": name, "pods": [
        {"pod": f.pod, "counterfactual_mean": round(f.mean, 6), "prior_sensitivity": round(
            f.prior, 6), "likelihood_sensitivity": round(f.likelihood, 6),
         "drivers": [{"parameter": d.parameter, "judgement": str(d),
                      "spearman": round(d.correlation, 4)} for d in f.drivers]}
        for f in found], "diagnostics": {run.priors: run.diagnostics.to_dict()}}
    rows = [(run.priors, f.pod, name, "prior_sensitivity", f.prior, "", "", "", "")
            for f in found]

    def table() -> None:
        out = console()
        rows = [(f.pod, f"{f.mean:.3f}", f"{f.prior:.3f}" + (" *" if f.prior_informative
                                                              else ""),
                 f"{f.likelihood:.3f}", "; ".join(f"{d} ({d.correlation:+.2f})"
                                                  for d in f.drivers) or "-")
                for f in found]
        print_table(out, f"Sensitivity of each POD's counterfactual P({name}) (prior set "
                    f"{run.priors})", [
                        Column("POD", right=False, key=True), Column("mean"),
                        Column("prior sensitivity", short="prior"),
                        Column("likelihood sensitivity", short="likelihood"),
                        Column("associated judgements (rank correlation)", right=False,
                               short="associated", prose=True)], rows)
        for note in SENSITIVITY_NOTES:
            out.print(note)
        for f in found[:top]:
            out.print("- " + f.sentence())
        out.print(f"diagnostics: {run.diagnostics.summary()}")

    emit(fmt, payload, rows, table)
    check_converged({run.priors: run.diagnostics}, allow_unconverged)
