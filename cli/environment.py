"""The machine the command runs on: terminals that are not UTF-8, homes that are read-only.

Only the standard library, and nothing here writes under the user's home:

* :func:`plain_streams`: on a terminal whose encoding cannot show every
  character (Latin-1, ASCII), stdout and stderr degrade, "—" to "-" and "Δ"
  to "D", instead of a ``UnicodeEncodeError`` traceback.
* :func:`usable_home_caches`: ArviZ creates a cache folder under the home
  (``~/.cache/arviz``) when it is imported and dies with ``OSError`` when it
  cannot; matplotlib warns on stderr when its config folder cannot be made.
  When either folder cannot be written, they are pointed at a temporary
  folder (removed at exit), quietly: nothing kept there matters.
* :func:`usable_compile_dir`: PyTensor compiles the model into its compile
  directory (``~/.pytensor``, or ``PYTENSOR_FLAGS`` / ``.pytensorrc``) and
  dies with ``ValueError`` when it cannot write there. Checked before
  sampling; when not writable, a temporary compile directory is used instead,
  and the command says so (the compiled model is then not kept).

The checks read the same settings as the libraries, without importing them
(which would cost the light commands their fast start).
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from pathlib import Path

# shlex, shutil, struct and tempfile are imported where needed: every command starts here

__all__ = ["plain_streams", "unwritable", "usable_compile_dir", "usable_home_caches"]

#: How characters a terminal cannot show are written instead.
_PLAIN = {"—": "-", "–": "-", "−": "-", "‐": "-", "‑": "-", "…": "...", "“": '"', "”": '"',
          "„": '"', "‘": "'", "’": "'", "‚": "'", "Δ": "D", "±": "+/-", "×": "x", "≤": "<=",
          "≥": ">=", "≈": "~", "→": "->", "←": "<-", "•": "*", "·": ".", "\u00a0": " "}
_HANDLER = "plausibly-plain"


def _plain(err: UnicodeError) -> tuple[str, int]:
    """A codec error handler: an unencodable character as plain ASCII (else ``?``)."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    import unicodedata

    out = []
    for ch in err.object[err.start:err.end]:
        plain = _PLAIN.get(ch)
        if plain is None:  # é -> e; anything else -> ?
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        out.append(plain)
    return "".join(out), err.end


def plain_streams() -> None:
    """Let stdout and stderr write what their encoding cannot show, as plain characters."""
    codecs.register_error(_HANDLER, _plain)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower()
        if isinstance(stream, io.TextIOWrapper) and not encoding.startswith("utf"):
            stream.reconfigure(errors=_HANDLER)


def unwritable(folder: Path) -> str:
    """Why ``folder`` cannot be used for writing (``""`` when it can). Writes nothing.

    An existing folder must be writable; a missing one, creatable (its nearest
    existing parent writable). ``os.access`` answers for the process as it is,
    root included, and knows a read-only file system.
    """
    path = Path(os.path.abspath(folder))
    while not path.exists():
        if path.is_symlink() or path.parent == path:  # a dangling link, or nothing at all
            return f"{path} cannot be created"
        path = path.parent
    if not path.is_dir():
        return f"{path} is not a folder"
    if os.access(path, os.W_OK | os.X_OK):
        return ""
    try:
        read_only_fs = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only_fs = False
    return f"{path} is on a read-only file system" if read_only_fs else f"{path} is not writable"


