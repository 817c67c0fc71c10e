"""Nothing but the output on the terminal, on a fresh machine (#11 item 22).

ArviZ warns about its coming 1.0 refactor (a FutureWarning) the first time it
is imported each day, per user: a stamp file in the user's cache. PyMC
imports arviz, and did so first, outside plausibly's quiet import, so a
newcomer's first ``plausibly compare`` printed the warning above the table.
Each check here runs in a new process with ``-W default`` (every warning
shown once) and an empty cache directory, so arviz has no stamp.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")


def fresh(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -W default ARGS`` with caches that have never seen arviz nor this model."""
    cache = tmp_path / f"cache{len(list(tmp_path.glob('cache*')))}"
    cache.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONWARNINGS", "PLAUSIBLY_CACHE_DIR")}
    # where arviz keeps its once-a-day stamp, and the sampler its programs: a first run
    # builds the model with PyMC, whatever the other tests have built
    env["XDG_CACHE_HOME"] = str(cache)
    return subprocess.run([sys.executable, "-W", "default", *args], capture_output=True,
                          text=True, env=env, timeout=600, check=False)


def test_the_environment_is_fresh_enough_to_warn(tmp_path):
    """The control: in this environment a bare ``import pymc`` does print the warning."""
    result = fresh(tmp_path, "-c", "import pymc")
    assert result.returncode == 0, result.stderr
    assert "FutureWarning" in result.stderr and "ArviZ is undergoing" in result.stderr


def test_importing_the_sampler_the_way_plausibly_does_is_quiet(tmp_path):
    code = ("from plausibly.cli import app, compare, run\n"
            "from plausibly.priors import comparison, report\n"
            "from plausibly.models import inference, pymc_model, sampling, store\n"
            "from plausibly.models.network import Network\n"
            "from plausibly.models.scenario import load_scenario\n"
            "from plausibly.priors.catalog import load_prior_sets\n"
            f"s = load_scenario({SQUAD!r})\n"
            f"(_, f), = load_prior_sets(s, [{JUDGED!r}])\n"
            "pymc_model.build_model(Network.from_scenario(s), f.parameter_prior(s))\n")
    result = fresh(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["compare", "estimate", "report"])
def test_help_is_quiet(tmp_path, command):
    result = fresh(tmp_path, "-m", "plausibly.cli", command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.slow
def test_a_first_estimate_prints_only_its_output(tmp_path):
    """A tiny real run: the only lines on stderr are its own convergence report."""
    result = fresh(tmp_path, "-m", "plausibly.cli", "estimate", SQUAD, "-p", JUDGED,
                   "--draws", "10", "--tune", "10", "--allow-unconverged", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{")
    own = ("UNCONVERGED squad: ", "continuing because of --allow-unconverged")
    assert [line for line in result.stderr.splitlines() if not line.startswith(own)] == []
