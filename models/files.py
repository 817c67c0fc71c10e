"""Every file plausibly reads or writes passes through here.

Reading: bundled files by id, TOML with a size limit and every failure as a
problem. Writing: refuse to overwrite without ``--force``, and write
atomically (a temporary file beside the target, flushed to disk, renamed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from plausibly.models.errors import InputError, OutputError, Problem
from plausibly.models.validate import suggest

__all__ = ["MAX_FILE_BYTES", "atomic_path", "bundled_files", "bundled_path", "check_writable",
           "file_sha256", "read_toml", "write_atomic"]


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


def read_toml(path: Path, label: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read a TOML file, turning every way it can fail into one problem.

    Parameters
    ----------
    path : Path
        The file to read.
    label : str
        What the file should be ("scenario", "prior set"), for messages.
    """
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        return None, [Problem(name, "", f"cannot read the file ({err.strerror})",
                              f"check that the path names an existing {label} file")]
    if path.is_dir():
        return None, [Problem(name, "", "is a folder, not a file", f"name a {label} .toml file")]
    if size > MAX_FILE_BYTES:
        return None, [Problem(name, "", f"is {size:,} bytes; a {label} file is at most "
                              f"{MAX_FILE_BYTES:,} bytes", f"check that this is really a {label} "
                              "file (TOML text)")]
    raw = path.read_bytes()
    if not raw.strip():
        return None, [Problem(name, "", "is empty", f"write a {label} in TOML; see the README")]
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, if any, is dropped
    except UnicodeDecodeError as err:
        return None, [Problem(name, "", f"is not UTF-8 text (byte 0x{raw[err.start]:02x} at "
                              f"offset {err.start})", "save the file as UTF-8 TOML")]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as err:
        return None, [Problem(name, "", f"is not valid TOML: {err}",
                              "fix the syntax at that line and column")]
    except ValueError:  # tomllib lets int()'s limit on the digits of a number through
        return None, [Problem(name, "", "has a number too long to read (over 4,300 digits)",
                              "shorten the number: years, counts and post numbers are small")]
    except RecursionError:
        return None, [Problem(name, "", "is nested too deeply to be read",
                              f"flatten it: a {label} file needs no more than four levels "
                              "of tables")]


def check_writable(path: Path, force: bool, suffixes: Iterable[str] | None = None) -> None:
    """Refuse an output path that exists (without ``force``), has an unknown suffix or no folder.

    Raises
    ------
    PlausiblyError
        With every problem found.
    """
    problems = []
    allowed = sorted(suffixes) if suffixes is not None else None
    if allowed is not None and path.suffix.lower() not in allowed:
        problems.append(Problem(str(path), "", f"unknown output type '{path.suffix}'",
                                f"use one of: {', '.join(allowed)}"))
    if path.exists() and not force:
        problems.append(Problem(str(path), "", "exists already",
                                "choose another name, or add --force to overwrite it"))
    if path.is_dir():
        problems.append(Problem(str(path), "", "is a folder", "name a file"))
    if not path.parent.exists() and str(path.parent):
        problems.append(Problem(str(path), "", f"its folder {path.parent} does not exist",
                                "create the folder first"))
    if problems:
        raise OutputError(problems=problems)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` on success.

    The temporary file gets the usual mode (0666 less the umask, where
    ``mkstemp`` makes 0600) and is flushed to disk before the rename, so a
    reader or a crash sees the old file or the new one, never a part. On any
    error (Ctrl-C included) the temporary file is removed.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def file_sha256(path: str | None) -> str:
    """Hex digest of a file ('' when there is no file)."""
    if not path:
        return ""
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()
