"""Rendering a result: rich tables on a terminal, or JSON and CSV, and the convergence gate."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import typer

from plausibly.cli import options as o
from plausibly.cli.common import console, styled
from plausibly.models.errors import UnconvergedError

__all__ = ["Column", "abbreviations", "check_converged", "emit", "print_apart", "print_fields",
           "print_table"]


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


# ------------------------------------------------------------------- tables that fit

#: How narrow a column of words may get before the table is stacked instead.
PROSE_MIN = 28

#: Indent of a stacked row's cells under its key.
INDENT = 4


@dataclass(frozen=True)
class Column:
    """A column of :func:`print_table`.

    Attributes
    ----------
    header : str
    right : bool
        Right-justified (numbers).
    short : str or None
        A shorter header for a narrow terminal (a legend line then says what it stands for).
    prose : bool
        Words that may wrap onto more lines, between words only (labels, claims, lists of
        ids). Every other cell is printed whole on one line: an id, a number, an HDI.
    key : bool
        What names the row (a POD, an event): in the stacked layout it heads the row.
    style : str
        A rich style for the column's cells.
    least : int
        How narrow a prose column may get (never narrower than its longest word).
    """

    header: str
    right: bool = True
    short: str | None = None
    prose: bool = False
    key: bool = False
    style: str = ""
    least: int = PROSE_MIN


def abbreviations(ids: Sequence[str], longest: int = 6) -> list[str]:
    """Short unique names for column headers, as for prior-set ids.

    The shortest unique prefixes of at least four characters, or ``#1``, ``#2``, ...
    when those would be longer than ``longest``.
    """
    for k in range(4, longest + 1):
        prefixes = [i[:k] for i in ids]
        if len(set(prefixes)) == len(ids):
            return prefixes
    return [f"#{n}" for n in range(1, len(ids) + 1)]


def _lines(cell: Any) -> list[str]:
    return str(cell).split("\n") or [""]


def _width(cell: Any) -> int:
    from rich.cells import cell_len

    return max(cell_len(line) for line in _lines(cell))


def _longest_word(cells: Sequence[Any]) -> int:
    from rich.cells import cell_len

    return max((cell_len(w) for c in cells for w in str(c).split()), default=0)


def _table_widths(columns: Sequence[Column], headers: Sequence[str],
                  rows: Sequence[Sequence[Any]], width: int) -> list[int] | None:
    """Each column's width in a boxed table that fits ``width``, or None if none does."""
    natural = [max([_width(h), *(_width(r[j]) for r in rows)])
               for j, h in enumerate(headers)]
    least = [max(_longest_word([h, *(r[j] for r in rows)]), min(c.least, natural[j]))
             if c.prose else natural[j] for j, (c, h) in enumerate(zip(columns, headers,
                                                                         strict=True))]
    room = width - (3 * len(columns) + 1)  # a border and two spaces of padding per column
    if sum(least) > room:
        return None
    widths = list(least)
    spare = room - sum(widths)
    while spare > 0:  # grow the wrapped columns one character at a time, the most cut first
        short = [j for j, c in enumerate(columns) if c.prose and widths[j] < natural[j]]
        if not short:
            break
        j = max(short, key=lambda j: (natural[j] - widths[j]) / natural[j])
        widths[j] += 1
        spare -= 1
    return widths


def print_table(out: Any, title: str, columns: Sequence[Column],
                rows: Sequence[Sequence[Any]]) -> None:
    """Print ``rows`` as a table that fits the console's width.

    Tried in order: a table with the full headers; the same with the short
    headers (and a legend line); a stacked layout, each row's key on a line
    of its own and its other cells under it. Ids, numbers and HDIs are never
    cut or wrapped; only prose wraps, between words. Cells are strings or rich
    ``Text``, printed as written (never read as markup).
    """
    from rich.text import Text

    width = out.width
    full = [c.header for c in columns]
    short = [c.short or c.header for c in columns]
    for headers in ([full, short] if short != full else [full]):
        widths = _table_widths(columns, headers, rows, width)
        if widths is not None:
            _boxed(out, title, columns, headers, rows, widths)
            _legend(out, columns, headers)
            return
    out.print(Text(title))
    _stacked(out, columns, rows, width)


