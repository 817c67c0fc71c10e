"""No lost work: a write killed at any moment leaves the old file or the new one.

And no work left behind: killing or stopping the main process (SIGKILL,
SIGTERM, Ctrl-C) or interrupting one sampling worker stops every worker,
without a traceback and without a temporary file (issue #11, items 2 and 15).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plausibly.models.outputs import write_atomic
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")

WRITER = """
import sys
from pathlib import Path
from plausibly.models.outputs import write_atomic
print("ready", flush=True)
write_atomic(Path(sys.argv[1]), b"n" * (64 << 20), force=True)
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_atomic_keeps_mode_and_content(tmp_path):
    target = tmp_path / "x.txt"
    write_atomic(target, b"hello")
    assert target.read_bytes() == b"hello"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_killed_atomic_write_leaves_old_or_new(tmp_path, delay):
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    old, new = digest(target), hashlib.sha256(b"n" * (64 << 20)).hexdigest()
    with subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                          stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    assert digest(target) in (old, new)


@pytest.mark.slow
def test_killed_estimate_keeps_the_previous_run(tmp_path):
    out = tmp_path / "run.nc"
    cmd = [sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p", FIXED, "-o",
           str(out), "--force", "-f", "json"]
    subprocess.run(cmd, check=True, capture_output=True)
    before = digest(out)
    for delay in (0.5, 1.5, 2.5, 3.5):
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) as proc:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        # same inputs, same bytes: whether or not the new run landed, the file is whole
        load = subprocess.run([sys.executable, "-m", "plausibly.cli", "estimate", "--from",
                               str(out), "-f", "json"], capture_output=True, text=True)
        assert load.returncode == 0, load.stderr
        assert digest(out) == before or load.stdout.startswith("{")


@pytest.mark.slow
def test_killed_elicit_keeps_every_saved_answer(tmp_path):
    out = tmp_path / "me.toml"
    answers = ["me", "Me", "A test.", "0.4 0.5 0.6", "Coin.", "0.01 0.02 0.05"]
    with subprocess.Popen([sys.executable, "-m", "plausibly.cli", "elicit", SQUAD, "-o",
                           str(out)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        proc.stdin.write("".join(line + "\n" for line in answers))
        proc.stdin.flush()
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until the second event's base is saved
            if out.exists() and "captain" in out.read_text():
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    s = load_scenario(SQUAD)
    saved = load_prior_set(out, s)
    assert saved.nodes["court_order"].base.median == 0.5
    assert saved.nodes["captain"].base.median == 0.02


# ------------------------------------------------------------ stopping the processes

#: an estimate that samples for a long while unless stopped (2 chains: 2 worker processes;
#: the most iterations the options allow, 70,000 a chain)
LONG = [sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p", JUDGED, "--draws",
        "20000", "--tune", "50000", "-f", "json"]


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, ...


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended: it only awaits its reaping)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def workers_of(pid: int) -> list[int]:
    """The sampling workers of ``pid``: its children running the same command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            try:
                if (entry / "cmdline").read_bytes() == command and fields[0] not in "ZX":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def sampling_workers(proc: subprocess.Popen[str], count: int = 2) -> list[int]:
    """Wait (bounded) until ``proc`` has forked its workers and they are sampling."""
    deadline = time.monotonic() + 120  # a cold PyTensor cache compiles first
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        workers = workers_of(proc.pid)
        if len(workers) == count:
            time.sleep(1.0)  # well into their chains
            return workers
        time.sleep(0.1)
    raise AssertionError("the workers never started")


def all_gone(pids: list[int], within: float = 15.0) -> list[int]:
    """Wait up to ``within`` seconds for ``pids`` to end; return the ones still running."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if running(p)]


@pytest.fixture
def reaper():
    """Kill, by pid, any worker a failing test leaves behind."""
    left: list[int] = []
    yield left
    for pid in left:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_killing_the_main_process_takes_the_workers_with_it(tmp_path, reaper):
    with subprocess.Popen(LONG, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as proc:
        workers = sampling_workers(proc)
        reaper.extend(workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert all_gone(workers) == []


STOPPED = ("everything stopped, sampling workers too; output files are written whole or not "
           "at all\n")
WORKER_STOPPED = ("interrupted: a sampling worker got Ctrl-C (SIGINT); every worker is stopped "
                  "and nothing is written\n")


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "group", "status", "said"), [
    (signal.SIGTERM, False, 143, ["interrupted by SIGTERM: " + STOPPED]),
    (signal.SIGINT, False, 130, ["interrupted by Ctrl-C (SIGINT): " + STOPPED]),
    # Ctrl-C on a terminal reaches the whole process group: whoever notices first says so
    (signal.SIGINT, True, 130, ["interrupted by Ctrl-C (SIGINT): " + STOPPED, WORKER_STOPPED]),
], ids=["sigterm", "sigint", "ctrl-c-to-the-group"])
def test_sigterm_stops_everything_like_ctrl_c(tmp_path, reaper, stop, group, status, said):
    out = tmp_path / "run.nc"
    with subprocess.Popen([*LONG, "-o", str(out)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=group) as proc:
        workers = sampling_workers(proc)
        reaper.extend(workers)
        if group:
            os.killpg(proc.pid, stop)
        else:
            proc.send_signal(stop)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert stderr in said
    assert stdout == ""
    assert all_gone(workers, within=5.0) == []
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_ctrl_c_to_one_worker_interrupts_the_run(tmp_path, reaper):
    out = tmp_path / "run.nc"
    with subprocess.Popen([*LONG, "-o", str(out)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        workers = sampling_workers(proc)
        reaper.extend(workers)
        os.kill(workers[0], signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr == WORKER_STOPPED
    assert stdout == ""
    assert all_gone(workers, within=5.0) == []
    assert os.listdir(tmp_path) == []


SAVER = """
import sys
from pathlib import Path
import typer
from plausibly.cli.common import handles_errors
from plausibly.models.outputs import write_atomic

@handles_errors
def save() -> None:
    data = b"n" * (64 << 20)
    print("ready", flush=True)
    write_atomic(Path(sys.argv[1]), data, force=True)

try:
    save()
except typer.Exit as stop:
    sys.exit(stop.exit_code)
"""


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path, delay):
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    old, new = digest(target), hashlib.sha256(b"n" * (64 << 20)).hexdigest()
    with subprocess.Popen([sys.executable, "-c", SAVER, str(target)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    # 143: stopped (the file is old, or new if the signal came while it was published);
    # 0 or ended by the signal itself (-15): the command had finished before the signal
    assert proc.returncode in (143, 0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path) == ["big.bin"]  # no .big.bin.XXXXXXXX.tmp
    assert digest(target) == new if proc.returncode != 143 else digest(target) in (old, new)