def _temporary_folder(prefix: str) -> Path:
    """A new temporary folder, removed when this process exits (not by forked workers)."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder


def _xdg(name: str, default: str) -> Path:
    value = os.environ.get(name, "")
    return Path(value if value.strip() else os.path.expanduser(default))


def usable_home_caches() -> None:
    """Point ArviZ's cache and matplotlib's config at a temporary folder if theirs are unwritable.

    Only where they follow the XDG variables (Linux and other Unix but macOS);
    elsewhere this does nothing.
    """
    if os.name != "posix" or sys.platform == "darwin":
        return
    arviz = _xdg("XDG_CACHE_HOME", "~/.cache") / "arviz"  # platformdirs' user_cache_dir
    mpl_set = os.environ.get("MPLCONFIGDIR")
    mpl = [Path(mpl_set)] if mpl_set else [_xdg("XDG_CONFIG_HOME", "~/.config") / "matplotlib",
                                          _xdg("XDG_CACHE_HOME", "~/.cache") / "matplotlib"]
    fix_arviz, fix_mpl = bool(unwritable(arviz)), any(unwritable(d) for d in mpl)
    if not (fix_arviz or fix_mpl):
        return
    try:
        folder = _temporary_folder("plausibly-home-")
    except OSError:  # nowhere to go: the libraries will say why themselves
        return
    if fix_mpl:
        os.environ["MPLCONFIGDIR"] = str(folder / "matplotlib")
    if fix_arviz:
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")


def _pytensor_setting(key: str) -> str | None:
    """``key`` as PyTensor will read it: from ``PYTENSOR_FLAGS``, else its config files."""
    import shlex

    lexer = shlex.shlex(os.environ.get("PYTENSOR_FLAGS", ""), posix=True)
    lexer.whitespace, lexer.whitespace_split = ",", True
    value = None
    try:
        for pair in lexer:
            name, sep, v = pair.strip().partition("=")
            if sep and name == key:
                value = v  # a later value wins, as in PyTensor
    except ValueError:  # unbalanced quotes: PyTensor will complain itself
        return None
    if value is not None:
        return value
    import configparser

    rc = os.environ.get("PYTENSORRC")
    files = [os.path.expanduser(s) for s in (rc or "~/.pytensorrc").split(os.pathsep)]
    if rc is None and sys.platform == "win32":
        files.append(os.path.expanduser("~/.pytensorrc.txt"))
    parser = configparser.ConfigParser(
        {"USER": os.environ.get("USER", Path("~").expanduser().name),
         "LSCRATCH": os.environ.get("LSCRATCH", ""), "TMPDIR": os.environ.get("TMPDIR", ""),
         "TEMP": os.environ.get("TEMP", ""), "TMP": os.environ.get("TMP", ""),
         "PID": str(os.getpid())})
    try:
        parser.read(files)
        return parser.get("global", key)
    except configparser.InterpolationError:
        raw = configparser.RawConfigParser()
        raw.read(files)
        return raw.get("global", key, fallback=None)
    except configparser.Error:
        return None


def _compile_dirs() -> list[Path]:
    """The folders PyTensor will compile into, as far as known without importing it.

    An explicit ``compiledir``; else ``base_compiledir`` (default
    ``$HOME/.pytensor``) and the ``compiledir_*`` folders in it for this
    Python (their full names depend on PyTensor's platform string).
    """
    import struct

    explicit = _pytensor_setting("compiledir")
    if explicit:
        return [Path(explicit).expanduser()]
    base_set = _pytensor_setting("base_compiledir")
    if base_set:
        base = Path(base_set).expanduser()
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "PyTensor"
    else:
        home = os.environ.get("HOME")
        try:
            base = (Path(home) if home is not None else Path.home()) / ".pytensor"
        except RuntimeError:  # no home at all: PyTensor will say so itself
            return []
    tail = f"-{sys.version.split()[0]}-{struct.calcsize('P') * 8}"
    try:
        mine = sorted(p for p in base.glob("compiledir_*") if p.name.endswith(tail))
    except OSError:
        mine = []
    return [base, *mine]


def usable_compile_dir() -> str:
    """Make sure PyTensor can write its compiled model; returns a note for stderr, or "".

    When its compile directory is not writable, PyTensor is given a temporary
    one (through ``PYTENSOR_FLAGS``, read when PyTensor is imported: in a
    process that has imported it already, nothing is changed).

    Raises
    ------
    OSError
        When no temporary folder can be made either.
    """
    import shlex

    if "pytensor" in sys.modules:
        return ""
    problem = next((why for d in _compile_dirs() if (why := unwritable(d))), "")
    if not problem:
        return ""
    folder = _temporary_folder("plausibly-pytensor-")
    flags = os.environ.get("PYTENSOR_FLAGS", "").strip().strip(",")
    os.environ["PYTENSOR_FLAGS"] = ",".join(
        [*([flags] if flags else []), "compiledir=" + shlex.quote(str(folder))])
    return (f"note: PyTensor cannot compile into its compile directory ({problem}), so the "
            f"model is compiled in {folder} instead and not kept (to keep it between runs, "
            "set PYTENSOR_FLAGS=base_compiledir=<a folder you can write to>)")


def usable_sampler_cache() -> str:
    """Make sure the sampler can keep its compiled programs; returns a note for stderr, or "".

    When the cache (``$PLAUSIBLY_CACHE_DIR``, else ``~/.cache/plausibly``)
    cannot be written, the sampler is given a temporary one, removed at exit:
    each run then builds and compiles its sampler anew, with the same numbers.

    Raises
    ------
    OSError
        When no temporary folder can be made either.
    """
    from plausibly.models.nuts import cache_dir

    problem = unwritable(cache_dir())
    if not problem:
        return ""
    folder = _temporary_folder("plausibly-cache-")
    os.environ["PLAUSIBLY_CACHE_DIR"] = str(folder)
    return (f"note: the sampler's cache cannot be written ({problem}), so its compiled "
            f"program is kept in {folder} for this run only (to keep it between runs, which "
            "saves the first run's 10-20 s, set PLAUSIBLY_CACHE_DIR=<a folder you can write "
            "to>)")

