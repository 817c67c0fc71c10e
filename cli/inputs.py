"""Commands that read files without sampling: check, show, graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plausibly.cli.common import DEFAULT_SCENARIO, console, handles_errors
from plausibly.cli.options import ScenarioArg


@handles_errors
def check(files: Annotated[list[Path] | None, typer.Argument(
        help="Scenario and prior-set files. With none, every bundled file.")] = None,
          quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                              help="Print problems only.")] = False) -> None:
    r"""Validate scenarios and prior sets; report every problem at once (exit 2 if any).

    A prior set is checked against its scenario: give the scenario file on the
    same command line, or use a bundled one. Parameters a prior set does not
    judge are listed; they take the file's \[default] or the weak default.
    """
    from plausibly.priors.catalog import check_files

    results = check_files(files or [])
    out, err = console(), console(stderr=True)
    bad = 0
    for r in results:
        if r.ok:
            if not quiet:
                out.print(f"[green]ok[/]  {r.file}: {r.summary}")
                for w in r.warnings:
                    out.print(f"    [yellow]warning:[/] {w}", markup=True)
                if r.unjudged:
                    out.print(f"    unjudged ({len(r.unjudged)}, default prior): "
                              + ", ".join(r.unjudged), markup=False)
        else:
            bad += 1
            err.print(f"[bold red]error[/] {r.file}: {len(r.problems)} problem"
                      f"{'s' if len(r.problems) != 1 else ''}")
            for p in r.problems:
                err.print(str(p), markup=False)
    if not quiet:
        out.print(f"checked {len(results)} file{'s' if len(results) != 1 else ''}: "
                  f"{len(results) - bad} ok, {bad} with problems")
    if bad:
        raise typer.Exit(2)


@handles_errors
def show(scenario: ScenarioArg = DEFAULT_SCENARIO) -> None:
    """Print the events in time order, the claims (edges) with their posts, and the PODs."""
    from rich.table import Table

    from plausibly.models.scenario import load_scenario

    s = load_scenario(scenario)
    out = console()
    out.print(f"[bold]{s.title}[/]  ({s.id}; outcome: {s.outcome})")
    out.print(f"source: {s.source}", markup=False)
    if s.description:
        out.print(s.description, markup=False)
    events = Table(title="Events (what happened)", title_justify="left")
    for col in ("year", "event", "what", "history", "causes"):
        events.add_column(col, overflow="fold")
    for n in s.nodes:
        events.add_row(str(n.year), n.id, n.label, n.history_text,
                       ", ".join(s.parents[n.id]) or "-")
    out.print(events)
    claims = Table(title="Claims (edges)", title_justify="left")
    for col in ("cause -> effect", "claim", "by", "disputed by"):
        claims.add_column(col, overflow="fold")
    for e in s.edges:
        claims.add_row(f"{e.cause} -> {e.effect}", e.claim, ", ".join(e.by),
                       ", ".join(e.disputed_by) or "-")
    out.print(claims)
    pods = Table(title="Points of divergence", title_justify="left")
    for col in ("pod", "what", "do", "proposed by"):
        pods.add_column(col, overflow="fold")
    for p in s.pods:
        do = ", ".join(f"{k}={_do_text(v)}" for k, v in p.do.items())
        pods.add_row(p.id, p.label + (f"\n[dim]{p.why}[/]" if p.why else ""), do,
                     ", ".join(p.by))
    out.print(pods)
    for row in s.data:
        given = ", ".join(f"{k}={v}" for k, v in row.given.items()) or "no causes"
        count = f"at most {row.successes}" if row.at_most else f"{row.successes}"
        out.print(f"data: {row.node} happened {count} of {row.trials} times "
                  f"({given}): {row.note}", markup=False)


def _do_text(v: float) -> str:
    return {1.0: "true", 0.0: "false"}.get(v, f"{v:g}")


@handles_errors
def graph(scenario: ScenarioArg = DEFAULT_SCENARIO,
          output: Annotated[Path | None, typer.Option(
              "--output", "-o", help="Write DOT (.dot/.gv), SVG (.svg) or PNG (.png); "
              "without it, DOT goes to stdout.")] = None,
          force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
          run: Annotated[Path | None, typer.Option(
              "--run", help="A run.nc saved by 'estimate -o': arrows show each cause's "
              "posterior median effect (its scenario replaces SCENARIO).")] = None,
          pod: Annotated[str | None, typer.Option(
              "--pod", help="Mark only this POD; with --run, outline each event by its "
              "chance of differing from history under it.")] = None,
          ) -> None:
    """Draw the causal graph: events laid out by year, PODs marked.

    DOT needs nothing else (render it with Graphviz if you have it); SVG and
    PNG are drawn with matplotlib, no system package required.
    """
    from plausibly.models.files import check_writable, write_atomic
    from plausibly.models.plots.graph import Overlay, render_graph, run_overlay
    from plausibly.models.scenario import load_scenario

    if run is not None:
        from plausibly.models.store import load_run

        saved = load_run(run)
        s, overlay = saved.scenario, run_overlay(saved, pod, file=str(run))
    else:
        s = load_scenario(scenario)
        overlay = Overlay(pod=s.pod(pod).id if pod else None)
    if output is None:
        typer.echo(render_graph(s, "dot", overlay).decode(), nl=False)
        return
    check_writable(output, force, {".dot", ".gv", ".svg", ".png"})
    write_atomic(output, render_graph(s, output.suffix[1:], overlay))
    console().print(f"wrote {output}", markup=False)
