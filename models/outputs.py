"""Every file plausibly writes passes through here.

Check every output path before any work (:func:`check_outputs`), write
atomically (a temporary file beside the target, flushed to disk) and publish
it without replacing anything that exists at that moment unless ``--force``
(:func:`atomic_path`); every ``OSError`` becomes an :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from plausibly.models.errors import OutputError, Problem

__all__ = ["atomic_path", "check_outputs", "check_writable", "current_umask", "output_problems",
           "write_atomic"]


#: the temporary file of an output is ".NAME.XXXXXXXX.tmp" beside it (8 random characters)
_TMP_PREFIX, _TMP_RANDOM, _TMP_SUFFIX = ".", 8, ".tmp"

_PROBE_BYTES = 4096
#: errors of os.link that mean "this file system has no hard links", not "cannot write"
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _temporary(path: Path) -> tuple[int, str]:
    """Create the temporary file beside ``path`` (mkstemp: a new name, mode 0600)."""
    return tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{path.name}.", suffix=_TMP_SUFFIX,
                            dir=_folder(path))


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def _os_problem(path: Path, err: OSError, what: str) -> Problem:
    """One problem for an ``OSError`` met while checking or writing ``path``."""
    folder = _folder(path)
    reason = err.strerror or str(err)
    code = err.errno
    if code in (errno.EACCES, errno.EPERM):
        return Problem(str(path), "", f"{what}: its folder {folder} is not writable ({reason})",
                       "choose a folder you may write to, or change the folder's permissions")
    if code == errno.EROFS:
        return Problem(str(path), "", f"{what}: its folder {folder} is on a read-only file "
                       f"system ({reason})", "choose a folder on a writable disk")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return Problem(str(path), "", f"{what}: no space left on its disk ({reason})",
                       "free some space on that disk, or choose a folder on another one")
    if code == errno.ENAMETOOLONG:
        return Problem(str(path), "", f"{what}: the path is too long ({reason})",
                       "choose a shorter name or a folder nearer the root")
    if code == errno.ENOTDIR:
        return Problem(str(path), "", f"{what}: a part of its folder {folder} is a file, not a "
                       f"folder ({reason})", "name a file inside an existing folder")
    if code == errno.ENOENT:
        return Problem(str(path), "", f"{what}: its folder {folder} does not exist ({reason})",
                       "create the folder first")
    return Problem(str(path), "", f"{what} ({reason})", "choose another place for the file")


def _folder_problem(path: Path) -> Problem | None:
    """Whether ``path``'s folder is an existing folder (the first part that is not, named)."""
    folder = _folder(path)
    if folder.is_dir():
        return None
    part = folder
    while not os.path.lexists(part) and part != part.parent:
        part = part.parent
    if os.path.lexists(part) and not part.is_dir():
        what = (f"its folder {folder} is a file, not a folder" if part == folder else
                f"its folder {folder} cannot exist: {part} is a file, not a folder")
        return Problem(str(path), "", what, "name a file inside an existing folder")
    return Problem(str(path), "", f"its folder {folder} does not exist", "create the folder first")


def output_problems(path: Path, force: bool, suffixes: Iterable[str] | None = None
                    ) -> list[Problem]:
    """Every reason ``path`` cannot be written as an output, found before any work.

    Refuses an unknown suffix; a folder, or without ``force`` anything at all
    (a dangling symbolic link too), at ``path``; a folder that does not exist
    or is a file; and a name too long once the temporary file's prefix and
    suffix are added. Then it tries what the write will do: it creates a file
    of the temporary file's name beside ``path``, writes a few kilobytes to it
    and removes it, which finds a folder that is not writable, a read-only
    disk or a full one (``os.access`` would not: it says yes to root).
    """
    problems = []
    allowed = sorted(suffixes) if suffixes is not None else None
    if allowed is not None and path.suffix.lower() not in allowed:
        problems.append(Problem(str(path), "", f"unknown output type '{path.suffix}'",
                                f"use one of: {', '.join(allowed)}"))
    folder = _folder_problem(path)
    if folder is not None:
        return [*problems, folder]
    if path.is_dir():
        return [*problems, Problem(str(path), "", "is a folder", "name a file")]
    if os.path.lexists(path) and not force:
        what = "exists already"
        if path.is_symlink() and not path.exists():
            what = f"exists already (a symbolic link to {os.readlink(path)}, which does not exist)"
        problems.append(Problem(str(path), "", what,
                                "choose another name, or add --force to overwrite it"))
    longest = len(os.fsencode(f"{_TMP_PREFIX}{path.name}.")) + _TMP_RANDOM + len(_TMP_SUFFIX)
    limit = _name_max(_folder(path))
    if longest > limit:
        return [*problems, Problem(
            str(path), "", f"its name is too long: the temporary file written beside it first "
            f"({_TMP_PREFIX}{path.name[:12]}....{_TMP_SUFFIX}) would have a name of {longest} "
            f"bytes, over the limit of {limit} here", f"shorten the name by at least "
            f"{longest - limit} bytes (characters, for plain letters)")]
    probe: Path | None = None
    try:
        fd, name = _temporary(path)
        probe = Path(name)
        try:
            os.write(fd, bytes(_PROBE_BYTES))
        finally:
            os.close(fd)
    except OSError as err:
        problems.append(_os_problem(path, err, "cannot be written"))
    finally:
        if probe is not None:
            with _signals_deferred(), contextlib.suppress(OSError):
                probe.unlink()
    return problems


