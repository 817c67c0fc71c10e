"""The machine the command runs on: a read-only home, a read-only PyTensor compile
directory, a terminal that is not UTF-8, Ctrl-C while the command is still starting.

Each runs the real command in a new process (the environment is read at start-up),
bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data"
SQUAD = DATA / "firing_squad.toml"
JUDGED = DATA / "firing_squad_priors.toml"
RUN = DATA / "golden" / "run_v1.nc"
SCRIPT = Path(sys.executable).with_name("plausibly")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "plausibly.cli"]

posix_only = pytest.mark.skipif(os.name != "posix" or sys.platform == "darwin",
                                reason="XDG folders and POSIX signals")


def env_with(**changes: str | None) -> dict[str, str]:
    """This environment without any setting of the folders under test, then ``changes``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "MPLCONFIGDIR", "PYTENSOR_FLAGS",
                        "PYTENSORRC", "PYTHONIOENCODING")}
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], env=env, capture_output=True, timeout=timeout,
                          check=False)


@contextlib.contextmanager
def read_only_mount(path: Path):
    """An empty read-only file system at ``path`` (root only: skipped elsewhere)."""
    path.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a read-only file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


@pytest.fixture(params=["read-only mount", "under a file"])
def read_only_home(request, tmp_path):
    """A home folder nothing can be written under, not even by root."""
    if request.param == "under a file":  # mkdir under a regular file fails for everyone
        (tmp_path / "file").write_text("")
        yield tmp_path / "file" / "home"
    else:
        with read_only_mount(tmp_path / "home") as home:
            yield home


# --------------------------------------------------------------------------- a read-only home


@posix_only
def test_a_read_only_home_does_not_break_importing_arviz(read_only_home):
    """ArviZ makes ~/.cache/arviz when imported (its daily FutureWarning stamp)."""
    done = run(["estimate", "--from", str(RUN), "-f", "json", "--allow-unconverged"],
               env_with(HOME=str(read_only_home)))
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert done.stdout.decode().startswith("{")


@posix_only
def test_a_read_only_home_does_not_make_matplotlib_complain(read_only_home, tmp_path):
    out = tmp_path / "g.png"
    done = run(["graph", str(SQUAD), "-o", str(out)], env_with(HOME=str(read_only_home)))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""  # matplotlib's "created a temporary cache directory" warning
    assert out.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- PyTensor


def read_stderr_until(proc: subprocess.Popen, text: str, timeout: float) -> list[str]:
    """Lines of ``proc``'s stderr until one contains ``text`` (or stderr ends)."""
    seen: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            break
    return seen


