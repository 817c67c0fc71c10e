"""Writing output files: atomically, and never over a user's file without --force."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from plausibly.models.errors import PlausiblyError, Problem

__all__ = ["check_writable", "write_atomic"]


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
        raise PlausiblyError(problems=problems)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename.

    A reader (or a crash) sees the old file or the new one, never a part.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
