"""Saving prior sets as TOML, keeping a file's comments and layout (with tomlkit).

:func:`dumps_prior_set` writes a :class:`PriorSet` as TOML text that
:func:`~plausibly.priors.elicitation.parse_prior_set` reads back equal.

* Given the text of an existing prior-set file, it loads it as a tomlkit
  document and changes only the values that differ. Every comment, the order
  of the keys and the layout of everything else are kept byte for byte, so an
  unchanged set is written back exactly as it was read.
* Otherwise it builds a new document in the documented layout: an optional
  header comment, the top-level keys, ``[default]``, one ``[nodes.X]`` table
  per event with ``anchor``, ``base``, ``given.KEY`` and ``why``, then one
  ``[pods.ID]`` table per judged POD with ``do.EVENT`` and ``why``.

Version 2 values are written as the reader takes them: the ``base`` of an
event with states and each of its ``given`` as inline tables of state =
judgement, keys such as ``given."C=state"`` and ``given."A & B"`` quoted. A
file's own spelling of a key (``"B & A"``, ``"C = state"``) is kept.

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
from plausibly.priors.elicitation import Judgement, NodeJudgement, PodJudgement, PriorSet

__all__ = ["dumps_prior_set", "format_number", "save_prior_set", "toml_string"]

#: Physical lines of long strings are wrapped at about this width.
WRAP = 88
#: What a reader assumes when a file leaves ``interval`` out.
DEFAULT_INTERVAL = 0.9

#: A key of a node or POD table: ``("base",)``, ``("given", key)``, ``("do", event)``, ``("why",)``.
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


#: The tables within a node or POD table (written as dotted keys: ``given.C = ...``).
SUBTABLES = ("given", "do")


def _item(value: str | float | list[Any] | dict[str, Any]) -> Item:
    """How a value is written: a string by :func:`toml_string`, a number exactly, or a list.

    A table (state = judgement) is written inline: ``{ long = [0.1, 0.2, 0.3] }``.
    """
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{tomlkit.key(k).as_string()} = {_item(v).as_string()}"
                          for k, v in value.items())
        table = tomlkit.parse(f"x = {{ {inner} }}\n" if inner else "x = {}\n")["x"]
        assert isinstance(table, InlineTable)
        return table
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
    values: dict[KeyPath, Any] = {} if nj.anchor is None else {("anchor",): nj.anchor}
    if nj.base_states:
        values[("base",)] = {state: _plain(j) for state, j in nj.base_states.items()}
    elif nj.base is not None:
        values[("base",)] = _plain(nj.base)
    for key, j in nj.given.items():
        state = nj.given_states.get(key)
        values[("given", key)] = _plain(j) if state is None else {state: _plain(j)}
    values[("why",)] = nj.why
    return values


def _pod_values(pj: PodJudgement) -> dict[KeyPath, Any]:
    """What a ``[pods.ID]`` table holds, by key path, in the order of a new file."""
    values: dict[KeyPath, Any] = {("do", event): _plain(j) for event, j in pj.do.items()}
    values[("why",)] = pj.why
    return values


def _values(priors: PriorSet) -> dict[str, Any]:
    """The prior set as ``tomllib`` reads it, in the file's order; nodes as :func:`_node_values`."""
    default = {key: _plain(j) for key, j in (("base", priors.default_base),
                                              ("given", priors.default_given)) if j is not None}
    return {"id": priors.id, "name": priors.name, "scenario": priors.scenario,
            "summary": priors.summary, "based_on": list(priors.based_on),
            "interval": priors.interval, "anchor": priors.anchor, "default": default,
            "nodes": {node: _node_values(nj) for node, nj in priors.nodes.items()},
            "pods": {pod: _pod_values(pj) for pod, pj in priors.pods.items()}}


def _same_key(name: str) -> str:
    """A ``given`` key as the reader compares it.

    ``"B & A"`` and ``"A & B"`` alike, ``"C = s"`` as ``"C=s"``.
    """
    if "&" in name:
        return " & ".join(sorted(p.strip() for p in name.split("&")))
    if "=" in name:
        cause, _, state = name.partition("=")
        return f"{cause.strip()}={state.strip()}"
    return name


def _meant(path: KeyPath, values: dict[KeyPath, Any]) -> KeyPath:
    """The key path of ``values`` that a file's ``path`` means (itself if none)."""
    if len(path) == 2 and path not in values:
        same = _same_key(path[1])
        for other in values:
            if len(other) == 2 and other[0] == path[0] and _same_key(other[1]) == same:
                return other
    return path


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
    """A node or POD table's lines as ``(path, item)``; path None for a comment or blank line.

    The path is spelled as in the file. None when the table has another shape
    than single keys and ``given.KEY = ...`` (``do.EVENT = ...``) lines (a
    ``[nodes.X.given]`` table, for example).
    """
    out: list[tuple[KeyPath | None, Item]] = []
    for key, item in table.value.body:
        if key is None:
            if isinstance(item, Extra):
                out.append((None, item))
        elif key.is_dotted() and key.key in SUBTABLES and isinstance(item, Table):
            for sub, value in item.value.body:
                if sub is None or sub.is_dotted() or isinstance(value, Table):
                    return None
                out.append(((key.key, sub.key), value))
        elif not key.is_dotted() and not isinstance(item, Table):
            out.append(((key.key,), item))
        else:
            return None
    return out


