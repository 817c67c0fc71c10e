"""Inputs that pass ``check`` must not crash the commands afterwards (#11 item 9)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app

DATA = Path(__file__).parents[1] / "data"
SQUAD = DATA / "firing_squad.toml"
FIXED = DATA / "firing_squad_fixed.toml"
JUDGED = DATA / "firing_squad_priors.toml"
runner = CliRunner()


def fixed_set(tmp_path: Path, **lone: float) -> Path:
    """The fixed firing-squad prior set with ``node__given_cause`` lone numbers replaced."""
    text = FIXED.read_text()
    raw = tomllib.loads(text)
    for key, value in lone.items():
        node, cause = key.split("__given_")
        old = f"given.{cause} = {raw['nodes'][node]['given'][cause]!r}"
        head, tail = text.split(f"[nodes.{node}]")
        assert old in tail.split("[nodes.")[0]
        text = head + f"[nodes.{node}]" + tail.replace(old, f"given.{cause} = {value!r}", 1)
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- tiny fixed probabilities


def test_tiny_fixed_probabilities_pass_check_and_answer(tmp_path):
    """1e-300 judged twice on history's path: was `nan` in the table and a traceback in JSON."""
    tiny = fixed_set(tmp_path, rifleman_a__given_captain=1e-300, death__given_rifleman_a=1e-300)
    assert runner.invoke(app, ["check", str(SQUAD), str(tiny)]).exit_code == 0
    table = runner.invoke(app, ["estimate", str(SQUAD), "-p", str(tiny)])
    assert table.exit_code == 0, table.output
    assert "nan" not in table.stdout.lower()
    result = runner.invoke(app, ["estimate", str(SQUAD), "-p", str(tiny), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["pod"]: r for r in json.loads(result.stdout)["results"]}
    assert rows["a_refrains"]["counterfactual"]["mean"] == pytest.approx(1.0)
    assert rows["history"]["counterfactual"]["mean"] == pytest.approx(1.0)


def test_a_history_below_double_precision_is_refused_with_exit_2(tmp_path):
    tiny = fixed_set(tmp_path, death__given_rifleman_a=1e-300, death__given_rifleman_b=1e-300)
    for fmt in ("table", "json"):
        result = runner.invoke(app, ["estimate", str(SQUAD), "-p", str(tiny), "--format", fmt])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "what happened has probability 0 in double precision" in result.stderr
        assert "fix: judge the probabilities on history's path less extremely" in result.stderr
        assert result.stdout == ""


# ----------------------------------------------------------------- a bound that underflows


@pytest.mark.slow
def test_a_bound_that_underflows_samples(tmp_path):
    """At most 0 of 2,000: P ~ exp(-1,386) at the prior median, 0 in floating point.

    Gave PyMC's "Bad initial energy" traceback and exit 1; the posterior
    pushes the court to almost never order an execution.
    """
    scenario = tmp_path / "bounded.toml"
    scenario.write_text(SQUAD.read_text() + '''
[[data]]
node = "court_order"
given = {}
at_most = 0
trials = 2000
note = "a bound far below the prior's median"
''')
    assert runner.invoke(app, ["check", str(scenario), str(JUDGED)]).exit_code == 0
    result = runner.invoke(app, ["estimate", str(scenario), "-p", str(JUDGED), "--draws", "100",
                                 "--tune", "100", "--seed", "3", "--allow-unconverged",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["diagnostics"]["squad"]["divergences"] == 0


# ------------------------------------------------------------- ids that end in a newline


def test_ids_ending_in_a_newline_are_refused(tmp_path):
    """"$" matches before a final newline: `"court_order\\n"` passed as a snake_case id."""
    text = SQUAD.read_text()
    text = text.replace('id = "firing_squad"', 'id = "firing_squad\\n"')
    text = text.replace("[nodes.death]", '[nodes."death\\n"]')
    text = text.replace('outcome = "death"', 'outcome = "death\\n"')
    text = text.replace('effect = "death"', 'effect = "death\\n"')
    text = text.replace("[pods.a_refrains]", '[pods."a_refrains\\n"]')
    text = text.replace('by = ["#1 Pearl"]', 'by = ["#1 Pearl\\n"]', 1)
    scenario = tmp_path / "newlines.toml"
    scenario.write_text(text)
    result = runner.invoke(app, ["check", str(scenario)])
    assert result.exit_code == 2, result.output
    for where, value in [("id", "firing_squad\\n"), ("outcome", "death\\n"),
                         ("nodes.death\n", "death\\n"), ("pods.a_refrains\n", "a_refrains\\n")]:
        assert f"{where}: '{value}' is not a snake_case id" in result.stderr, where
    assert "edges[0].by[0]: '#1 Pearl\\n' is not a post citation" in result.stderr


def test_a_prior_set_id_ending_in_a_newline_is_refused(tmp_path):
    priors = tmp_path / "p.toml"
    priors.write_text(JUDGED.read_text().replace('id = "squad"', 'id = "squad\\n"'))
    result = runner.invoke(app, ["check", str(SQUAD), str(priors)])
    assert result.exit_code == 2, result.output
    assert "id: 'squad\\n' is not a snake_case id" in result.stderr


def test_snake_case_and_citations_match_the_whole_text():
    from plausibly.models.validate import CITATION, SNAKE

    assert SNAKE.match("court_order") and not SNAKE.match("court_order\n")
    assert CITATION.match("#7 Garetor") and not CITATION.match("#7 Garetor\n")
    assert not CITATION.match("#7\n")

