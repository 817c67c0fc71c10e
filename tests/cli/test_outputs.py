"""Output paths: all checked before any work, every write error a clear exit 2, nothing replaced.

Issue #11, items 7 and 12. The commands sample (or answer exactly) only
after every output path (``-o``, ``--plot``, the report's ``-o``) has been
checked; a file or link that appears at an output path while the command
works is never replaced without ``--force``, and the new output is kept
beside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models import outputs as files
from plausibly.models.errors import OutputError

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
PNG = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()

#: each command with the output option under test ({out} is the path)
COMMANDS = {
    "estimate -o": ["estimate", SQUAD, "-p", FIXED, "-f", "json", "-o", "{out}.nc"],
    "estimate --plot": ["estimate", SQUAD, "-p", FIXED, "-f", "json", "--plot", "{out}.png"],
    "compare --plot": ["compare", SQUAD, "-p", FIXED, "-f", "json", "--plot", "{out}.svg"],
    "report -o": ["report", SQUAD, "-p", FIXED, "-o", "{out}.html"],
}


def args_for(command: str, out: Path) -> tuple[list[str], Path]:
    args = [a.replace("{out}", str(out)) for a in COMMANDS[command]]
    return args, Path(next(a for a in args if a.startswith(str(out))))


@pytest.fixture
def no_work(monkeypatch):
    """Make any sampling or exact answering fail the test: outputs must be checked first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command started its work before checking its outputs")

    monkeypatch.setattr("plausibly.models.inference.estimate", refuse)
    monkeypatch.setattr("plausibly.priors.comparison.compare", refuse)


def refused_before_work(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


# ------------------------------------------------------------- 7. checked before any work


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_parent_that_is_a_file_is_refused_before_any_work(tmp_path, no_work, command):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    args, out = args_for(command, blocker / "out")
    err = refused_before_work(args)
    assert err == (f"error: 1 problem\n{out}: its folder {blocker} is a file, not a folder\n"
                   "    fix: name a file inside an existing folder\n")
    deeper, _ = args_for(command, blocker / "sub" / "out")
    assert f"cannot exist: {blocker} is a file, not a folder" in refused_before_work(deeper)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_name_too_long_for_the_temporary_file_is_refused_before_any_work(
        tmp_path, no_work, command):
    # the name itself fits (at most 255 bytes) but ".NAME.XXXXXXXX.tmp" does not
    args, out = args_for(command, tmp_path / ("r" * 245))
    assert len(out.name) <= 255
    err = refused_before_work(args)
    assert f"{out}: its name is too long: the temporary file written beside it first" in err
    assert "over the limit of 255 here\n    fix: shorten the name by at least" in err
    assert os.listdir(tmp_path) == []


def test_every_output_path_is_reported_at_once(tmp_path, no_work):
    blocker = tmp_path / "f"
    blocker.write_text("")
    (tmp_path / "d.png").write_bytes(b"mine")
    err = refused_before_work(["estimate", SQUAD, "-p", FIXED, "-o", str(blocker / "run.nc"),
                               "--plot", str(tmp_path / "d.png")])
    assert err.startswith("error: 2 problems\n")
    assert f"{blocker / 'run.nc'}: its folder {blocker} is a file" in err
    assert f"{tmp_path / 'd.png'}: exists already" in err


def test_a_dangling_symlink_at_the_output_is_refused_before_any_work(tmp_path, no_work):
    link = tmp_path / "run.nc"
    link.symlink_to(tmp_path / "elsewhere.nc")
    err = refused_before_work(["estimate", SQUAD, "-p", FIXED, "-o", str(link)])
    assert err == (f"error: 1 problem\n{link}: exists already (a symbolic link to "
                   f"{tmp_path / 'elsewhere.nc'}, which does not exist)\n"
                   "    fix: choose another name, or add --force to overwrite it\n")
    assert link.is_symlink() and not (tmp_path / "elsewhere.nc").exists()


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    """A small tmpfs mounted at ``where`` (root only), unmounted afterwards."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


can_mount = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                               reason="mounting a tmpfs needs root")


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write to: a read-only tmpfs as root (root ignores mode bits)."""
    if os.geteuid() == 0:
        with tmpfs(tmp_path / "ro", "size=64k,ro") as folder:
            yield folder, "is on a read-only file system (Read-only file system)"
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o555)
        try:
            yield folder, "is not writable (Permission denied)"
        finally:
            folder.chmod(0o755)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_folder_that_is_not_writable_is_refused_before_any_work(
        read_only_folder, no_work, command):
    folder, reason = read_only_folder
    args, out = args_for(command, folder / "out")
    err = refused_before_work(args)
    assert err.startswith(f"error: 1 problem\n{out}: cannot be written: its folder {folder} "
                          f"{reason}\n")


