"""check, show, graph through the command line: exit codes and whole messages."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from plausibly.cli.app import app

DATA = Path(__file__).parents[1] / "data"
runner = CliRunner()


def test_check_bundled_files():
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "ok  " in result.output
    assert ("scenario ussr_1930: 30 events (1767-1930), 62 edges (15 gates), 1 interaction, "
            "4 outcomes, 29 PODs (4 soft, 3 out of scope), 1 data row"
            ) in " ".join(result.output.split())
    assert " ".join(result.output.split()).count("judges 99 of 99 parameters") == 5
    assert result.output.rstrip().splitlines()[-1].endswith("0 with problems")


def test_check_takes_bundled_ids_and_shows_where_the_files_are():
    # as every other command, check takes a bundled id; a bundled file is shown
    # by the path a user can open, not by the editable install's link to it
    result = runner.invoke(app, ["check", "ussr_1930", "ideology"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("ok  ")]
    assert len(lines) == 2 and "scenario ussr_1930" in lines[0]
    assert "prior set ideology for ussr_1930" in lines[1]
    for line in runner.invoke(app, ["check"]).stdout.splitlines():
        if line.startswith("ok  "):
            shown = line[4:].split(": ", 1)[0]
            assert "__editable__" not in shown and Path(shown).is_file(), shown


def test_check_reports_every_file_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "bad"\ntitle = "x"\noutcome = "nope"\nsource = "s"\npods = {}\n'
                   '[nodes.a]\nlabel = "A"\nyear = 1\n')
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = runner.invoke(app, ["check", str(DATA / "firing_squad.toml"), str(bad), str(empty)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error {bad}: 2 problems\n"
        f"{bad}: edges: is missing\n    fix: add 'edges = ...'\n"
        f"{bad}: outcome: 'nope' is not a node\n    fix: name one of the [nodes.*] tables\n"
        f"error {empty}: 1 problem\n"
        f"{empty}: is empty\n    fix: write a scenario or prior set in TOML; see the README\n")
    assert "checked 3 files: 1 ok, 2 with problems" in result.stdout


def test_show_lists_events_claims_and_pods():
    result = runner.invoke(app, ["show", str(DATA / "firing_squad.toml")])
    assert result.exit_code == 0
    out = result.stdout[result.stdout.index("Events"):]
    assert out.index("court_order") < out.index("rifleman_a") < out.index("death")
    assert "captain -> rifleman_a" in out and "a_half_hearted" in out
    assert "A's resolve is shaken" in out


def test_check_a_version_2_scenario():
    path = DATA / "v2_small.toml"
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"ok  {path}: scenario v2_small: 7 events (1917-1930), 8 edges (3 gates), "
        "1 interaction, 2 outcomes, 3 PODs (2 soft, 1 out of scope), 1 data row\n"
        "checked 1 file: 1 ok, 0 with problems\n")


def test_show_a_version_2_scenario():
    result = runner.invoke(app, ["show", str(DATA / "v2_small.toml")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "(v2_small; outcomes: democracy_1930, regime_1930>=open_party)" in out
    assert "states: short < long < long_and_brutal" in out
    assert "civil_war>=long (requires)" in out  # a gate among war_communism's causes
    assert "soviet_state -> democracy_1930 (requires)" in out
    assert "civil_war>=long & centralism -> party_brutalized" in out
    assert "#11 Kim; in part: #12 Lu" in out
    assert "civil_war={short: 0.6, long: 0.4}" in out
    assert "scope: out (removes the question; reported apart, never ranked)" in out
    assert "long=0.3, long_and_brutal=0.7" in out


def test_graph_dot_svg_png(tmp_path):
    dot = runner.invoke(app, ["graph", str(DATA / "firing_squad.toml")])
    assert dot.stdout.startswith('digraph "firing_squad" {')
    assert '"rifleman_a" -> "death"' in dot.stdout
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    assert runner.invoke(app, ["graph", "ussr_1930", "-o", str(svg)]).exit_code == 0
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert runner.invoke(app, ["graph", "-o", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = runner.invoke(app, ["graph", "-o", str(png)])
    assert again.exit_code == 2
    assert again.stderr == (f"error: 1 problem\n{png}: exists already\n"
                            "    fix: choose another name, or add --force to overwrite it\n")
    assert runner.invoke(app, ["graph", "-o", str(png), "--force"]).exit_code == 0


def test_unknown_scenario_is_a_clean_error():
    result = runner.invoke(app, ["show", "nowhere"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: 1 problem\nnowhere: is neither a file nor a bundled")
