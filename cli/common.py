"""What every command shares: error handling, consoles, scenario resolution."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from plausibly.models.errors import PlausiblyError, Problem, UnconvergedError, UsageError

if TYPE_CHECKING:
    from plausibly.models.inference import Progress
    from plausibly.models.scenario import Scenario
    from plausibly.models.settings import Settings
    from plausibly.priors.elicitation import PriorSet
    from plausibly.priors.fit import FittedPriors

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SCENARIO = "ussr_1930"


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily: rich is only needed to render)."""
    from rich.console import Console

    terminal = (sys.stderr if stderr else sys.stdout).isatty()
    # piped or captured: tables 150 wide, and messages never broken mid-line
    return Console(stderr=stderr, highlight=False, soft_wrap=not terminal,
                   width=None if terminal else 150)


def fail(error: PlausiblyError) -> typer.Exit:
    """Print a user error (every problem) to stderr; return the Exit to raise."""
    err = console(stderr=True)
    problems = error.problems or ()
    if problems:
        n = len(problems)
        err.print(f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''}", markup=True)
        for p in problems:
            err.print(str(p), markup=False)
    elif isinstance(error, UnconvergedError):  # its UNCONVERGED lines are printed already
        err.print(str(error), markup=False)
    else:
        err.print(f"[bold red]error:[/] {error}", markup=True)
    return typer.Exit(error.exit_code)


def handles_errors(func: F) -> F:
    """Turn a :class:`PlausiblyError` into a clean message and its exit status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlausiblyError as error:
            raise fail(error) from None
        except KeyboardInterrupt:
            console(stderr=True).print(
                "interrupted (output files are written whole or not at all)")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def is_terminal() -> bool:
    """Whether stdout is a terminal."""
    return sys.stdout.isatty()


@contextlib.contextmanager
def sampling_progress(what: str, chains: int, draws: int,
                      tune: int) -> Iterator[Progress | None]:
    """A progress bar on stderr while sampling, on a terminal only.

    Yields the bar's update callback (``None`` when stderr is not a terminal).

    The bar is redrawn by the callback, not by a thread of its own: the
    sampler forks worker processes, and a fork must not catch another thread
    halfway through writing to the terminal.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    label = f"sampling {what} ({chains} chains)"
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("iterations"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console(stderr=True), auto_refresh=False, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        yield update


def settings_of(draws: int, tune: int, chains: int, seed: int) -> Settings:
    """The sampling settings the options ask for."""
    from plausibly.models.settings import Settings

    return Settings(draws=draws, tune=tune, chains=chains, seed=seed)


def usage(message: str) -> typer.Exit:
    """Print a mistake on the command line; return the Exit (status 2) to raise."""
    return fail(PlausiblyError(message))


def one_prior_set(s: Scenario, priors: str | None) -> tuple[PriorSet, FittedPriors]:
    """The one prior set a command was given (the only bundled one, if -p is left out)."""
    from plausibly.priors.catalog import load_prior_sets

    if priors is None:
        sets = load_prior_sets(s)
        if len(sets) > 1:
            ids = ", ".join(ps.id for ps, _ in sets)
            raise usage(f"this command takes one prior set: add -p with one of {ids}")
    else:
        sets = load_prior_sets(s, [priors])
    return sets[0]


def refuse_given(ctx: typer.Context, by: str, reasons: dict[str, str], fix: str) -> None:
    """Refuse every option in ``reasons`` that the command line gave beside option ``by``.

    ``reasons`` maps a parameter's name to why it cannot go with ``by``; one
    problem per option given (on the command line or from the environment),
    named as the user typed it, all at once (exit 2).
    """
    problems = [Problem(_shown(p), "", reasons[p.name], fix) for p in ctx.command.params
                if p.name in reasons and _given(ctx, p.name)]
    if problems:
        raise UsageError(problems=problems)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave this parameter (not its default).

    By the source's name: Typer brings its own copy of Click, whose enum is
    not ``click.core.ParameterSource``.
    """
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def _shown(param: Any) -> str:
    """An option as ``-p/--priors``, an argument as ``SCENARIO``."""
    if param.param_type_name == "argument":
        return str(param.name).upper()
    return "/".join(sorted(param.opts, key=len))
