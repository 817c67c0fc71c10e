"""The console script's entry point: Ctrl-C while the command line starts ends quietly.

Importing :mod:`plausibly.cli.app` takes a noticeable moment (Typer, the commands'
modules, registering each command). A SIGINT anywhere in it arrives here, inside
the ``try``, so the user gets exit status 130 and one line, never a traceback.
Once the app is loaded, :func:`plausibly.cli.app.main` handles Ctrl-C itself.
"""

from __future__ import annotations

import sys

INTERRUPTED = "interrupted by Ctrl-C (SIGINT)\n"


def main() -> None:
    """Load the command line and run it."""
    try:
        from plausibly.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        raise SystemExit(130) from None
    run()
