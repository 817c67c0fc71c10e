"""The ``plausibly`` command: one Typer app, commands registered from their modules."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Annotated

import typer

from plausibly.cli import compare, elicit, inputs, run
from plausibly.cli.environment import plain_streams, usable_home_caches
from plausibly.cli.main import INTERRUPTED

app = typer.Typer(
    name="plausibly",
    help="How plausible is an alternate history? Bayesian counterfactual plausibility for "
    "causal scenarios drawn from a discussion, with expert prior sets conditioned on what "
    "actually happened.",
    epilog="Start here: [bold]plausibly show[/] (the bundled scenario), [bold]plausibly compare"
    "[/] (every POD under every bundled prior set), [bold]plausibly explain "
    "kronstadt_succeeds -p contingency[/] (one alternate timeline). Each command has --help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    """``--version``: the installed package's version, then exit (before anything else)."""
    if value:
        from importlib.metadata import version

        typer.echo(f"plausibly {version('plausibly')}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print plausibly's version and exit.")] = False) -> None:
    # the app's own options; its help is the Typer(help=...) above
    pass


app.command()(inputs.check)
app.command()(inputs.show)
app.command()(inputs.graph)
app.command()(run.estimate)
app.command()(compare.compare)
app.command()(run.sensitivity)
app.command()(run.explain)
app.command()(elicit.elicit)
app.command()(compare.report)


def main() -> None:
    """Console-script entry point.

    Ctrl-C exits with status 130 and no traceback: while this module is
    imported (:mod:`plausibly.cli.main`, the console script, guards that),
    here, and in each command (its own message). A
    terminal that is not UTF-8 and a home that cannot be written to are dealt
    with before any command (:mod:`plausibly.cli.environment`).
    """
    try:
        plain_streams()
        usable_home_caches()
        app()
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        raise SystemExit(130) from None
    except SystemExit as done:
        if done.code in (130, 143) and "jax" in sys.modules:
            _leave_now(int(done.code))
        raise
    finally:
        # The process ends here, and the interpreter's last garbage collection
        # would walk every object PyMC and PyTensor built (0.6-0.8 s after a
        # sampling command, measured) to free memory the OS reclaims anyway.
        gc.freeze()


def _leave_now(code: int) -> None:
    """End a stopped command now, not when JAX's chains already running are done.

    JAX cannot cancel a chain that has started, and the interpreter's last
    clean-up waits for every one (up to two per core, about a second on the
    bundled scenario; several on a loaded machine). The message is printed,
    the workers are gone and outputs are whole or absent, so: flush, run the
    exit handlers (temporary folders are removed), and end the process.
    """
    import atexit

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)