def _legend(out: Any, columns: Sequence[Column], headers: Sequence[str]) -> None:

    said = [f"{h} = {c.header}" for c, h in zip(columns, headers, strict=True) if h != c.header]
    if said:
        print_fields(out, "", [f"{s};" for s in said[:-1]] + said[-1:], style="dim")


def _boxed(out: Any, title: str, columns: Sequence[Column], headers: Sequence[str],
           rows: Sequence[Sequence[Any]], widths: Sequence[int]) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c, h, w in zip(columns, headers, widths, strict=True):
        t.add_column(h, justify="right" if c.right else "left", width=w, no_wrap=not c.prose,
                     overflow="fold", style=c.style or None)
    for r in rows:
        t.add_row(*r)
    out.print(t)


def _stacked(out: Any, columns: Sequence[Column], rows: Sequence[Sequence[Any]],
             width: int) -> None:
    """Each row as its key on a line, its short cells on the next, each prose cell below.

    The short headers are used (and said) if the full ones make the lines too wide.
    """
    from rich.padding import Padding
    from rich.text import Text

    key = next((j for j, c in enumerate(columns) if c.key), 0)
    cells = [j for j, c in enumerate(columns) if j != key and not c.prose]
    prose = [j for j, c in enumerate(columns) if j != key and c.prose]
    def sizes_of(headers: Sequence[str]) -> dict[int, int]:
        return {j: max([_width(headers[j]), *(_width(r[j]) for r in rows)]) for j in cells}

    headers = [c.header for c in columns]
    sizes = sizes_of(headers)
    if INDENT + sum(sizes.values()) + 2 * (len(cells) - 1) > width:
        headers = [c.short or c.header for c in columns]
        sizes = sizes_of(headers)
        _legend(out, columns, headers)

    def aligned(values: Sequence[str], style: str = "") -> Any:
        parts = [(v.rjust(sizes[j]) if columns[j].right else v.ljust(sizes[j]))
                 for j, v in zip(cells, values, strict=True)]
        return Text(" " * INDENT + "  ".join(parts).rstrip(), style=style)

    if cells:
        out.print(aligned([headers[j] for j in cells], "bold"))
    for r in rows:
        head = r[key] if isinstance(r[key], Text) else Text(str(r[key]))
        out.print(Text.assemble(head, style="bold"))
        if cells:
            out.print(aligned([str(r[j]) for j in cells]))
        for j in prose:
            body = Text.assemble(f"{headers[j]}: ", r[j] if isinstance(r[j], Text)
                                 else str(r[j]))
            out.print(Padding(body, (0, 0, 0, INDENT), expand=False))


def print_apart(out: Any, rows: Sequence[Any], scenario: Any = None) -> None:
    """List the PODs out of scope under a table: each with its counterfactual, never ranked.

    ``rows`` are :class:`~plausibly.models.results.PodResult` objects (or any
    with ``pod`` and ``counterfactual``). With the ``scenario``, each POD's
    posts (``by``) that say why it removes the question follow it.
    """
    if not rows:
        return

    def posts(pod: str) -> str:
        if scenario is None:
            return ""
        return " (" + ", ".join(scenario.pod(pod).by) + ")"

    print_fields(out, "out of scope (the POD removes the question; not ranked):",
                 [f"{r.pod} {r.counterfactual}{posts(r.pod)}{';' if k < len(rows) - 1 else ''}"
                  for k, r in enumerate(rows)])


def print_fields(out: Any, lead: str, fields: Sequence[str], style: str = "") -> None:
    """Print ``lead`` and ``fields`` on one line, or over as many as a terminal needs.

    Lines are broken between fields only, so that an HDI is never split.
    """
    from rich.cells import cell_len
    from rich.text import Text

    lines, line = [], lead
    for f in fields:
        if not line:
            line = f
        elif not out.soft_wrap and cell_len(line) + 1 + cell_len(f) > out.width:
            lines.append(line)
            line = " " * INDENT + f
        else:
            line = f"{line} {f}"
    for text in [*lines, line]:
        out.print(Text(text, style=style))


def small_number(x: float | None) -> str:
    """A probability for a table: 3 decimals, or 2 significant digits below 0.01.

    A route (POD chance x counterfactual) is often below 0.001, where 3
    decimals would print every POD as 0.000 and hide the ranking.
    """
    if x is None:
        return "n/a"
    if x == 0.0 or abs(x) >= 0.01:
        return f"{x:.3f}"
    return f"{x:.1e}"