@can_mount
def test_a_full_disk_is_refused_before_any_work(tmp_path, no_work):
    with tmpfs(tmp_path / "full", "size=64k") as disk:
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as fh:
            fh.write(bytes(128 * 1024))
        err = refused_before_work(["estimate", SQUAD, "-p", FIXED, "-o", str(disk / "run.nc")])
        assert err == (f"error: 1 problem\n{disk / 'run.nc'}: cannot be written: no space left "
                       "on its disk (No space left on device)\n    fix: free some space on "
                       "that disk, or choose a folder on another one\n")
        assert sorted(os.listdir(disk)) == ["filler"]


@can_mount
def test_a_disk_that_fills_up_while_writing_is_exit_2_not_a_crash(tmp_path):
    # room for the check's probe, not for the run (about 37 KB): the write itself fails.
    # In a process of its own: HDF5 writing to a full disk used to end in SIGSEGV (139)
    with tmpfs(tmp_path / "small", "size=64k") as disk:
        (disk / "filler").write_bytes(bytes(48 * 1024))
        done = subprocess.run([sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p",
                               FIXED, "-f", "json", "-o", str(disk / "run.nc")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"error: 1 problem\n{disk / 'run.nc'}: could not be written, so nothing was "
            "written there: no space left on its disk (No space left on device)\n"
            "    fix: free some space on that disk, or choose a folder on another one\n")
        assert sorted(os.listdir(disk)) == ["filler"]  # no temporary file left


def test_any_os_error_while_writing_is_an_output_error(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    target = tmp_path / "x.bin"
    with pytest.raises(OutputError) as caught:
        files.write_atomic(target, b"data")
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        f"{target}: could not be written, so nothing was written there: no space left on its "
        "disk (No space left on device)\n    fix: free some space on that disk, or choose a "
        "folder on another one")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------- 12. nothing overwritten, ever


def appears_during_work(monkeypatch, where: str, path: Path, content: bytes | None) -> None:
    """Wrap the command's work so that something appears at ``path`` while it runs."""
    module, name = where.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def work(*args, **kwargs):
        result = real(*args, **kwargs)
        if content is None:
            path.symlink_to(path.parent / "nowhere")
        else:
            path.write_bytes(content)
        return result

    monkeypatch.setattr(where, work)


WORK = {"estimate -o": "plausibly.models.inference.estimate",
        "estimate --plot": "plausibly.models.inference.estimate",
        "compare --plot": "plausibly.priors.comparison.compare",
        "report -o": "plausibly.priors.comparison.compare"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_file_that_appears_while_the_command_works_is_not_replaced(
        tmp_path, monkeypatch, command):
    args, out = args_for(command, tmp_path / "out")
    appears_during_work(monkeypatch, WORK[command], out, b"theirs")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    kept = out.with_name(f"out.new-1{out.suffix}")
    assert result.stderr == (
        f"error: 1 problem\n{out}: appeared while the command ran (it was not there when the "
        "command checked its outputs); nothing was overwritten\n"
        f"    fix: the new output is at {kept}: compare the two and rename or delete one (or "
        "run again with --force to replace the file)\n")
    assert out.read_bytes() == b"theirs"
    assert kept.stat().st_size > 1000
    assert sorted(os.listdir(tmp_path)) == sorted([out.name, kept.name])  # no .tmp left


def test_a_kept_run_is_a_whole_run(tmp_path, monkeypatch):
    out = tmp_path / "run.nc"
    appears_during_work(monkeypatch, WORK["estimate -o"], out, b"theirs")
    assert runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "-o", str(out)]).exit_code == 2
    (tmp_path / "run.new-1.nc").rename(tmp_path / "other.nc")
    assert runner.invoke(app, ["estimate", "--from", str(tmp_path / "other.nc")]).exit_code == 0