@posix_only
@pytest.mark.parametrize("how", ["compiledir", "home"])
def test_a_read_only_compile_directory_is_replaced_before_sampling(tmp_path, how):
    """Said on stderr before any work; then the command is interrupted (compiling costs ~40 s
    of CPU), and the temporary directory goes with it."""
    with read_only_mount(tmp_path / "ro") as ro:
        own = str(tmp_path / "sampler")  # a cold sampler cache: the model is built, so compiled
        if how == "compiledir":
            env = env_with(PYTENSOR_FLAGS=f"floatX=float64,compiledir={ro}/compiled",
                           PLAUSIBLY_CACHE_DIR=own)
        else:  # the default, under a home made read-only
            env = env_with(HOME=str(ro), XDG_CACHE_HOME=str(tmp_path), MPLCONFIGDIR=str(tmp_path),
                           PLAUSIBLY_CACHE_DIR=own)
        with subprocess.Popen([*COMMAND, "estimate", str(SQUAD), "-p", str(JUDGED), "-f", "json",
                               "--draws", "50", "--tune", "50", "--allow-unconverged"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) as proc:
            try:
                seen = read_stderr_until(proc, "PyTensor cannot compile", timeout=120)
                proc.send_signal(signal.SIGINT)
                rest = proc.stderr.read()
                proc.wait(timeout=60)
            finally:
                proc.kill()
    assert proc.returncode == 130, rest
    assert "Traceback" not in "".join(seen) + rest
    assert seen and seen[-1].startswith(
        f"note: PyTensor cannot compile into its compile directory ({ro} is on a read-only "
        "file system), so the model is compiled in ")
    assert seen[-1].rstrip().endswith(
        "instead and not kept (to keep it between runs, set PYTENSOR_FLAGS=base_compiledir=<a "
        "folder you can write to>)")
    temporary = seen[-1].split("so the model is compiled in ")[1].split(" instead")[0]
    assert not Path(temporary).exists()  # removed at exit


@posix_only
@pytest.mark.slow
def test_sampling_with_a_read_only_compile_directory_works(tmp_path):
    """The whole run, compiling the model in the temporary directory (slow: a cold compile)."""
    with read_only_mount(tmp_path / "ro") as ro:
        done = run(["estimate", str(SQUAD), "-p", str(JUDGED), "-f", "json", "--draws", "50",
                    "--tune", "50", "--allow-unconverged"],
                   env_with(PYTENSOR_FLAGS=f"compiledir={ro}/compiled",
                            PLAUSIBLY_CACHE_DIR=str(tmp_path / "sampler")),  # cold: built here
                   timeout=600)
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "note: PyTensor cannot compile into its compile directory" in stderr
    temporary = stderr.split("so the model is compiled in ")[1].split(" instead")[0]
    assert not Path(temporary).exists()  # removed at exit
    assert done.stdout.decode().startswith("{")


# --------------------------------------------------------------------------- a Latin-1 terminal


def test_a_latin1_terminal_gets_plain_characters_not_a_traceback():
    """The estimate table's title has "—" and a column "Δ vs history"."""
    done = run(["estimate", "--from", str(RUN), "--allow-unconverged"],
               env_with(PYTHONIOENCODING="latin-1", COLUMNS="200"))
    assert done.returncode == 0, done.stderr.decode("latin-1")
    assert b"Traceback" not in done.stderr
    table = done.stdout.decode("latin-1")
    assert "Pearl's firing squad - prior set squad" in table
    assert "D vs history" in table


def test_a_latin1_terminal_shows_user_text_and_errors_plainly(tmp_path):
    scenario = tmp_path / "squad.toml"
    scenario.write_text(SQUAD.read_text(encoding="utf-8").replace(
        'title = "Pearl\'s firing squad"', 'title = "Pearl’s squad — “Δ”, 1…3, ±é"'),
        encoding="utf-8")
    env = env_with(PYTHONIOENCODING="latin-1")
    shown = run(["show", str(scenario)], env)
    assert shown.returncode == 0, shown.stderr.decode("latin-1")
    assert "Pearl's squad - \"D\", 1...3, ±é" in shown.stdout.decode("latin-1")
    missing = run(["check", str(tmp_path / "Δ—.toml")], env_with(PYTHONIOENCODING="ascii"))
    assert missing.returncode == 2
    assert b"Traceback" not in missing.stderr
    assert "D-.toml: cannot read the file" in missing.stderr.decode("ascii")


# --------------------------------------------------------------------------- Ctrl-C at start-up

#: Runs the console script's own code, with Ctrl-C arriving while a module is imported:
#: a real SIGINT, deterministically timed.
INTERRUPT_ON_IMPORT = """
import importlib.abc, os, signal, sys

MODULE = sys.argv[1]

class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["plausibly", *sys.argv[2:]]
from plausibly.cli.main import main
sys.exit(main())
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(("module", "said"), [
    ("plausibly.cli.app", "interrupted by Ctrl-C (SIGINT)\n"),  # the whole app, registration too
    ("typer", "interrupted by Ctrl-C (SIGINT)\n"),  # imported by plausibly.cli.app
    ("plausibly.cli.elicit", "interrupted by Ctrl-C (SIGINT)\n"),  # the commands, by it too
    # inside the command: its own message
    ("plausibly.models.scenario", "interrupted by Ctrl-C (SIGINT): everything stopped, sampling "
     "workers too; output files are written whole or not at all\n"),
])
def test_ctrl_c_while_importing_exits_130_without_a_traceback(module, said):
    done = subprocess.run([sys.executable, "-c", INTERRUPT_ON_IMPORT, module, "check",
                           str(SQUAD)], capture_output=True, timeout=120, check=False)
    assert (done.returncode, done.stderr.decode()) == (130, said)
    assert done.stdout == b""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_in_the_first_moments_of_the_real_command():
    """As a user would: SIGINT at several moments while ``plausibly check`` starts.

    A signal that arrives while Python itself is still starting (before it runs any
    of plausibly: its own start-up, some 20 ms on an idle machine, longer on a busy
    one) kills the process or makes Python print its own fatal error; that moment is
    not plausibly's, and is set aside.
    """
    outcomes = []
    for delay in (0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        with subprocess.Popen([*COMMAND, "check"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) as proc:
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        outcomes.append((delay, proc.returncode, stderr.decode()))
    ours = [(d, code, err) for d, code, err in outcomes
            if not (code == -signal.SIGINT and err == "")  # before Python handles SIGINT
            and not err.startswith("Fatal Python error:")]  # Python's own start-up
    for delay, code, stderr in ours:
        assert "Traceback" not in stderr, (delay, stderr)
        assert code in (0, 130), (delay, code, stderr)  # 0: it had finished already
    assert any(code == 130 for _, code, _ in ours), outcomes


# --------------------------------------------------------------------------- the sampler's cache


@posix_only
@pytest.mark.slow
def test_an_unwritable_sampler_cache_is_replaced_for_the_run(tmp_path):
    """A cache below a regular file (unwritable even for root): said on stderr, built in a
    temporary folder removed at exit, and the numbers are those of a run with a cache."""
    (tmp_path / "file").write_text("")
    args = ["estimate", str(SQUAD), "-p", str(JUDGED), "-f", "json", "--draws", "50",
            "--tune", "50", "--allow-unconverged"]
    done = run(args, env_with(PLAUSIBLY_CACHE_DIR=str(tmp_path / "file" / "cache")),
               timeout=600)
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith(f"note: the sampler's cache cannot be written ({tmp_path / 'file'} "
                             "is not a folder), so its compiled program is kept in ")
    temporary = stderr.split("is kept in ")[1].split(" for this run only")[0]
    assert not Path(temporary).exists()  # removed at exit
    cached = run(args, env_with())
    assert cached.returncode == 0, cached.stderr.decode()
    assert json.loads(done.stdout) == json.loads(cached.stdout)
