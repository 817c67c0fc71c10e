"""No lost work: a write killed at any moment leaves the old file or the new one."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plausibly.models.files import write_atomic
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")

WRITER = """
import sys
from pathlib import Path
from plausibly.models.files import write_atomic
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
