"""Saving prior sets as TOML, keeping a file's comments and layout (with tomlkit).

:func:`dumps_prior_set` writes a :class:`PriorSet` as TOML text that
:func:`~plausibly.priors.elicitation.parse_prior_set` reads back equal.

* Given the text of an existing prior-set file, it loads it as a tomlkit
  document and changes only the values that differ. Every comment, the order
  of the keys and the layout of everything else are kept byte for byte, so an
  unchanged set is written back exactly as it was read.
* Otherwise it builds a new document in the documented layout: an optional
  header comment, the top-level keys, ``[default]``, then one ``[nodes.X]``
  table per event with ``base``, ``given.C`` and ``why``.

Numbers are written with ``repr`` (the shortest text that reads back the
same); long strings are wrapped with TOML line-ending backslashes, which lose
nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Comment, InlineTable, Item, String, StringType, Table, Trivia, Whitespace
from tomlkit.toml_document import TOMLDocument

from plausibly.models.errors import ElicitationError, Problem
from plausibly.models.outputs import write_atomic
from plausibly.priors.elicitation import Judgement, NodeJudgement, PriorSet

__all__ = ["dumps_prior_set", "format_number", "save_prior_set", "toml_string"]

#: Physical lines of long strings are wrapped at about this width.
WRAP = 88
#: What a reader assumes when a file leaves ``interval`` out.
DEFAULT_INTERVAL = 0.9

#: A key of a node table: ``("base",)``, ``("given", cause)`` or ``("why",)``.
KeyPath = tuple[str, ...]
#: A comment or a blank line of a table.
Extra = Comment | Whitespace

# ============================================================================ values


def format_number(x: float) -> str:
    """A float as TOML, exactly (``repr`` is the shortest text that reads back the same)."""
    return repr(float(x))


def _chunks(line: str, width: int) -> list[str]:
    """Split one line into pieces of about ``width`` characters.

    Every piece but the last ends in spaces and the next one starts with
    none, so a line-ending backslash after each piece (which drops the newline
    and the whitespace that follows it) gives back ``line`` exactly.
    """
    tokens = [t for t in re.findall(r"[^ ]*[ ]*", line) if t]
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


def toml_string(text: str, width: int = WRAP) -> String:
    """A TOML string for ``text``: one line when short, else a wrapped ``\"\"\"`` block.

    tomlkit escapes the text; a long one is then cut at spaces into physical
    lines of about ``width`` characters, each ended by a backslash. ``tomllib``
    reads the result back as ``text`` exactly.
    """
    if "\n" not in text and len(text) <= width:
        return tomlkit.string(text)
    raw = tomlkit.string(text, multiline=True).as_string()[3:-3]
    # tomlkit leaves a CRLF in a multi-line string as it is, which readers take
    # for a newline: escape every CR. (Tabs are escaped already, so a space is
    # the only whitespace within a line.)
    raw = raw.replace("\r", "\\r")
    wrapped = "\n".join("\\\n".join(_chunks(line, width)) for line in raw.split("\n"))
    return String(StringType.MLB, text, wrapped, Trivia())


def _item(value: str | float | list[Any]) -> Item:
    """How a value is written: a string by :func:`toml_string`, a number exactly, or a list."""
    if isinstance(value, str):
        return toml_string(value)
    if not isinstance(value, list):
        return tomlkit.float_(format_number(value))
    array = tomlkit.array()
    array.extend(tomlkit.string(x) if isinstance(x, str) else _item(x) for x in value)
    if len(array.as_string()) > WRAP:
        array.multiline(True)
    return array


def _plain(j: Judgement) -> float | list[float]:
    """A judgement as ``tomllib`` reads it."""
    return j.median if j.fixed else [j.low or 0.0, j.median, j.high or 0.0]


def _node_values(nj: NodeJudgement) -> dict[KeyPath, Any]:
    """What a node table holds, by key path, in the order of a new file."""
    values: dict[KeyPath, Any] = {} if nj.base is None else {("base",): _plain(nj.base)}
    values.update({("given", cause): _plain(j) for cause, j in nj.given.items()})
    values[("why",)] = nj.why
    return values


def _values(priors: PriorSet) -> dict[str, Any]:
    """The prior set as ``tomllib`` reads it, in the file's order; nodes as :func:`_node_values`."""
    default = {key: _plain(j) for key, j in (("base", priors.default_base),
                                              ("given", priors.default_given)) if j is not None}
    return {"id": priors.id, "name": priors.name, "scenario": priors.scenario,
            "summary": priors.summary, "based_on": list(priors.based_on),
            "interval": priors.interval, "default": default,
            "nodes": {node: _node_values(nj) for node, nj in priors.nodes.items()}}


