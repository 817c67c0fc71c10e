"""Command-line arguments: refused before any work when they cannot be honoured (#11 item 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.errors import UsageError
from plausibly.models.settings import MIN_CHAINS, SEED_MAX, Settings

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
RUN_V1 = str(DATA / "golden" / "run_v1.nc")
FEW = ["--draws", "10", "--tune", "10", "--allow-unconverged"]
runner = CliRunner()


def refused(args: list[str]) -> str:
    """Run, expect exit 2 with no traceback; return stderr."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


@pytest.fixture
def no_sampling(monkeypatch):
    """Make any sampling fail loudly: an argument mistake must be found before it."""

    def sampled(*args, **kwargs):
        raise AssertionError("sampled before refusing a bad argument")

    import plausibly.models.inference as inference
    import plausibly.priors.comparison as comparison

    monkeypatch.setattr(inference, "estimate_many", sampled)
    monkeypatch.setattr(comparison, "estimate_many", sampled)
    monkeypatch.setattr(comparison, "estimate", sampled)


# ------------------------------------------------------------------------------- --seed


@pytest.mark.parametrize("seed", ["-1", str(SEED_MAX + 1), str(2**64)])
def test_a_seed_out_of_range_is_refused(no_sampling, seed, tmp_path):
    stderr = refused(["estimate", SQUAD, "-p", JUDGED, "--seed", seed,
                      "-o", str(tmp_path / "run.nc")])
    assert "Invalid value for '--seed'" in stderr
    assert not (tmp_path / "run.nc").exists()