def _rebuilt(body: list[tuple[KeyPath | None, Item]], values: dict[KeyPath, Any]) -> Table:
    """A node or POD table holding ``values``, keeping what ``body`` has of them.

    Kept lines stay in their order and spelling, with the comments above them
    and their own; a new key goes just before the first kept key that follows
    it in ``values`` (``anchor``, ``base``, ``given.KEY`` in order, ``why``).
    """
    lines: list[tuple[KeyPath, KeyPath, Item, list[Extra]]] = []  # meant, spelled, ...
    pending: list[Extra] = []
    for path, item in body:
        if path is None:
            assert isinstance(item, Extra)
            pending.append(item)
            continue
        meant = _meant(path, values)
        if meant in values:
            if _unwrap(item) != values[meant]:
                new = _item(values[meant])
                for name in ("indent", "comment_ws", "comment", "trail"):
                    setattr(new.trivia, name, getattr(item.trivia, name))
                item = new
            lines.append((meant, path, item, pending))
            pending = []
    order = list(values)
    for k, path in enumerate(order):
        if all(line[0] != path for line in lines):
            at = next((i for i, line in enumerate(lines) if line[0] in order[k + 1:]),
                      len(lines))
            lines.insert(at, (path, path, _item(values[path]), []))
    table = tomlkit.table()
    for _, spelled, item, above in lines:
        for extra in above:
            table.add(extra)
        table.append(_key(spelled), item)
    for extra in pending:
        table.add(extra)
    return table


def _update_table(parent: Any, name: str, values: dict[KeyPath, Any], later: list[str]) -> None:
    """Make ``parent[name]`` (a node's or a POD's table) hold ``values``."""
    if name not in parent:
        new = _rebuilt([], values)
        if isinstance(parent, Table):
            _add_in_order(parent, name, new, later)
        else:
            parent[name] = new
        return
    table = parent[name]
    body = _body(table) if isinstance(table, Table) else None
    if body is not None and {_meant(path, values) for path, _ in body
                             if path is not None} != set(values):
        parent[name] = _rebuilt(body, values)  # a key comes or goes: put it in its place
        return
    # the same keys (or another shape of table): set each value where it is
    singles = [path[0] for path in values if len(path) == 1]
    for key in [*singles, *(k for k in list(table) if k not in singles + list(SUBTABLES))]:
        _set(table, key, values.get((key,)))
    for sub in SUBTABLES:
        inner = {path: value for path, value in values.items() if path[0] == sub}
        if inner and sub not in table:
            table[sub] = tomlkit.inline_table() if isinstance(table, InlineTable) else {}
        if sub not in table:
            continue
        keys = table[sub]
        spelled = {_meant((sub, k), inner)[1]: k for k in list(keys)}
        for key in [*(path[1] for path in inner), *(m for m in spelled if (sub, m) not in inner)]:
            _set(keys, spelled.get(key, key), inner.get((sub, key)))


def _update_tables(doc: TOMLDocument, top: str, values: dict[str, dict[KeyPath, Any]]) -> None:
    """Make ``doc[top]`` (``nodes`` or ``pods``) hold one table per entry of ``values``."""
    if top not in doc:
        if not values:
            return
        doc.append(top, tomlkit.table(is_super_table=True))
    tables = doc[top]
    for name in [n for n in tables if n not in values]:
        del tables[name]
    order = list(values)
    for k, name in enumerate(order):
        _update_table(tables, name, values[name], order[k + 1:])


def _update(doc: TOMLDocument, priors: PriorSet, *, new: bool) -> None:
    """Make ``doc`` hold ``priors``, changing only what differs."""
    values = _values(priors)
    absent_means: dict[str, Any] = {"based_on": [], "anchor": "absent",
                                    "interval": None if new else DEFAULT_INTERVAL}
    for key in ("id", "name", "scenario", "summary", "based_on", "interval", "anchor"):
        _set(doc, key, values[key], absent_means.get(key))
    if values["default"] or "default" in doc:
        if "default" not in doc:
            _add_in_order(doc, "default", tomlkit.table(), ["nodes", "pods"])
        for key in ("base", "given"):
            _set(doc["default"], key, values["default"].get(key))
    _update_tables(doc, "nodes", values["nodes"])
    _update_tables(doc, "pods", values["pods"])


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every ``given`` key spelled one way (see :func:`_same_key`)."""
    nodes = {node: {(path if len(path) == 1 else (path[0], _same_key(path[1]))): value
                    for path, value in t.items()} for node, t in values["nodes"].items()}
    return {**values, "nodes": nodes}


def _read_back(text: str) -> dict[str, Any]:
    """What ``text`` says, as :func:`_values` puts it (filling in what a reader assumes)."""
    data = tomllib.loads(text)

    def paths(t: dict[str, Any]) -> dict[KeyPath, Any]:
        return {**{(k,): v for k, v in t.items() if k not in SUBTABLES},
                **{(sub, k): v for sub in SUBTABLES for k, v in t.get(sub, {}).items()}}

    return {"based_on": [], "interval": DEFAULT_INTERVAL, "anchor": "absent", "default": {},
            **data, "nodes": {node: paths(t) for node, t in data.get("nodes", {}).items()},
            "pods": {pod: paths(t) for pod, t in data.get("pods", {}).items()}}


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
        same = _comparable(_read_back(out)) == _comparable(_values(priors))
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
