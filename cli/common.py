"""What every command shares: error handling, consoles, scenario resolution."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from plausibly.models.errors import (
    Interrupted,
    PlausiblyError,
    Problem,
    UnconvergedError,
    UsageError,
    forget_stops,
    note_stop,
    raise_if_stopped,
)

if TYPE_CHECKING:
    from plausibly.models.inference import Progress
    from plausibly.models.scenario import Scenario
    from plausibly.models.settings import Settings
    from plausibly.priors.elicitation import PriorSet
    from plausibly.priors.fit import FittedPriors

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SCENARIO = "ussr_1930"


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily: rich is only needed to render).

    Strings are printed as written, never read as rich markup: titles, labels
    and claims come from files and may hold brackets (``[sic]``, ``[/x]``).
    Styles are given as :func:`styled` text instead.

    A terminal is told as rich tells it (``TTY_COMPATIBLE=1`` or ``FORCE_COLOR``
    make one of any output), and it is as wide as rich finds it (``COLUMNS``).
    """
    from rich.console import Console

    terminal = Console(stderr=stderr, highlight=False, markup=False)
    if terminal.is_terminal:
        return terminal
    # piped or captured: tables 150 wide, and messages never broken mid-line
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True, width=150)


def styled(*parts: str | tuple[str, str]) -> Any:
    """Rich text from plain strings and ``(text, style)`` pairs, every text taken literally."""
    from rich.text import Text

    return Text.assemble(*parts)


def fail(error: PlausiblyError) -> typer.Exit:
    """Print a user error (every problem) to stderr; return the Exit to raise."""
    err = console(stderr=True)
    problems = error.problems or ()
    if problems:
        n = len(problems)
        err.print(styled(("error:", "bold red"), f" {n} problem{'s' if n != 1 else ''}"))
        for p in problems:
            err.print(str(p))
    elif isinstance(error, UnconvergedError):  # its UNCONVERGED lines are printed already
        err.print(str(error))
    else:
        err.print(styled(("error:", "bold red"), f" {error}"))
    return typer.Exit(error.exit_code)


@contextlib.contextmanager
def stops_on_sigterm() -> Iterator[None]:
    """While a command runs, SIGTERM stops it as Ctrl-C does: :class:`Interrupted`.

    Both signals are also noted (:func:`~plausibly.models.errors.note_stop`),
    so that a stop whose exception Python dropped (raised inside a
    garbage-collector callback) is raised again where the sampler waits, or
    when the command ends, and never lost.

    So the sampler stops every worker and a half-written output is removed,
    where SIGTERM's default action would end this process on the spot. The
    first SIGTERM raises; any later one is ignored while the command cleans
    up. (Only the main thread may set a signal handler; elsewhere this does
    nothing.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        note_stop(signum)
        raise Interrupted(signum)

    def ctrl_c(signum: int, frame: object) -> None:
        note_stop(signum)
        raise KeyboardInterrupt

    forget_stops()
    previous = signal.signal(signal.SIGTERM, stop)
    previous_int = signal.signal(signal.SIGINT, ctrl_c)
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_stops(hook)
    try:
        yield
        raise_if_stopped()  # a stop whose exception Python dropped (see note_stop)
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        forget_stops()


def _quiet_stops(hook: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable-exception hook that does not print a stop Python had to drop.

    A signal's exception raised inside a garbage-collector callback is
    "ignored" with a traceback on stderr; it was noted (:func:`note_stop`)
    and is raised again where the command next waits, so it is not printed.
    """

    def quiet(unraisable: Any) -> object:
        if isinstance(unraisable.exc_value, KeyboardInterrupt | Interrupted):
            return None
        return hook(unraisable)

    return quiet


def handles_errors(func: F) -> F:
    """Turn a :class:`PlausiblyError` into a clean message and its exit status.

    Ctrl-C, SIGTERM and an interrupted sampling worker end the command the
    same way: one line on stderr, no traceback, the exit status of
    :class:`Interrupted` (130 for Ctrl-C, 143 for SIGTERM).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with stops_on_sigterm():
                return func(*args, **kwargs)
        except PlausiblyError as error:
            raise fail(error) from None
        except (KeyboardInterrupt, Interrupted) as caught:
            stop = caught if isinstance(caught, Interrupted) else Interrupted(signal.SIGINT)
            console(stderr=True).print(str(stop), markup=False)
            raise typer.Exit(stop.exit_code) from None

    return wrapper  # type: ignore[return-value]


def is_terminal() -> bool:
    """Whether stdout is a terminal."""
    return sys.stdout.isatty()


@contextlib.contextmanager
def sampling_progress(what: str, chains: int, draws: int,
                      tune: int) -> Iterator[Progress | None]:
    """A progress bar on stderr while sampling, on a terminal only.

    Yields the bar's update callback (``None`` when stderr is not a terminal).
    First makes sure PyTensor can write its compiled model and the sampler
    its cache (else each goes to a temporary directory, and a note says so;
    exit 2 if none can be made), and lets this process reuse the large
    blocks numpy frees (:func:`~plausibly.models.workers.keep_freed_memory`).

    The bar is redrawn by the callback, not by a thread of its own: the
    sampler forks worker processes, and a fork must not catch another thread
    halfway through writing to the terminal.
    """
    from plausibly.cli.environment import usable_compile_dir, usable_sampler_cache

    try:
        notes = [usable_compile_dir()]
    except OSError as err:
        raise PlausiblyError(
            f"PyTensor's compile directory cannot be written, nor a temporary one made instead "
            f"({err.strerror or err}): set PYTENSOR_FLAGS=base_compiledir=<a folder you can "
            "write to>") from None
    try:
        notes.append(usable_sampler_cache())
    except OSError as err:
        raise PlausiblyError(
            f"the sampler's cache cannot be written, nor a temporary one made instead "
            f"({err.strerror or err}): set PLAUSIBLY_CACHE_DIR=<a folder you can write to>"
        ) from None
    for note in filter(None, notes):
        console(stderr=True).print(note, markup=False)
    from plausibly.models.workers import keep_freed_memory

    # the diagnostics and summaries here also free and take again tables of
    # tens of MiB: a warm compare 0.3-0.9 s faster (0.5-1.1 s less system
    # time, 45 MB more at its peak); a short-lived process, unlike a notebook
    keep_freed_memory()
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
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TextColumn("iterations"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console(stderr=True), auto_refresh=False, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        yield update


def settings_of(draws: int, tune: int, chains: int, seed: int, sampler: str) -> Settings:
    """The sampling settings the options ask for."""
    from plausibly.models.settings import Settings

    return Settings(draws=draws, tune=tune, chains=chains, seed=seed, sampler=str(sampler))


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
