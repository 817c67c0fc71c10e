"""The elicit command: an interactive session that writes a prior-set file."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from plausibly.cli.common import DEFAULT_SCENARIO, console, handles_errors, is_terminal
from plausibly.cli.options import ScenarioArg

#: How each kind of session line is shown (rich markup; the text itself is escaped).
_STYLE = {
    "event": "\n[bold]{}[/]",
    "question": "{}",
    "claim": "  [dim]claim: {}[/]",
    "fit": "  {}",
    "odds": "  {}",
    "states": "  {}",
    "warning": "  [yellow]warning:[/] {}",
    "note": "{}",
}


class _Terminal:
    """The session's questions on stdin, its answers and feedback on stdout."""

    def __init__(self) -> None:
        self.out = console()
        self.wrap = is_terminal()  # word-wrap on a terminal; whole lines in a pipe or log
        if isinstance(sys.stdin, io.TextIOWrapper):
            # bytes that are not in the terminal's encoding arrive as U+FFFD, and the
            # session asks again, rather than a UnicodeDecodeError losing the rest of a line
            sys.stdin.reconfigure(errors="replace")

    def ask(self, prompt: str, default: str) -> str:
        shown = f"{prompt} [{default}]" if default else prompt
        try:
            return str(typer.prompt(shown, default="", show_default=False))
        except typer.Abort as abort:  # Click turns both end of input and Ctrl-C into Abort
            if isinstance(abort.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            raise EOFError from None

    def say(self, kind: str, text: str) -> None:
        from rich.markup import escape

        self.out.print(_STYLE[kind].format(escape(text)), markup=True, soft_wrap=not self.wrap)


@handles_errors
def elicit(output: Annotated[Path, typer.Option(
               "--output", "-o", help="The prior-set .toml file to write; if it exists (a "
               "prior set for this scenario), the session resumes it.")],
           scenario: ScenarioArg = DEFAULT_SCENARIO,
           only: Annotated[list[str] | None, typer.Option(
               "--only", help="Ask only about this event, all its questions again "
               "(repeatable, or comma-separated).")
           ] = None,
           from_start: Annotated[bool, typer.Option(
               "--from-start", help="Resuming a file, ask every question again, from the "
               "set's id on, its answers offered as defaults (without it, only the "
               "judgements the file lacks are asked).")] = False) -> None:
    """Judge the scenario's events interactively and write a prior-set file.

    Walks the events in time order and asks, in plain words, for each one's
    base chance and its chance given each cause alone, as low / median / high;
    after each answer shows the fitted prior and the implied change in odds.
    A lopsided or U-shaped range, or one number (certainty), is kept only once
    confirmed. Enter keeps the offered answer, s skips, q saves and quits;
    answers are saved as you go. Run it again on the same file to resume at
    the first unanswered judgement (--from-start to go over everything again).
    A file changed by anything else meanwhile is never written over.
    """
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.session import plan_session, run_session

    s = load_scenario(scenario)
    plan = plan_session(s, output, only or (), from_start=from_start)
    result = run_session(s, plan, _Terminal())
    _report(result, scenario, output)
    if result.reason == "interrupted":
        raise typer.Exit(result.exit_code)  # 130 for Ctrl-C, 143 for SIGTERM


def _report(result: Any, scenario: str, output: Path) -> None:
    out = console()
    lines = [""]
    if result.reason == "quit":
        lines.append("quit: the answers so far are kept")
    elif result.reason == "stopped":
        lines.append("input ended: the answers so far are kept")
    elif result.reason == "interrupted":
        lines.append("interrupted: the answers so far are kept")
    total = result.judged + len(result.unjudged)
    if result.written:
        lines.append(f"saved {output}: judges {result.judged} of {total} parameters")
    elif result.priors.nodes:
        lines.append(f"no changes: {output} is as it was")
    else:
        lines.append(f"nothing judged, so {output} was not written")
    if result.unjudged and result.priors.nodes:
        lines.append(f"unjudged ({len(result.unjudged)}, default prior): "
                     + ", ".join(result.unjudged))
    if result.reason != "done":
        lines.append(f"to go on, run: plausibly elicit {scenario} -o {output}")
    elif result.priors.nodes:
        files = f"{scenario} {output}" if Path(scenario).exists() else str(output)
        lines.append(f"check it with: plausibly check {files}")
    for line in lines:
        out.print(line, soft_wrap=not is_terminal())
