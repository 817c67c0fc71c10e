"""Commands that read files without sampling: check, show, graph."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from plausibly.cli.common import DEFAULT_SCENARIO, console, handles_errors, styled
from plausibly.cli.options import ScenarioArg

if TYPE_CHECKING:
    from plausibly.models.scenario import Edge, Node, Scenario

YES_NO = ("no", "yes")


@handles_errors
def check(files: Annotated[list[Path] | None, typer.Argument(
        help="Scenario and prior-set files, or bundled ids (ussr_1930, ideology). With none, "
             "every bundled file.")] = None,
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
                out.print(styled(("ok", "green"), f"  {r.file}: {r.summary}"))
                for w in r.warnings:
                    out.print(styled("    ", ("warning:", "yellow"), f" {w}"))
                if r.unjudged:
                    out.print(f"    unjudged ({len(r.unjudged)}, default prior): "
                              + ", ".join(r.unjudged))
        else:
            bad += 1
            err.print(styled(("error", "bold red"), f" {r.file}: {len(r.problems)} problem"
                             f"{'s' if len(r.problems) != 1 else ''}"))
            for p in r.problems:
                err.print(str(p))
    if not quiet:
        out.print(f"checked {len(results)} file{'s' if len(results) != 1 else ''}: "
                  f"{len(results) - bad} ok, {bad} with problems")
    if bad:
        raise typer.Exit(2)


@handles_errors
def show(scenario: ScenarioArg = DEFAULT_SCENARIO) -> None:
    """Print the events in time order, the claims (edges) with their posts, and the PODs."""
    from plausibly.cli.render import Column, print_table
    from plausibly.models.scenario import Outcome, load_scenario

    s = load_scenario(scenario)
    out = console()
    if s.outcomes == (Outcome(s.outcome),):
        heading = f"  ({s.id}; outcome: {s.outcome})"
    else:
        heading = f"  ({s.id}; outcomes: {', '.join(o.name for o in s.outcomes)})"
    out.print(styled((s.title, "bold"), heading))
    out.print(f"source: {s.source}")
    if s.description:
        out.print(s.description)
    events = []
    for n in s.nodes:
        what = n.label + (f"\nstates: {' < '.join(n.states)}" if n.declared_states else "")
        causes = [*s.influences[n.id], *(_gate_text(s.node(c), least)
                                         for c, least in s.gates[n.id])]
        events.append((str(n.year), n.id, what, n.history_text, ", ".join(causes) or "-"))
    print_table(out, "Events (what happened)", [
        Column("year"), Column("event", right=False, key=True),
        Column("what", right=False, prose=True), Column("history", right=False),
        Column("causes", right=False, prose=True)], events)
    print_table(out, "Claims (edges)", [
        Column("cause -> effect", right=False, prose=True, key=True),
        Column("claim", right=False, prose=True),
        Column("by", right=False, prose=True, least=12),
        Column("disputed by", right=False, prose=True, least=12)],
        [(_edge_text(s, e), e.claim, _by_text(e.by, e.qualified_by),
          ", ".join(e.disputed_by) or "-") for e in s.edges])
    if s.interactions:
        print_table(out, "Interactions (causes acting together)", [
            Column("causes -> effect", right=False, prose=True, key=True),
            Column("claim", right=False, prose=True),
            Column("by", right=False, prose=True, least=12),
            Column("disputed by", right=False, prose=True, least=12)],
            [(" & ".join(_least_text(s.node(c), least) for c, least in i.causes.items())
              + f" -> {i.effect}", i.claim, _by_text(i.by, i.qualified_by),
              ", ".join(i.disputed_by) or "-") for i in s.interactions])
    pods = []
    for p in s.pods:
        notes = ([("\n" + p.why, "dim")] if p.why else []) + (
            [("\nscope: out (removes the question; reported apart, never ranked)", "dim")]
            if p.scope == "out" else [])
        what = styled(p.label, *notes)
        do = ", ".join(f"{k}={_do_text(v)}" for k, v in p.do.items())
        pods.append((p.id, what, do, ", ".join(p.by)))
    print_table(out, "Points of divergence", [
        Column("pod", right=False, key=True), Column("what", right=False, prose=True),
        Column("do", right=False, prose=True),
        Column("proposed by", right=False, prose=True, least=12)],
        pods)
    for row in s.data:
        given = ", ".join(f"{k}={v}" for k, v in row.given.items()) or "no causes"
        count = f"at most {row.successes}" if row.at_most else f"{row.successes}"
        out.print(f"data: {row.node} happened {count} of {row.trials} times "
                  f"({given}): {row.note}")


def _least_text(cause: Node, least: str) -> str:
    """``cause`` for a yes/no cause at "yes"; ``cause>=state`` otherwise."""
    return cause.id if cause.states == YES_NO and least == "yes" else f"{cause.id}>={least}"


def _gate_text(cause: Node, least: str) -> str:
    return f"{_least_text(cause, least)} (requires)"


def _edge_text(s: Scenario, e: Edge) -> str:
    if not e.gate:
        return f"{e.cause} -> {e.effect}"
    return f"{_least_text(s.node(e.cause), e.at_least or 'yes')} -> {e.effect} (requires)"


def _by_text(by: tuple[str, ...], qualified: tuple[str, ...]) -> str:
    return ", ".join(by) + (f"; in part: {', '.join(qualified)}" if qualified else "")


def _do_text(v: float | str | Mapping[str, float]) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {w:g}" for k, w in v.items()) + "}"
    return {1.0: "true", 0.0: "false"}.get(v, f"{v:g}")


@handles_errors
def graph(scenario: ScenarioArg = DEFAULT_SCENARIO,
          output: Annotated[Path | None, typer.Option(
              "--output", "-o", help="Write DOT (.dot/.gv), SVG (.svg) or PNG (.png); "
              "without it, DOT goes to stdout.")] = None,
          force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
          run: Annotated[Path | None, typer.Option(
              "--run", help="A run.nc saved by 'estimate -o': arrows show each cause's "
              "posterior median effect (the run's own scenario: leave SCENARIO out).")] = None,
          pod: Annotated[str | None, typer.Option(
              "--pod", help="Mark only this POD; with --run, outline each event by its "
              "chance of differing from history under it.")] = None,
          ) -> None:
    """Draw the causal graph: events laid out by year, PODs marked.

    DOT needs nothing else (render it with Graphviz if you have it); SVG and
    PNG are drawn with matplotlib, no system package required.
    """
    from plausibly.models.outputs import check_writable, write_atomic
    from plausibly.models.plots.graph import Overlay, render_graph, run_overlay
    from plausibly.models.scenario import load_scenario

    if run is not None:
        from plausibly.models.store import load_run

        saved = load_run(run)
        s, overlay = saved.scenario, run_overlay(saved, pod, file=str(run))
        if scenario != DEFAULT_SCENARIO and load_scenario(scenario).id != s.id:
            from plausibly.models.errors import Problem, UsageError

            raise UsageError(problems=[Problem(
                scenario, "", f"is not the scenario of the run {run}, which holds its own "
                f"('{s.id}') and draws that",
                "leave SCENARIO out with --run, or give the run's own scenario")])
    else:
        s = load_scenario(scenario)
        overlay = Overlay(pod=s.pod(pod).id if pod else None)
    if output is None:
        typer.echo(render_graph(s, "dot", overlay).decode(), nl=False)
        return
    check_writable(output, force, {".dot", ".gv", ".svg", ".png"})
    write_atomic(output, render_graph(s, output.suffix[1:], overlay), force=force)
    console().print(f"wrote {output}")
