"""Small named validators shared by the scenario and prior-set readers.

Each validator normalises one value, or records a :class:`Problem` that
quotes what it got and returns ``None``; a reader collects every problem of a
file before raising, so the user sees all of them at once.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from plausibly.models.errors import Problem

__all__ = ["CITATION", "SNAKE", "Checker", "show", "suggest", "type_name"]


#: \A and \Z, not ^ and $: "$" also matches before a final newline, and an id
#: ending in one passed (#11 item 9)
SNAKE = re.compile(r"\A[a-z][a-z0-9_]*\Z")


CITATION = re.compile(r"\A#(\d{1,9})(?: (\S.*))?\Z")  # int() refuses 4,301 digits


_TYPE_NAMES = {
    datetime.date: "a date",
    datetime.datetime: "a date and time",
    datetime.time: "a time",
    bool: "true/false",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def type_name(value: object) -> str:
    """Name a TOML value's type the way a TOML user would."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def show(value: object, limit: int = 60) -> str:
    """Quote a value for a message, shortened when long."""
    try:
        text = (f'"{value.isoformat()}"' if isinstance(value, datetime.date | datetime.time)
                else repr(value))
    except RecursionError:  # a table or array nested thousands of levels deep
        text = "{...}" if isinstance(value, dict) else "[...]"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suggest(name: str, options: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Checker:
    """Collect problems for one file while validating its fields."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, key: str, message: str, fix: str) -> None:
        """Record one problem at ``key``."""
        self.problems.append(Problem(self.file, key, message, fix))

    def table(self, data: object, key: str, required: Iterable[str],
              optional: Iterable[str] = ()) -> dict[str, Any]:
        """Check that ``data`` is a table with exactly the allowed keys.

        Returns the table (empty when it is not one) so callers can go on.
        """
        required, optional = list(required), list(optional)
        if not isinstance(data, dict):
            self.add(key, f"must be a table, got {show(data)} ({type_name(data)})",
                     "write it as a TOML table")
            return {}
        allowed = required + optional
        for name in data:
            if name not in allowed:
                self.add(_join(key, name), f"unknown key '{name}'{suggest(name, allowed)}",
                         f"remove it; allowed keys here: {', '.join(allowed)}")
        for name in required:
            if name not in data:
                self.add(_join(key, name), "is missing", f"add '{name} = ...'")
        return data

    def string(self, data: Mapping[str, Any], key: str, name: str, *,
               required: bool = True, snake: bool = False) -> str | None:
        """A non-empty string (optionally a snake_case id)."""
        if name not in data:
            return None  # a missing required key is reported by table()
        value = data[name]
        where = _join(key, name)
        if not isinstance(value, str):
            self.add(where, f"must be a string, got {show(value)} ({type_name(value)})",
                     'write it in double quotes')
            return None
        if not value.strip():
            self.add(where, "is empty", "write some text" if not snake else "give an id")
            return None
        if snake and not SNAKE.match(value):
            self.add(where, f"{show(value)} is not a snake_case id",
                     "use lower-case letters, digits and _, starting with a letter")
            return None
        return value

    def snake_id(self, value: str, where: str) -> bool:
        """Check that a table key is a snake_case id."""
        if SNAKE.match(value):
            return True
        self.add(where, f"{show(value)} is not a snake_case id",
                 "use lower-case letters, digits and _, starting with a letter")
        return False

    def integer(self, data: Mapping[str, Any], key: str, name: str, *,
                low: int | None = None, high: int | None = None) -> int | None:
        """An integer, optionally within [low, high]."""
        if name not in data:
            return None
        value = data[name]
        where = _join(key, name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"must be an integer, got {show(value)} ({type_name(value)})",
                     "write a whole number without quotes")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            self.add(where, f"must be {span}, got {show(value)}", "correct the number")
            return None
        return value

    def probability(self, value: object, where: str, *, open_interval: bool = False,
                    allow_bool: bool = True) -> float | None:
        """A probability: true/false (1/0) or a number in [0, 1] (or (0, 1))."""
        if isinstance(value, bool):
            if allow_bool:
                return 1.0 if value else 0.0
            self.add(where, f"must be a number in (0, 1), got {show(value)}",
                     "write a probability such as 0.3")
            return None
        if not isinstance(value, int | float):
            what = "true, false or a number in [0, 1]" if allow_bool else "a number in (0, 1)"
            self.add(where, f"must be {what}, got {show(value)} ({type_name(value)})",
                     "write a probability such as 0.3")
            return None
        # compare before converting: float() overflows on a huge TOML integer
        inside = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
        if not inside:
            span = "(0, 1)" if open_interval else "[0, 1]"
            self.add(where, f"must be in {span}, got {show(value)}",
                     "write a probability between 0 and 1" + (" (exclusive)" if open_interval
                                                              else ""))
            return None
        return float(value)

    def citations(self, data: Mapping[str, Any], key: str, name: str, posts: int | None, *,
                  nonempty: bool) -> tuple[str, ...]:
        """An array of post citations like ``"#7 Garetor"``."""
        where = _join(key, name)
        value = data.get(name, [])
        if not isinstance(value, list):
            self.add(where, f"must be an array of posts, got {show(value)} ({type_name(value)})",
                     'write e.g. ["#7 Garetor"]')
            return ()
        if nonempty and not value and name in data:
            self.add(where, "cites no post", 'cite the post(s) that make the claim, e.g. '
                     '["#7 Garetor"]')
        out = []
        for i, cite in enumerate(value):
            at = f"{where}[{i}]"
            match = CITATION.match(cite) if isinstance(cite, str) else None
            if match is None or match.group(2) is None:
                what = "names no author" if match is not None else "is not a post citation"
                self.add(at, f"{show(cite)} {what}",
                         'write "#N Author", e.g. "#7 Garetor"')
                continue
            number = int(match.group(1))
            if posts is not None and not 1 <= number <= posts:
                self.add(at, f"post #{number} does not exist: the thread has posts #1..#{posts}",
                         "check the post number")
                continue
            out.append(cite)
        return tuple(out)


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