def _key(path: KeyPath) -> Any:
    return tomlkit.key(list(path)) if len(path) > 1 else path[0]


# ============================================================================ editing


def _unwrap(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _set(table: Any, key: str, value: Any, absent_means: Any = None) -> None:
    """Make ``table[key]`` read as ``value``, leaving it alone if it does already.

    ``value`` None removes the key; a missing key that means ``absent_means``
    (what a reader assumes) is not added. tomlkit keeps a replaced value's
    comment and spacing.
    """
    if key not in table:
        if value is not None and value != absent_means:
            table[key] = _item(value)
    elif value is None:
        del table[key]
    elif _unwrap(table[key]) != value:
        table[key] = _item(value)


def _add_in_order(table: Table | TOMLDocument, key: str, item: Item,
                  later: Iterable[str]) -> None:
    """Add ``key`` to ``table`` ahead of the keys in ``later`` that it has.

    tomlkit only appends: those later keys are taken out and put back after
    the new one, which takes the blank lines before the first of them. (A
    comment above a table's header belongs to the table before it, so it
    stays where it is.)
    """
    after = set(later)
    moved = [(k, table[k]) for k in list(table) if k in after]
    if not all(isinstance(v, Item) for _, v in moved):  # a table split over the file
        moved = []
    indent = moved[0][1].trivia.indent if moved else None
    for k, _ in moved:
        table.remove(k)
    table.append(key, item)
    if indent is not None:
        item.trivia.indent = indent
    for k, v in moved:
        table.append(k, v)


def _body(table: Table) -> list[tuple[KeyPath | None, Item]] | None:
    """A node table's lines as ``(path, item)``; path None for a comment or blank line.

    None when the table has another shape than ``base``, ``given.C = ...``
    and ``why`` lines (a ``[nodes.X.given]`` table, for example).
    """
    out: list[tuple[KeyPath | None, Item]] = []
    for key, item in table.value.body:
        if key is None:
            if isinstance(item, Extra):
                out.append((None, item))
        elif key.is_dotted() and key.key == "given" and isinstance(item, Table):
            for cause, value in item.value.body:
                if cause is None or cause.is_dotted() or isinstance(value, Table):
                    return None
                out.append((("given", cause.key), value))
        elif not key.is_dotted() and not isinstance(item, Table):
            out.append(((key.key,), item))
        else:
            return None
    return out


def _rebuilt(body: list[tuple[KeyPath | None, Item]], values: dict[KeyPath, Any]) -> Table:
    """A node table holding ``values``, keeping what ``body`` has of them.

    Kept lines stay in their order, with the comments above them and their
    own; a new key goes just before the first kept key that follows it in
    ``values`` (``base``, ``given.C`` in order, ``why``).
    """
    lines: list[tuple[KeyPath, Item, list[Extra]]] = []
    pending: list[Extra] = []
    for path, item in body:
        if path is None:
            assert isinstance(item, Extra)
            pending.append(item)
        elif path in values:
            if _unwrap(item) != values[path]:
                new = _item(values[path])
                for name in ("indent", "comment_ws", "comment", "trail"):
                    setattr(new.trivia, name, getattr(item.trivia, name))
                item = new
            lines.append((path, item, pending))
            pending = []
    order = list(values)
    for k, path in enumerate(order):
        if all(line[0] != path for line in lines):
            at = next((i for i, line in enumerate(lines) if line[0] in order[k + 1:]),
                      len(lines))
            lines.insert(at, (path, _item(values[path]), []))
    table = tomlkit.table()
    for path, item, above in lines:
        for extra in above:
            table.add(extra)
        table.append(_key(path), item)
    for extra in pending:
        table.add(extra)
    return table


def _update_node(nodes: Any, node: str, values: dict[KeyPath, Any], later: list[str]) -> None:
    if node not in nodes:
        new = _rebuilt([], values)
        if isinstance(nodes, Table):
            _add_in_order(nodes, node, new, later)
        else:
            nodes[node] = new
        return
    table = nodes[node]
    body = _body(table) if isinstance(table, Table) else None
    if body is not None and {path for path, _ in body if path is not None} != set(values):
        nodes[node] = _rebuilt(body, values)  # a key comes or goes: put it in its place
        return
    # the same keys (or another shape of table): set each value where it is
    _set(table, "base", values.get(("base",)))
    given = {path[1]: value for path, value in values.items() if path[0] == "given"}
    if given and "given" not in table:
        table["given"] = tomlkit.inline_table() if isinstance(table, InlineTable) else {}
    if "given" in table:
        causes = table["given"]
        for cause in [*given, *(c for c in list(causes) if c not in given)]:
            _set(causes, cause, given.get(cause))
    _set(table, "why", values[("why",)])


def _update(doc: TOMLDocument, priors: PriorSet, *, new: bool) -> None:
    """Make ``doc`` hold ``priors``, changing only what differs."""
    values = _values(priors)
    absent_means: dict[str, Any] = {"based_on": [],
                                    "interval": None if new else DEFAULT_INTERVAL}
    for key in ("id", "name", "scenario", "summary", "based_on", "interval"):
        _set(doc, key, values[key], absent_means.get(key))
    if values["default"] or "default" in doc:
        if "default" not in doc:
            _add_in_order(doc, "default", tomlkit.table(), ["nodes"])
        for key in ("base", "given"):
            _set(doc["default"], key, values["default"].get(key))
    if "nodes" not in doc:
        if not priors.nodes:
            return
        doc.append("nodes", tomlkit.table(is_super_table=True))
    nodes = doc["nodes"]
    for node in [n for n in nodes if n not in priors.nodes]:
        del nodes[node]
    order = list(priors.nodes)
    for k, node in enumerate(order):
        _update_node(nodes, node, values["nodes"][node], order[k + 1:])


def _read_back(text: str) -> dict[str, Any]:
    """What ``text`` says, as :func:`_values` puts it (filling in what a reader assumes)."""
    data = tomllib.loads(text)
    nodes = {node: {**{(k,): v for k, v in t.items() if k != "given"},
                    **{("given", c): v for c, v in t.get("given", {}).items()}}
             for node, t in data.get("nodes", {}).items()}
    return {"based_on": [], "interval": DEFAULT_INTERVAL, "default": {}, **data,
            "nodes": nodes}


# ============================================================================ files


def dumps_prior_set(priors: PriorSet, text: str | None = None, *, header: str = "") -> str:
    """A prior set as TOML text, in the documented file format.

    Parameters
    ----------
    priors : PriorSet
        What to write. A new file has the events in the order of
        ``priors.nodes``, causes in the order of each event's ``given``.
    text : str, optional
        The text of the file being rewritten: only the values that differ from
        ``priors`` change (a new event or cause goes in its place in that
        order), and everything else, comments included, is kept.
    header : str, optional
        Comment lines (each starting with ``#``) to open a new file with.

    Returns
    -------
    str
        Text that ``parse_prior_set`` reads back equal to ``priors`` (apart
        from ``path``, which records where a set was read from).

    Raises
    ------
    ElicitationError
        If tomlkit cannot edit ``text`` into a file that reads back as
        ``priors`` (a safeguard: the edited text is read back and checked).
    """
    if text is None:
        doc = tomlkit.parse(header.strip("\n") + "\n") if header.strip() else tomlkit.document()
        if header.strip():
            doc.add(tomlkit.nl())
        _update(doc, priors, new=True)
        return doc.as_string()
    try:
        doc = tomlkit.parse(text)
        _update(doc, priors, new=False)
        out = doc.as_string()
        same = _read_back(out) == _values(priors)
    except (TOMLKitError, ValueError):  # ValueError: tomlkit's, or tomllib's on reading back
        same = False
    if not same:
        raise ElicitationError(problems=[Problem(
            priors.path or priors.id, "", "cannot be rewritten keeping its comments and "
            "layout (tomlkit cannot edit it as needed)", "save to a new file with -o")])
    return out


def save_prior_set(path: Path, priors: PriorSet, text: str | None = None, *,
                   header: str = "") -> str:
    """Write ``priors`` to ``path`` atomically (a reader never sees half a file).

    ``text`` and ``header`` are as for :func:`dumps_prior_set`. Returns the text
    written: pass it as ``text`` to the next save of the same file.
    """
    out = dumps_prior_set(priors, text, header=header)
    # elicit's deliberate exception to "never replace without --force": the session
    # checked that the file it rewrites is its own prior set
    write_atomic(path, out.encode("utf-8"), force=True)
    return out
