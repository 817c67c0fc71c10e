"""Only regular files are read, and never more than their size limit.

A FIFO given as a scenario used to hang for ever; a scenario that is a
symbolic link to ``/dev/zero`` was read until MemoryError; a file that does
not say its size (``/proc``) or grows while it is read was read whole (run
files: ``tests/cli/test_run_files.py``). ``--draws``, ``--tune`` and
``--chains`` had no upper bound: ``--draws 10000000`` was accepted.
Each case runs the console script in a subprocess with a time limit and a
memory limit (RLIMIT_AS), so that a regression fails the test instead of
hanging the suite or exhausting the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.files import MAX_FILE_BYTES, read_toml

runner = CliRunner()
#: a command that reads no input needs far less; reading /dev/zero needs more, quickly
MEMORY = 3 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def plausibly(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The console script on ``args``; a hang fails the test after ``timeout`` seconds."""
    return subprocess.run([sys.executable, "-m", "plausibly.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory)


def block(path: str, message: str) -> str:
    """What `check` prints on stderr for one bad file."""
    n = message.count("\n    fix: ")
    return f"error {path}: {n} problem{'s' if n != 1 else ''}\n{message}\n"


def test_a_fifo_scenario_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "s.toml")
    result = plausibly("check", "s.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == block("s.toml", (
        "s.toml: is a FIFO (named pipe), not a regular file\n"
        "    fix: name a scenario or prior set file: plausibly reads only regular files"))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused_without_reading(tmp_path, device):
    (tmp_path / "s.toml").symlink_to(device)
    result = plausibly("estimate", "s.toml", "-p", "contingency", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "error: 1 problem\n"
        "s.toml: is a character device, not a regular file\n"
        "    fix: name a scenario file: plausibly reads only regular files\n")


@pytest.mark.skipif(not os.access("/proc/self/pagemap", os.R_OK),
                    reason="needs Linux's /proc/self/pagemap")
def test_a_file_that_does_not_say_its_size_is_read_only_to_the_limit(tmp_path):
    # /proc/self/pagemap is a regular file of size 0 that reads on for gigabytes
    (tmp_path / "s.toml").symlink_to("/proc/self/pagemap")
    result = plausibly("check", "s.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == block("s.toml", (
        "s.toml: is over 5,000,000 bytes (it grew while being read, or does not say its "
        "size); a scenario or prior set file is at most 5,000,000 bytes\n"
        "    fix: check that this is really a scenario or prior set file (TOML text)"))


def test_a_file_that_grows_after_its_size_is_read(tmp_path, monkeypatch):
    """The limit holds while reading: a file that says 10 bytes is still read only so far."""
    import plausibly.models.files as files

    path = tmp_path / "s.toml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 100))
    real = os.fstat

    def small(fd: int) -> os.stat_result:
        s = real(fd)
        return os.stat_result((s.st_mode, *tuple(s)[1:6], 10, *tuple(s)[7:]))

    monkeypatch.setattr(files.os, "fstat", small)
    data, problems = read_toml(path, "scenario")
    assert data is None
    assert [p.message for p in problems] == [
        "is over 5,000,000 bytes (it grew while being read, or does not say its size); a "
        "scenario file is at most 5,000,000 bytes"]


@pytest.mark.parametrize(("option", "value", "most"), [
    ("--draws", "10000000", "20000"), ("--tune", "10000000", "50000"),
    ("--chains", "1000", "8")])
def test_sampling_options_are_bounded_by_memory(option, value, most):
    # a scenario that does not exist: before the bound, this failed on the scenario
    result = runner.invoke(app, ["estimate", "no_such_scenario.toml", "-p", "contingency",
                                 option, value], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert (f"Invalid value for '{option}': Input should be less than or equal to {most} "
            in result.stderr)
    help_text = runner.invoke(app, ["estimate", "--help"], env={"COLUMNS": "200"}).stdout
    assert f"<=x<={most}]" in help_text


SAVE_AFTER_SWAP = """
import os, shutil, sys
from pathlib import Path
from plausibly.models.errors import PlausiblyError
from plausibly.models.inference import estimate
from plausibly.models.scenario import load_scenario
from plausibly.models.store import save_run
from plausibly.priors.elicitation import load_prior_set
from plausibly.priors.fit import fit_prior_set

squad, fixed = sys.argv[1:3]
shutil.copyfile(squad, "squad.toml")
s = load_scenario("squad.toml")
run = estimate(s, fit_prior_set(load_prior_set(fixed, s), s).parameter_prior(s))
os.unlink("squad.toml")
os.mkfifo("squad.toml")  # replaced between reading and saving
try:
    save_run(run, Path("run.nc"))
except PlausiblyError as err:
    print(err)
print(Path("run.nc").exists())
"""


def test_a_scenario_replaced_by_a_fifo_before_saving_is_not_read(tmp_path):
    data = Path(__file__).parents[1] / "data"
    inputs = [str(data / "firing_squad.toml"), str(data / "firing_squad_fixed.toml")]
    result = subprocess.run([sys.executable, "-c", SAVE_AFTER_SWAP, *inputs],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            preexec_fn=_limit_memory)
    assert result.stdout == (
        "squad.toml: is a FIFO (named pipe), not a regular file\n"
        "    fix: name a scenario file: plausibly reads only regular files\nFalse\n"), result.stderr