def test_settings_refuse_a_seed_out_of_range():
    for seed in (-1, SEED_MAX + 1):
        with pytest.raises(UsageError, match=r"--seed: .* seeds run from 0 to 9223372036854775807"):
            Settings(seed=seed)
    assert Settings(seed=0).seed == 0 and Settings(seed=SEED_MAX).seed == SEED_MAX


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, SEED_MAX])
def test_every_seed_in_range_samples_and_saves(seed, tmp_path):
    """The ends of the range, sampled and saved: the seed is a NetCDF int64 attribute.

    In a process of its own, like a user's: importing PyTensor here would raise
    this process's recursion limit (1,000 to 3,000), and the bad-input tests
    that follow read nesting 3,000 levels deep against that limit.
    """
    from plausibly.models.store import load_run

    out = tmp_path / "run.nc"
    result = subprocess.run([sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p",
                             JUDGED, *FEW, "--seed", str(seed), "-o", str(out), "--format",
                             "json"], capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    assert load_run(out).seed == seed


# ----------------------------------------------------------------------------- --sampler


@pytest.mark.slow
def test_both_samplers_run_from_the_command_line_and_say_which_ran(tmp_path):
    """--sampler pymc and the default (blackjax), end to end in processes of their own
    (see above), saved: the run records the sampler; the same seed, other numbers."""
    from plausibly.models.store import load_run

    runs = {}
    for sampler in ("blackjax", "pymc"):
        out = tmp_path / f"{sampler}.nc"
        result = subprocess.run([sys.executable, "-m", "plausibly.cli", "estimate", SQUAD, "-p",
                                 JUDGED, *FEW, "--sampler", sampler, "-o", str(out), "--format",
                                 "json"], capture_output=True, text=True, timeout=900,
                                check=False)
        assert result.returncode == 0, result.stderr
        runs[sampler] = json.loads(result.stdout)
        saved = load_run(out).idata
        assert saved.posterior.attrs["inference_library"] == sampler
    assert runs["blackjax"]["results"] != runs["pymc"]["results"]
    assert [r["pod"] for r in runs["blackjax"]["results"]] == [
        r["pod"] for r in runs["pymc"]["results"]]


def test_an_unknown_sampler_is_refused(no_sampling):
    result = runner.invoke(app, ["estimate", SQUAD, "-p", JUDGED, "--sampler", "stan"])
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # the box wraps the message
    assert "Invalid value for '--sampler': Value error, 'stan' is not one of 'blackjax', " \
        "'pymc'." in said


# ----------------------------------------------------------------------------- --chains


def test_one_chain_is_refused_and_says_why(no_sampling):
    stderr = " ".join(refused(["estimate", SQUAD, "-p", JUDGED, "--chains", "1"]).split())
    assert "Invalid value for '--chains': 1 chain cannot show convergence" in stderr
    assert "rank-normalised R-hat compares at least 2 chains" in stderr
    for command in (["compare", SQUAD], ["explain", SQUAD, "a_refrains", "-p", JUDGED],
                    ["sensitivity", SQUAD, "-p", JUDGED], ["report", SQUAD]):
        assert "1 chain cannot show convergence" in refused([*command, "--chains", "1"])


def test_settings_refuse_one_chain():
    with pytest.raises(UsageError) as err:
        Settings(chains=1)
    assert str(err.value).startswith("--chains: 1 chain cannot show convergence: rank-normalised "
                                     "R-hat compares at least 2 chains")
    assert f"fix: use --chains {MIN_CHAINS} or more" in str(err.value)


# --------------------------------------------------------------- --extremize and --weight


@pytest.mark.parametrize(("args", "message"), [
    (["--pool", "log", "--extremize", "0"], "--extremize: must be a finite number above 0, got 0"),
    (["--pool", "log", "--extremize", "-1.5"], "must be a finite number above 0, got -1.5"),
    (["--pool", "log", "--extremize", "nan"], "must be a finite number above 0, got nan"),
    (["--pool", "log", "--extremize", "inf"], "must be a finite number above 0, got inf"),
    (["--extremize", "2"], "--extremize: 2 applies to the log pool only"),
    (["--weight", "1"], "--weight: 1 weight for 2 prior sets"),
])
@pytest.mark.parametrize("command", ["compare", "report"])
def test_pool_options_are_checked_before_sampling(no_sampling, tmp_path, command, args, message):
    out = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    stderr = refused([command, SQUAD, "-p", JUDGED, "-p", FIXED, *args, *out])
    assert message in stderr
    assert "fix: " in stderr


def test_pool_options_are_checked_before_the_files_are_read(no_sampling):
    stderr = refused(["compare", SQUAD, "-p", "no_such_set", "--weight", "1", "--weight", "2",
                      "--extremize", "0"])
    assert "--weight: 2 weights for 1 prior set" in stderr
    assert "--extremize: must be a finite number above 0" in stderr


# -------------------------------------------------------------------------------- --from


@pytest.mark.parametrize(("args", "named"), [
    (["-o", "OUT"], ["-o/--output: --from samples nothing, so there is no new run to save"]),
    (["-p", JUDGED], ["-p/--priors: the prior set is the one saved in the run"]),
    ([SQUAD], ["SCENARIO: the scenario is the one saved in the run"]),
    (["--draws", "50", "--tune", "20", "--chains", "4", "--seed", "3"],
     ["--draws: ", "--tune: ", "--chains: ", "--seed: --from does not sample"]),
])
def test_from_refuses_what_it_would_ignore(no_sampling, tmp_path, args, named):
    out = tmp_path / "y.nc"
    args = [str(out) if a == "OUT" else a for a in args]
    stderr = refused(["estimate", "--from", RUN_V1, *args])
    for text in named:
        assert text in stderr
    assert stderr.count("fix: leave it out to re-render the saved run, or leave out --from "
                        "to sample anew") == len(named)
    assert not out.exists()


def test_from_names_every_refused_option_at_once(no_sampling, tmp_path):
    stderr = refused(["estimate", SQUAD, "--from", RUN_V1, "-p", JUDGED, "-o",
                      str(tmp_path / "y.nc"), "--seed", "2"])
    assert stderr.startswith("error: 4 problems\n")
    assert [line.split(":")[0] for line in stderr.splitlines()[1::2]] == [
        "SCENARIO", "-p/--priors", "-o/--output", "--seed"]


def test_from_keeps_what_applies_to_a_saved_run(no_sampling):
    result = runner.invoke(app, ["estimate", "--from", RUN_V1, "--pod", "a_refrains",
                                 "--hdi-prob", "0.5", "--format", "json", "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["hdi_prob"] == 0.5
    assert [r["pod"] for r in out["results"]] == ["history", "a_refrains"]
