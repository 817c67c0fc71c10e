"""Rendering a result: rich tables on a terminal, or JSON and CSV, and the convergence gate."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import typer

from plausibly.cli import options as o
from plausibly.cli.common import console, styled
from plausibly.models.errors import UnconvergedError

__all__ = ["check_converged", "emit"]


def emit(fmt: o.Format, payload: dict[str, Any], rows: list[tuple[Any, ...]],
          table: Any) -> None:
    """Print ``payload`` as JSON, ``rows`` as CSV, or call ``table()`` to print a table."""
    from plausibly.models.results import CSV_HEADER

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


def check_converged(diagnostics: dict[str, Any], allow: bool) -> None:
    """Report every unconverged run on stderr; raise UnconvergedError unless ``allow``."""
    bad = {k: d.problems() for k, d in diagnostics.items() if not d.converged}
    if not bad:
        return
    err = console(stderr=True)
    for k, problems in bad.items():
        err.print(styled(("UNCONVERGED", "bold red"), f" {k}: " + "; ".join(problems)))
    if allow:
        err.print("continuing because of --allow-unconverged: treat these numbers with care")
        return
    raise UnconvergedError("the numbers above are not trustworthy: raise --draws/--tune, or "
                           "pass --allow-unconverged to accept them (exit 3)")
