"""The file an elicitation session writes, written only over what the session last saw.

A session may run for an hour while the file it saves to is open in an
editor, synced, or swapped. :class:`Target` remembers the file's identity
(``st_dev``, ``st_ino``) and the sha256 of its content from when the session
read it and from the session's own last write, and refuses to write over a
file that has changed since: replaced by another file, edited, deleted, made
read-only, or (for a new file) created by someone else meanwhile. What
changed is raised as :class:`TargetChanged`; :class:`Saver` then saves the
session's answers beside it under a new name (:func:`keep_elsewhere`), never
over anything, and says where. It also refuses a text answer that would make
the file larger than plausibly reads (``MAX_FILE_BYTES``).

"Read-only" is judged from the mode bits as well as from opening the file for
appending: ``os.access`` and even ``open`` say yes to root for a 0444 file,
but a file nobody may write to was made read-only on purpose.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from plausibly.models.errors import ElicitationError, Problem
from plausibly.models.files import MAX_FILE_BYTES
from plausibly.models.outputs import current_umask
from plausibly.priors.elicitation import PriorSet
from plausibly.priors.toml_writer import dumps_prior_set

__all__ = ["FileStamp", "Saver", "Target", "TargetChanged", "keep_elsewhere", "read_only",
           "read_stamped"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileStamp:
    """A file as a session last saw it: its identity and the sha256 of its content."""

    dev: int
    ino: int
    sha256: str


class TargetChanged(Exception):
    """The file changed since the session last read or wrote it.

    ``changes`` says how, in words that follow "was": ``["edited", "made
    read-only"]``, ``["replaced by another file"]``, ``["deleted"]`` or
    ``["created by another program"]``.
    """

    def __init__(self, changes: list[str]) -> None:
        self.changes = changes
        super().__init__(" and ".join(changes))


def _open_flags() -> int:
    return os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_stamped(path: Path, limit: int) -> tuple[bytes, FileStamp] | None:
    """The bytes of the regular file at ``path`` and its stamp, from one open file.

    None when ``path`` is not a regular file or holds more than ``limit``
    bytes (opening never blocks: a FIFO is opened without waiting for a writer).
    """
    fd = os.open(path, _open_flags())
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        return None
    return raw, FileStamp(st.st_dev, st.st_ino, hashlib.sha256(raw).hexdigest())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_only(path: Path) -> str:
    """Why the file at ``path`` may not be written to, or ``""`` when it may.

    A file with no write bit for anyone is read-only, whoever runs this (root
    included); so is one that cannot be opened for appending (not its owner, a
    read-only file system, an immutable file). Opening for appending writes
    nothing.
    """
    mode = os.stat(path).st_mode
    if not mode & 0o222:
        return f"is read-only (mode {stat.S_IMODE(mode):04o})"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        return f"cannot be written ({err.strerror})"
    os.close(fd)
    return ""


def _temporary(folder: Path, name: str, data: bytes) -> Path:
    """``data`` in a new temporary file in ``folder``, flushed to disk, with the usual mode."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _publish(tmp: Path, path: Path, data: bytes) -> bool:
    """Put the complete file ``tmp`` (holding ``data``) at ``path``, only if nothing is there.

    A hard link publishes it atomically and fails if anything (a dangling
    symbolic link included) is at ``path``; where the file system has no hard
    links, an exclusive create is the fallback. Returns whether ``path`` is
    ``tmp`` itself (the same inode).

    Raises
    ------
    FileExistsError
        When something is at ``path``.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network and FAT file systems)
        with open(path, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return False
    return True


def _create(path: Path, data: bytes) -> None:
    """Make ``path`` hold ``data``, whole, only if nothing is at ``path`` (see :func:`_publish`)."""
    tmp = _temporary(path.parent if str(path.parent) else Path("."), path.name, data)
    try:
        _publish(tmp, path, data)
    finally:
        tmp.unlink(missing_ok=True)


class Target:
    """The file a session saves to, and what it was when the session last saw it.

    ``stamp`` is None for a file that did not exist when the session began:
    then the first write creates it, and fails if anything appeared there.
    """

    def __init__(self, path: Path, stamp: FileStamp | None) -> None:
        self.path = path
        self.stamp = stamp
        #: the write under way: if it was interrupted just after it landed, the
        #: file is this one, the session's own
        self._pending: FileStamp | None = None

    def changes(self) -> list[str]:
        """How the file differs from what the session last saw ([] when it does not)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self.stamp is None:
                return ["created by another program"] if os.path.lexists(self.path) else []
            return ["deleted"]
        pending = self._pending
        if pending is not None and (st.st_dev, st.st_ino) == (pending.dev, pending.ino):
            self.stamp, self._pending = pending, None
        if self.stamp is None:
            return ["created by another program"]
        if (st.st_dev, st.st_ino) != (self.stamp.dev, self.stamp.ino):
            return ["replaced by another file"]
        changes = [] if _sha256(self.path) == self.stamp.sha256 else ["edited"]
        if read_only(self.path):
            changes.append("made read-only")
        return changes

    def write(self, data: bytes) -> None:
        """Write ``data`` to the file atomically, unless it changed since last seen.

        The new content is written to a temporary file and flushed to disk
        first; the check is made then, just before the temporary file is renamed
        into place (linked, for a new file), so the window in which a change can
        be missed is that rename.

        Raises
        ------
        TargetChanged
            When the file changed (nothing is written).
        OSError
            When it cannot be written (nothing is written).
        """
        tmp = _temporary(self.path.parent if str(self.path.parent) else Path("."),
                         self.path.name, data)
        try:
            if self.stamp is not None:
                with contextlib.suppress(OSError):  # keep the file's mode (0600 stays 0600)
                    os.chmod(tmp, stat.S_IMODE(os.stat(self.path).st_mode))
            changes = self.changes()
            if changes:
                raise TargetChanged(changes)
            st = os.stat(tmp)
            self._pending = FileStamp(st.st_dev, st.st_ino, hashlib.sha256(data).hexdigest())
            if self.stamp is not None:
                os.replace(tmp, self.path)
            else:
                try:
                    same = _publish(tmp, self.path, data)
                except FileExistsError:
                    raise TargetChanged(["created by another program"]) from None
                if not same:
                    st = os.stat(self.path)
                    self._pending = FileStamp(st.st_dev, st.st_ino, self._pending.sha256)
            self.stamp, self._pending = self._pending, None
        except Exception:  # it did not land (on Ctrl-C it may have: _pending tells)
            self._pending = None
            raise
        finally:
            tmp.unlink(missing_ok=True)


def keep_elsewhere(path: Path, data: bytes) -> Path | None:
    """Save ``data`` under a new name beside ``path`` (else here, else in the temp folder).

    ``me.toml`` becomes ``me.unsaved.toml`` (or ``me.unsaved-2.toml``, ...):
    nothing that exists is ever replaced. Returns the path written, or None
    when no folder would take it.
    """
    stem, suffix = path.stem, path.suffix or ".toml"
    folders = [path.parent if str(path.parent) else Path("."), Path("."),
               Path(tempfile.gettempdir())]
    for folder in folders:
        for n in range(1, 100):
            name = f"{stem}.unsaved{'' if n == 1 else f'-{n}'}{suffix}"
            try:
                _create(folder / name, data)
            except FileExistsError:
                continue
            except OSError:
                break
            return folder / name
    return None


# ============================================================================ the session's file


class Saver:
    """Saves a session's prior set, only over the file as the session last saw it.

    ``text`` is the file's text as read (None for a new file, which is then
    opened with ``header``): every save edits it, keeping its comments and
    layout. ``saved`` is the prior set the file holds.
    """

    def __init__(self, path: Path, stamp: FileStamp | None, text: str | None,
                 saved: PriorSet | None, header: str) -> None:
        self.path = path
        self.target = Target(path, stamp)
        self.text = text
        self.header = header
        self.saved = saved
        self.writes = 0

    def dumps(self, priors: PriorSet) -> str:
        """The file's text holding ``priors`` (the last saved text, edited)."""
        return dumps_prior_set(priors, self.text, header=self.header)

    def too_big(self, priors: PriorSet, answer: str) -> str:
        """Why a text answer would make the file too big for plausibly to read (or "")."""
        n = len(answer.encode("utf-8"))
        if n <= MAX_FILE_BYTES and len(self.dumps(priors).encode("utf-8")) <= MAX_FILE_BYTES:
            return ""
        rest = len(self.dumps(self.saved or priors).encode("utf-8")) if n > MAX_FILE_BYTES \
            else len(self.dumps(priors).encode("utf-8")) - n
        room = max(MAX_FILE_BYTES - rest, 0)
        return (f"that answer is {n:,} bytes, and a prior-set file may hold at most "
                f"{MAX_FILE_BYTES:,} bytes in all (check, estimate and elicit refuse a larger "
                f"one): keep it under about {room:,} bytes, or put the long text elsewhere and "
                "cite it")

    def save(self, priors: PriorSet) -> None:
        """Write ``priors`` if it differs from what was saved (a new file: once judged).

        Raises
        ------
        ElicitationError
            When the file changed since the session last saw it, or cannot be
            written: nothing is written over it, and the answers are saved
            under a new name beside it (the error says where).
        """
        if priors == self.saved or (self.saved is None and not priors.nodes):
            return
        text = self.dumps(priors)
        data = text.encode("utf-8")
        try:
            self.target.write(data)
        except TargetChanged as err:
            raise self._stopped(data, f"was {err} since elicit last read or wrote it, so "
                                      "elicit stopped rather than write over it") from None
        except OSError as err:
            raise self._stopped(data, f"cannot be written ({err.strerror or err})") from None
        self.text, self.saved, self.writes = text, priors, self.writes + 1

    def _stopped(self, data: bytes, message: str) -> ElicitationError:
        kept = keep_elsewhere(self.path, data)
        if kept is None:
            fix = ("your answers so far could not be saved anywhere (no folder would take a new "
                   "file): free some space or make a folder writable, then answer again")
        else:
            fix = (f"your answers so far are saved in {kept}: compare it with {self.path}, keep "
                   "the one you want, and run elicit on it to go on")
        return ElicitationError(problems=[Problem(str(self.path), "", message, fix)])
