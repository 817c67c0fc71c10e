"""The HTML building blocks of the report: escaping, tables, pictures, the page itself.

Nothing here knows about scenarios or comparisons: every function takes text
and returns HTML. Text passed to :func:`esc` is escaped; cells passed to
:func:`table` and captions passed to :func:`figure` are HTML already (the
callers escape what comes from files).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

__all__ = ["CSS", "esc", "figure", "page", "picture", "table"]

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:72rem;margin:2rem auto;padding:0 1rem;box-sizing:border-box;color:#1d1d1d;
 line-height:1.45}td code{overflow-wrap:anywhere}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}table.wide{width:100%}
th,td{border:1px solid #d4d4d4;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap}tr.baseline td{color:#555;font-style:italic}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
.scroll{overflow-x:auto;border:1px solid #e4e4e4}figure.natural img{max-width:none;display:block}
figcaption{font-size:.85rem;color:#444}
.warning{background:#fff0f0;border:2px solid #c92a2a;padding:.6rem 1rem}
.lead{font-size:1.1rem}article.pod{border-left:3px solid #d9480f;padding:0 0 0 .8rem;
 margin:1rem 0}article.pod h3{margin:.2rem 0}article.pod p{margin:.3rem 0}
article.outcome{margin:1.6rem 0}article.outcome h3{margin:.2rem 0}
code,pre{background:#f6f6f6;padding:.1rem .3rem}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap}dt{font-weight:600}
""".strip()


def esc(text: object) -> str:
    """``text`` as HTML text or attribute value: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def picture(svg: bytes, label: str) -> str:
    """An SVG picture as an image with a ``data:`` URI: self-contained, its ids its own.

    Parameters
    ----------
    svg : bytes
        The SVG document.
    label : str
        Plain text for the ``alt`` attribute (escaped here).
    """
    data = base64.b64encode(svg).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{esc(label)}">'


def figure(svg: bytes, label: str, caption: str, *, natural: bool = False) -> str:
    """A ``<figure>`` with one SVG picture and its caption (HTML).

    ``natural`` shows the picture at its own size, in a box that scrolls
    sideways when it is wider than the page (so that its text reads at 100%).
    """
    if natural:
        return ('<figure class="natural"><div class="scroll">' + picture(svg, label)
                + f"</div><figcaption>{caption}</figcaption></figure>")
    return f"<figure>{picture(svg, label)}<figcaption>{caption}</figcaption></figure>"


def table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None,
          row_classes: Sequence[str] | None = None, *, wide: bool = False) -> str:
    """An HTML table; header and cells are HTML already (escaped by the caller).

    Parameters
    ----------
    head : sequence of str
    rows : sequence of sequences of str
    numeric : set of int, optional
        The columns aligned right, in tabular figures.
    row_classes : sequence of str, optional
        A class per row ("" for none).
    wide : bool
        Whether the table takes the page's whole width.
    """
    numeric = numeric or set()
    out = ['<table class="wide">' if wide else "<table>"]
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>")
    for k, row in enumerate(rows):
        cls = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
                        for j, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def page(title: str, generator: str, body: str) -> str:
    """A complete HTML document: the style sheet inline, no script, nothing to fetch.

    ``title`` and ``generator`` are plain text (escaped here); ``body`` is HTML.
    """
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n"
            f'<meta name="generator" content="{esc(generator)}">\n'
            f"<style>\n{CSS}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
