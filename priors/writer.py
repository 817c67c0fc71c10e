"""Writing prior sets as TOML that reads back equal.

:func:`dumps_prior_set` turns a :class:`PriorSet` into TOML text that
:func:`~plausibly.priors.elicitation.parse_prior_set` reads back equal (floats
are written with ``repr``, so they round-trip exactly; strings are escaped and
long ones wrapped with TOML line-ending backslashes, which lose nothing).
:func:`read_comments` keeps a file's comments across a rewrite where it can:
the opening block and the block before each ``[nodes.X]`` table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from plausibly.models.files import write_atomic
from plausibly.priors.elicitation import Judgement, PriorSet

__all__ = [
    "FileComments",
    "dumps_prior_set",
    "format_number",
    "read_comments",
    "save_prior_set",
    "toml_string",
]

#: Physical lines of long strings are wrapped at about this width.
WRAP = 88

# ============================================================================ writing


@dataclass(frozen=True)
class FileComments:
    """Comments to write around a prior set.

    ``header`` opens the file; ``before[node]`` goes just above ``[nodes.node]``;
    ``dropped`` counts the comments of a read file that have no such place.
    """

    header: str = ""
    before: Mapping[str, str] = field(default_factory=dict)
    dropped: int = 0


_BARE_KEY = re.compile(r"\A[A-Za-z0-9_-]+\Z")  # not $: it matches before a final newline
_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n",
                  "\f": "\\f", "\r": "\\r"}


def _escape(text: str) -> str:
    r"""Escape ``text`` for a TOML basic string (``\``, ``"`` and every control character)."""
    out = []
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _chunks(line: str, width: int) -> list[str]:
    """Split one line into pieces of about ``width`` characters.

    Every piece but the last ends in spaces or tabs and the next one starts
    with neither, so a line-ending backslash after each piece (which drops the
    newline and the whitespace that follows it) gives back ``line`` exactly.
    """
    tokens = [t for t in re.findall(r"[^ \t]*[ \t]*", line) if t]
    pieces: list[str] = []
    current = ""
    for token in tokens:
        if current and len(current) + len(token.rstrip()) > width:
            pieces.append(current)
            current = ""
        current += token
    if current or not pieces:
        pieces.append(current)
    return pieces


def toml_string(text: str, width: int = WRAP) -> str:
    """A TOML string literal for ``text``: one line when short, else a wrapped ``\"\"\"`` block.

    Parameters
    ----------
    text : str
        Any text (newlines, quotes, backslashes and control characters included).
    width : int
        Roughly the longest physical line of a wrapped string.

    Returns
    -------
    str
        The literal; ``tomllib`` reads it back as ``text`` exactly.
    """
    if "\n" not in text and len(text) <= width:
        return f'"{_escape(text)}"'
    lines = []
    for line in text.split("\n"):
        lines.append("\\\n".join(_escape(piece) for piece in _chunks(line, width)))
    # A newline right after the opening quotes is dropped by TOML: add one when
    # the text itself starts with a newline, so that the text's own survives.
    opening = '"""\n' if text.startswith("\n") else '"""'
    return opening + "\n".join(lines) + '"""'


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else f'"{_escape(name)}"'


def format_number(x: float) -> str:
    """A float as TOML, exactly (``repr`` is the shortest text that reads back the same)."""
    return repr(float(x))


def _judgement_text(j: Judgement) -> str:
    if j.fixed:
        return format_number(j.median)
    assert j.low is not None and j.high is not None
    return f"[{format_number(j.low)}, {format_number(j.median)}, {format_number(j.high)}]"


def _string_list(items: Sequence[str]) -> str:
    one_line = "[" + ", ".join(toml_string(s, width=10**9) for s in items) + "]"
    if len(one_line) <= WRAP:
        return one_line
    return "[\n" + "".join(f"    {toml_string(s, width=10**9)},\n" for s in items) + "]"


def dumps_prior_set(priors: PriorSet, comments: FileComments | None = None) -> str:
    """A prior set as TOML text, in the documented file format.

    Parameters
    ----------
    priors : PriorSet
        What to write. Events are written in the order of ``priors.nodes``,
        causes in the order of each event's ``given``.
    comments : FileComments, optional
        Comment blocks to keep (see :func:`read_comments`).

    Returns
    -------
    str
        Text that ``parse_prior_set`` reads back equal to ``priors`` (apart
        from ``path``, which records where a set was read from).
    """
    comments = comments or FileComments()
    out: list[str] = []
    if comments.header:
        out += [comments.header.rstrip("\n"), ""]
    out += [
        f"id = {toml_string(priors.id)}",
        f"name = {toml_string(priors.name)}",
        f"scenario = {toml_string(priors.scenario)}",
        f"summary = {toml_string(priors.summary)}",
    ]
    if priors.based_on:
        out.append(f"based_on = {_string_list(priors.based_on)}")
    out.append(f"interval = {format_number(priors.interval)}")
    if priors.default_base is not None or priors.default_given is not None:
        out += ["", "[default]"]
        if priors.default_base is not None:
            out.append(f"base = {_judgement_text(priors.default_base)}")
        if priors.default_given is not None:
            out.append(f"given = {_judgement_text(priors.default_given)}")
    for node, nj in priors.nodes.items():
        out.append("")
        if comments.before.get(node):
            out.append(comments.before[node].rstrip("\n"))
        out.append(f"[nodes.{_key(node)}]")
        if nj.base is not None:
            out.append(f"base = {_judgement_text(nj.base)}")
        for cause, j in nj.given.items():
            out.append(f"given.{_key(cause)} = {_judgement_text(j)}")
        out.append(f"why = {toml_string(nj.why)}")
    return "\n".join(out) + "\n"


def save_prior_set(path: Path, priors: PriorSet, comments: FileComments | None = None) -> None:
    """Write ``priors`` to ``path`` atomically (a reader never sees half a file)."""
    write_atomic(path, dumps_prior_set(priors, comments).encode("utf-8"))


# ---------------------------------------------------------------------------- comments

_NODE_HEADER = re.compile(r"^\s*\[\s*nodes\s*\.\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")


def _scan_comments(text: str) -> tuple[dict[int, bool], set[int]]:
    """Find the comments of a valid TOML text.

    Returns ``{line: whether the comment fills the line}`` and the lines that
    start inside a multi-line string (whose ``#`` are text, not comments).
    """
    comments: dict[int, bool] = {}
    inside: set[int] = set()
    state = ""  # "", '"', "'", '"""' or "'''": the string being read, if any
    i, line, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            if state:
                inside.add(line)
            i += 1
        elif not state:
            if text.startswith('"""', i) or text.startswith("'''", i):
                state, i = text[i:i + 3], i + 3
            elif ch in "\"'":
                state, i = ch, i + 1
            elif ch == "#":
                comments[line] = not text[text.rfind("\n", 0, i) + 1:i].strip()
                end = text.find("\n", i)
                i = n if end < 0 else end
            else:
                i += 1
        elif ch == "\\" and state in ('"', '"""'):
            i += 1 if text.startswith("\n", i + 1) else 2
        elif len(state) == 3 and text.startswith(state, i):
            run = 3  # a closing delimiter may follow one or two quotes of the text
            while run < 5 and text.startswith(state[0], i + run):
                run += 1
            state, i = "", i + run
        else:
            if ch == state:
                state = ""
            i += 1
    return comments, inside


def read_comments(text: str) -> FileComments:
    """The comments of a prior-set file that a rewrite can keep.

    Kept: the opening block of comment lines, and each block of comment lines
    just above a ``[nodes.X]`` table. Every other comment is counted in
    ``dropped``.
    """
    comments, inside = _scan_comments(text)
    lines = text.split("\n")
    k = 0
    while k < len(lines) and (not lines[k].strip() or comments.get(k, False)):
        k += 1
    header = "\n".join(x.rstrip() for x in lines[:k]).strip("\n")
    before: dict[str, str] = {}
    dropped = 0
    pending: list[str] = []
    for i in range(k, len(lines)):
        if i in inside:
            continue
        if comments.get(i, False):
            pending.append(lines[i].rstrip())
            continue
        if not lines[i].strip():
            if pending:
                pending.append("")
            continue
        match = _NODE_HEADER.match(lines[i])
        block = "\n".join(pending).strip("\n")
        if match and block:
            before[match.group(1)] = block
        else:
            dropped += sum(1 for p in pending if p)
        pending = []
        if i in comments:  # a comment after a key or a table header
            dropped += 1
    dropped += sum(1 for p in pending if p)
    return FileComments(header, MappingProxyType(before), dropped)