def test_a_dangling_symlink_that_appears_is_not_replaced(tmp_path, monkeypatch):
    out = tmp_path / "d.png"
    appears_during_work(monkeypatch, WORK["estimate --plot"], out, None)
    result = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--plot", str(out)])
    assert result.exit_code == 2, result.output
    assert "appeared while the command ran" in result.stderr
    assert out.is_symlink() and not (tmp_path / "nowhere").exists()
    assert (tmp_path / "d.new-1.png").read_bytes().startswith(PNG)


def test_force_replaces_what_appeared_and_a_link_itself(tmp_path, monkeypatch):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "d.png"
    out.symlink_to(target)
    result = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--plot", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert not out.is_symlink() and out.read_bytes().startswith(PNG)
    assert target.read_text() == "keep me"  # the link was replaced, not what it points to


def test_the_kept_name_takes_the_first_free_number(tmp_path):
    target = tmp_path / "a.png"
    for n in range(2):
        with pytest.raises(OutputError):
            with files.atomic_path(target) as tmp:
                tmp.write_bytes(b"new %d" % n)
                if not target.exists():
                    target.write_bytes(b"old")
    assert (tmp_path / "a.new-1.png").read_bytes() == b"new 0"
    assert (tmp_path / "a.new-2.png").read_bytes() == b"new 1"
    assert target.read_bytes() == b"old"


def test_without_hard_links_the_name_is_claimed_exclusively(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(files.os, "link", no_links)
    target = tmp_path / "x.bin"
    files.write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    with pytest.raises(OutputError, match="appeared while the command ran"):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"second")
    assert target.read_bytes() == b"first"
    # no hard link for a kept copy either: the temporary file itself is kept, and named
    [kept] = [p for p in tmp_path.iterdir() if p != target]
    assert kept.read_bytes() == b"second" and kept.name.startswith(".x.bin.")


RACER = """
import sys, time
from pathlib import Path
from plausibly.models.errors import OutputError
from plausibly.models.outputs import check_writable, write_atomic

target, go, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
check_writable(target, False, {".nc"})
print("checked", flush=True)
while not go.exists():
    time.sleep(0.001)
try:
    write_atomic(target, me.encode() * 4_000_000)
except OutputError as err:
    print(err)
    sys.exit(2)
print("saved")
"""


def test_two_writers_racing_for_one_output_never_both_save(tmp_path):
    # both have checked the path before either publishes: a race every time, not by luck
    target, go = tmp_path / "same.nc", tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(target), str(go), name],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for name in ("a", "b")]
    for racer in racers:
        assert racer.stdout.readline().strip() == "checked", racer.communicate()[1]
    go.touch()
    outs = [racer.communicate(timeout=60) for racer in racers]
    codes = [racer.returncode for racer in racers]
    assert sorted(codes) == [0, 2], outs
    winner, loser = ("a", "b") if codes[0] == 0 else ("b", "a")
    assert target.read_bytes() == winner.encode() * 4_000_000
    lost = outs[codes.index(2)][0]
    assert "appeared while the command ran" in lost and "nothing was overwritten" in lost
    assert (tmp_path / "same.new-1.nc").read_bytes() == loser.encode() * 4_000_000
    assert sorted(os.listdir(tmp_path)) == ["go", "same.nc", "same.new-1.nc"]


ESTIMATE = [sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p", FIXED, "-f",
            "json", "-o"]


@pytest.mark.slow
def test_two_estimates_racing_for_one_output_never_both_save(tmp_path):
    # the same output from two commands started together: one saves it, the other is
    # refused, before its work or after it (before the fix both said "saved")
    out = tmp_path / "run.nc"
    racers = [subprocess.Popen([*ESTIMATE, str(out), "--seed", str(seed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
              for seed in (1, 2)]
    deadline = time.monotonic() + 120
    errs = [p.communicate(timeout=max(1.0, deadline - time.monotonic()))[1] for p in racers]
    codes = [p.returncode for p in racers]
    assert sorted(codes) == [0, 2], errs
    loser = errs[codes.index(2)]
    assert "nothing was overwritten" in loser or "exists already" in loser, loser
    assert "Traceback" not in "".join(errs)
    loaded = subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; from plausibly.models.store import load_run; "
        "print(load_run(Path(sys.argv[1])).seed)"), str(out)],
        capture_output=True, text=True, timeout=120)
    assert loaded.stdout.strip() == str((1, 2)[codes.index(0)]), loaded.stderr
