"""What a newcomer meets first: help that shows its brackets, --version, one clear
mismatch, and the README's file format (#11 item 21)."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.errors import ElicitationError
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set

ROOT = Path(__file__).parents[2]
SQUAD = str(ROOT / "tests" / "data" / "firing_squad.toml")
runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)


def flat(text: str) -> str:
    """Help text without its boxes and line breaks, for finding a phrase in it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_every_bracket_it_was_written_with(name):
    """rich markup read "[default]" and "[brackets]" as tags and dropped them."""
    command = typer.main.get_command(app).commands[name]
    written = [inspect.getdoc(command.callback) or ""]
    written += [getattr(p, "help", None) or "" for p in command.params]
    shown = flat(runner.invoke(app, [name, "--help"], env={"COLUMNS": "100"}).stdout)
    for text in written:
        for bracket in re.findall(r"\\?\[[^\]\n]*\]", text):
            assert flat(bracket.removeprefix("\\")) in shown, (name, bracket)


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"plausibly {version('plausibly')}\n"
    assert "--version" in runner.invoke(app, ["--help"]).stdout


def test_version_is_eager():
    """--version answers before anything else is parsed or run."""
    result = runner.invoke(app, ["--version", "no_such_command"])
    assert result.exit_code == 0 and result.stdout.startswith("plausibly ")


def test_a_prior_set_for_another_scenario_is_one_problem():
    """Was 23 problems: the mismatch, then 22 nodes 'not an event of' the wrong scenario."""
    squad = load_scenario(SQUAD)
    with pytest.raises(ElicitationError) as err:
        load_prior_set("contingency", squad)
    (problem,) = err.value.problems
    assert problem.key == "scenario"
    assert problem.message == "this prior set is for scenario 'ussr_1930', not 'firing_squad'"
    result = runner.invoke(app, ["estimate", SQUAD, "-p", "contingency"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 1 problem\n")


def test_the_mismatch_still_comes_with_the_files_other_top_level_problems(tmp_path):
    text = (ROOT / "priors" / "contingency.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('id = "contingency"', 'id = "Contingency"', 1))
    with pytest.raises(ElicitationError) as err:
        load_prior_set(bad, load_scenario(SQUAD))
    assert [p.key for p in err.value.problems] == ["id", "scenario"]


def test_the_readme_states_the_file_rules_a_newcomer_trips_on():
    readme = (ROOT / "README.md").read_text()
    formats = readme[readme.index("## File formats"):]
    formats = " ".join(formats[: formats.index("\n## ", 3)].split())
    assert '"#N Author"' in formats
    assert "`why` is required" in formats