def check_writable(path: Path, force: bool, suffixes: Iterable[str] | None = None) -> None:
    """Refuse an output path that cannot be written (see :func:`output_problems`).

    Raises
    ------
    OutputError
        With every problem found.
    """
    check_outputs([(path, suffixes)], force)


def check_outputs(outputs: Iterable[tuple[Path, Iterable[str] | None]], force: bool) -> None:
    """Check every output path of a command before any work, all problems at once.

    Raises
    ------
    OutputError
        With every problem of every path.
    """
    problems = [p for path, suffixes in outputs for p in output_problems(path, force, suffixes)]
    if problems:
        raise OutputError(problems=problems)


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then deliver them.

    For the few steps that must not stop halfway (publishing a file, removing
    a temporary one). Signal handlers can only be set in the main thread;
    elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: object) -> None:
        pending.append(signum)

    old: dict[int, Any] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            old[signum] = signal.signal(signum, hold)
        yield
    finally:
        for held, handler in old.items():
            signal.signal(held, signal.SIG_DFL if handler is None else handler)
        for held in dict.fromkeys(pending):
            signal.raise_signal(held)  # now the handler it had runs (and may raise)


def _keep(tmp: Path, path: Path) -> Path:
    """Give the finished temporary file a free name beside ``path``; return where it is.

    ``run.nc`` becomes ``run.new-1.nc`` (or ``-2``, ... whichever is free,
    never replacing anything); if no such name can be made, the temporary
    file stays where it is.
    """
    for n in range(1, 1000):
        kept = path.with_name(f"{path.stem}.new-{n}{path.suffix}")
        try:
            os.link(tmp, kept)
        except FileExistsError:
            continue
        except OSError:
            break
        tmp.unlink()
        return kept
    return tmp


def _publish(tmp: Path, path: Path, force: bool) -> Path | None:
    """Put the finished ``tmp`` at ``path``; return where it was kept instead, if it was.

    With ``force``, ``os.replace``: whatever is at ``path`` is replaced (a
    symbolic link itself, never what it points to). Without, ``os.link``,
    which fails if anything at all is at ``path`` at that moment, a dangling
    symbolic link too: then nothing is replaced and the new file is kept
    under a free name (:func:`_keep`). On a file system without hard links,
    the name is claimed with ``O_CREAT | O_EXCL`` (which fails the same way)
    and the empty file made there is replaced.
    """
    if force:
        os.replace(tmp, path)
        return None
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _keep(tmp, path)
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return _keep(tmp, path)
        os.replace(tmp, path)
        return None
    tmp.unlink()
    return None


@contextlib.contextmanager
def atomic_path(path: Path, *, force: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; published at ``path`` on success.

    The temporary file gets the usual mode (0666 less the umask, where
    ``mkstemp`` makes 0600) and is flushed to disk before it is published, so
    a reader or a crash sees the old file or the new one, never a part.
    Publishing never replaces anything without ``force``, even something
    that appeared while the caller worked (see :func:`_publish`): then the
    new file is kept beside it under a free name, and :class:`OutputError`
    says where. On any error (Ctrl-C and SIGTERM included) the temporary file
    is removed.

    Raises
    ------
    OutputError
        For every ``OSError`` while writing (a full disk, a folder made
        read-only meanwhile, ...), and when something appeared at ``path``.
    """
    created: list[Path] = []
    try:
        # a signal while the file is made waits until its name is known, so that
        # the cleanup below can remove it
        with _signals_deferred():
            fd, name = _temporary(path)
            created.append(Path(name))
    except OSError as err:
        raise OutputError(problems=[_os_problem(path, err, "cannot be written")]) from None
    except BaseException:
        with _signals_deferred(), contextlib.suppress(OSError):
            for made in created:
                made.unlink()
        raise
    tmp = created[0]
    try:
        try:
            os.close(fd)
            os.chmod(tmp, 0o666 & ~current_umask())
            yield tmp
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            with _signals_deferred():
                kept = _publish(tmp, path, force)
        except OSError as err:
            raise OutputError(problems=[_os_problem(
                path, err, "could not be written, so nothing was written there")]) from None
    except BaseException:
        with _signals_deferred(), contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if kept is not None:
        raise OutputError(problems=[Problem(
            str(path), "", "appeared while the command ran (it was not there when the command "
            "checked its outputs); nothing was overwritten",
            f"the new output is at {kept}: compare the two and rename or delete one (or run "
            "again with --force to replace the file)")])


def write_atomic(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path` (no replacing without ``force``)."""
    with atomic_path(path, force=force) as tmp:
        tmp.write_bytes(data)
