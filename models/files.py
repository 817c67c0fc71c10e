"""Every file plausibly reads passes through here.

Bundled files by id, regular files only, TOML with a size limit, and every
failure as a problem. Writing is :mod:`plausibly.models.outputs`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from plausibly.models.errors import InputError, Problem
from plausibly.models.validate import suggest

__all__ = ["MAX_FILE_BYTES", "bundled_files", "bundled_path", "file_sha256", "open_regular",
           "parse_toml", "read_regular", "read_toml"]


MAX_FILE_BYTES = 5_000_000


def bundled_files(package: str) -> dict[str, Path]:
    """The ``*.toml`` files shipped in a package, by id (file name without suffix)."""
    from importlib import resources

    return {p.name[:-5]: Path(str(p)) for p in resources.files(package).iterdir()
            if p.name.endswith(".toml")}


def bundled_path(name: str | Path, bundled: Mapping[str, Path], label: str) -> Path:
    """The file ``name`` names: a bundled one for a bare id, else the path as given.

    A bare id wins over a same-named file in the current folder.

    Raises
    ------
    InputError
        When ``name`` is neither an existing path, a ``.toml`` path nor a
        bundled id. Callers re-raise it as their own error class.
    """
    if str(name) in bundled:
        return bundled[str(name)]
    path = Path(name)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    raise InputError(problems=[Problem(
        str(name), "", f"is neither a file nor a bundled {label}{suggest(str(name), bundled)}",
        f"give a path to a .toml file or one of: {', '.join(sorted(bundled))}")])


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: Path, label: str, limit: int) -> tuple[BinaryIO | None, list[Problem]]:
    """Open a regular file of at most ``limit`` bytes for reading, or say why not.

    The file is opened first (without blocking: a FIFO opens at once and is
    then refused) and its kind and size are read from the open descriptor, so
    what is checked is what is read: a symbolic link to ``/dev/zero``, a FIFO,
    a device or a folder is refused before a byte is read. The caller closes
    the file; reading it must still stop at ``limit`` (see :func:`read_regular`),
    since a file may grow, and some (under ``/proc``) report a size of 0.
    """
    name = str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        return None, [Problem(name, "", f"cannot read the file ({err.strerror})",
                              f"check that the path names an existing {label} file")]
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            problem = Problem(name, "", "is a folder, not a file", f"name a {label} file")
        elif not stat.S_ISREG(mode):
            kind = next((what for test, what in _KINDS if test(mode)), "not a regular file")
            problem = Problem(name, "", f"is {kind}, not a regular file",
                              f"name a {label} file: plausibly reads only regular files")
        elif info.st_size > limit:
            problem = Problem(name, "", f"is {info.st_size:,} bytes; a {label} file is at most "
                              f"{limit:,} bytes", f"check that this is really a {label} file")
        else:
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb"), []
    except OSError as err:
        problem = Problem(name, "", f"cannot read the file ({err.strerror})",
                          f"check that the path names an existing {label} file")
    os.close(fd)
    return None, [problem]


def read_regular(path: Path, label: str, limit: int) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`).

    At most ``limit + 1`` bytes are read, whatever the file says its size is.
    """
    fh, problems = open_regular(path, label, limit)
    if fh is None:
        return None, problems
    with fh:
        try:
            raw = fh.read(limit + 1)
        except OSError as err:
            return None, [Problem(str(path), "", f"cannot read the file ({err.strerror})",
                                  f"check that the path names an existing {label} file")]
    if len(raw) > limit:
        return None, [Problem(str(path), "", f"is over {limit:,} bytes (it grew while being "
                              f"read, or does not say its size); a {label} file is at most "
                              f"{limit:,} bytes", f"check that this is really a {label} file")]
    return raw, []


def read_toml(path: Path, label: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read a TOML file, turning every way it can fail into one problem.

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read (see
    :func:`read_regular`).

    Parameters
    ----------
    path : Path
        The file to read.
    label : str
        What the file should be ("scenario", "prior set"), for messages.
    """
    name = str(path)
    raw, problems = read_regular(path, label, MAX_FILE_BYTES)
    if raw is None:
        return None, [_toml_wording(p, label) for p in problems]
    if not raw.strip():
        return None, [Problem(name, "", "is empty", f"write a {label} in TOML; see the README")]
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, if any, is dropped
    except UnicodeDecodeError as err:
        return None, [Problem(name, "", f"is not UTF-8 text (byte 0x{raw[err.start]:02x} at "
                              f"offset {err.start})", "save the file as UTF-8 TOML")]
    return parse_toml(text, name, label)


def _toml_wording(problem: Problem, label: str) -> Problem:
    """A reading problem in the words the TOML readers have always used."""
    fixes = {f"name a {label} file": f"name a {label} .toml file",
             f"check that this is really a {label} file":
                 f"check that this is really a {label} file (TOML text)"}
    return Problem(problem.file, problem.key, problem.message,
                   fixes.get(problem.fix, problem.fix))


def parse_toml(text: str, name: str, label: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse TOML text, turning every way it can fail into one problem.

    Parameters
    ----------
    text : str
        The TOML text.
    name : str
        Where it comes from (a file, or a file and key), for messages.
    label : str
        What it should be ("scenario", "prior set"), for messages.
    """
    deep = [Problem(name, "", "is nested too deeply to be read",
                    f"flatten it: a {label} file needs no more than four levels of tables")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return None, [Problem(name, "", f"is not valid TOML: {err}",
                              "fix the syntax at that line and column")]
    except ValueError:  # tomllib lets int()'s limit on the digits of a number through
        return None, [Problem(name, "", "has a number too long to read (over 4,300 digits)",
                              "shorten the number: years, counts and post numbers are small")]
    except RecursionError:
        return None, deep
    # the parser recurses on arrays only, and how deep it gets depends on the
    # interpreter's recursion limit (PyMC raises it tenfold): decide here instead
    return (None, deep) if _deeper_than(data, MAX_DEPTH) else (data, [])


#: tables and arrays nested deeper than this are refused (a scenario needs four)
MAX_DEPTH = 32


def _deeper_than(value: object, limit: int) -> bool:
    """Whether tables and arrays in ``value`` nest more than ``limit`` levels (no recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            stack.extend((x, depth + 1) for x in (item.values() if isinstance(item, dict)
                                                  else item))
    return False

#: bytes the check writes to its probe file: a full disk fails it (an empty file does not)


def file_sha256(path: str | None) -> str:
    """Hex digest of an input file ('' when there is no file).

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read (see
    :func:`read_regular`): the file was read once already, and may have been
    replaced since.

    Raises
    ------
    InputError
        When the path is no longer such a file.
    """
    if not path:
        return ""
    raw, problems = read_regular(Path(path), "input", MAX_FILE_BYTES)
    if raw is None:
        raise InputError(problems=problems)
    return hashlib.sha256(raw).hexdigest()
