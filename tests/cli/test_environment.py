"""The machine the command runs on: Ctrl-C while the command is still starting.

Each runs the real command in a new process, bounded in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data"
SQUAD = DATA / "firing_squad.toml"
SCRIPT = Path(sys.executable).with_name("plausibly")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "plausibly.cli"]


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
from plausibly.cli.app import main
sys.exit(main())
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(("module", "said"), [
    ("typer", "interrupted\n"),                   # imported by plausibly.cli.app
    ("plausibly.cli.elicit", "interrupted\n"),    # the commands, imported by it too
    # inside the command: its own message
    ("plausibly.models.scenario", "interrupted (output files are written whole or not at all)\n"),
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
    of plausibly: its own site import, some 20 ms on an idle machine, longer on a busy
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
            and "Fatal Python error: init_import_site" not in err]
    for delay, code, stderr in ours:
        assert "Traceback" not in stderr, (delay, stderr)
        assert code in (0, 130), (delay, code, stderr)  # 0: it had finished already
    assert any(code == 130 for _, code, _ in ours), outcomes
