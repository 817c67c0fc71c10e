"""Text from a scenario or prior set is printed and drawn as written: never as rich markup
or as matplotlib mathematics.

A title, label, claim or POD label such as ``[/x]`` once crashed ``show``, ``estimate``
and ``explain`` (rich read it as a closing tag), ``[sic]`` and ``[bold]`` disappeared
(read as styles), and ``$x$`` was drawn as an italic x in the pictures.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from xml.sax.saxutils import unescape

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app

DATA = Path(__file__).parents[1] / "data"
runner = CliRunner()

TITLE = "Squad [/x] [sic] [bold]loud $x$ & more"
COURT = "The court [/x] orders [sic] it"
CLAIM = "The captain [bold]signals[/bold] when told [/x]."
POD = "Rifleman A [/x] refrains $y$ [sic]"
WHY = "Half [/x] of [dim]the time[/]."
SOURCE = "Pearl [red]2000[/red] [/x]"
PRIORS = "Fixed [/x] squad [sic]"
EVERY = [TITLE, COURT, CLAIM, POD, WHY, SOURCE]


@pytest.fixture
def markup(tmp_path) -> tuple[str, str]:
    """The firing squad with brackets and dollars in every text field, and a fixed prior set."""
    text = (DATA / "firing_squad.toml").read_text()
    for old, new in [('title = "Pearl\'s firing squad"', f'title = "{TITLE}"'),
                     ('label = "The court orders the execution"', f'label = "{COURT}"'),
                     ('claim = "The captain signals when the court orders it."',
                      f'claim = "{CLAIM}"'),
                     ('label = "Rifleman A does not fire"', f'label = "{POD}"'),
                     ('why = "A soft POD: A\'s resolve is shaken, not removed."',
                      f'why = "{WHY}"'),
                     ('source = "J. Pearl, Causality (2000), section 7.1.2"',
                      f'source = "{SOURCE}"')]:
        assert old in text
        text = text.replace(old, new)
    scenario = tmp_path / "markup.toml"
    scenario.write_text(text)
    fixed = (DATA / "firing_squad_fixed.toml").read_text().replace(
        'name = "Fixed firing squad"', f'name = "{PRIORS}"')
    priors = tmp_path / "fixed.toml"
    priors.write_text(fixed)
    return str(scenario), str(priors)


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    return " ".join(result.stdout.split())  # titles may wrap


def test_show_prints_every_text_as_written(markup):
    scenario, _ = markup
    out = run("show", scenario)
    for text in EVERY:
        assert text in out


def test_estimate_explain_compare_print_titles_and_labels_as_written(markup):
    scenario, priors = markup
    out = run("estimate", scenario, "-p", priors)
    assert TITLE in out and PRIORS in out
    out = run("explain", scenario, "a_refrains", "-p", priors)
    assert POD in out and COURT in out
    out = run("compare", scenario, "-p", priors)
    assert TITLE in out


def test_check_prints_file_names_as_written(markup, tmp_path):
    scenario, _ = markup
    odd = tmp_path / "[bold]odd[sic].toml"
    odd.write_text(Path(scenario).read_text())
    out = run("check", str(odd))
    assert f"ok {odd}:" in out


def dollar_glyph() -> str:
    """The id matplotlib gives the path of a drawn "$" (fonts' glyph index, in hex)."""
    from matplotlib import font_manager, ft2font

    font = ft2font.FT2Font(font_manager.findfont("DejaVu Sans"))
    return f'id="DejaVuSans-{font.get_char_index(ord("$")):x}"'


def drawn_as_written(svg: str, *texts: str) -> None:
    # each text element is preceded by a comment holding the text itself
    # (one comment per line: a wrapped label's lines follow each other)
    comments = " ".join(" ".join(unescape(c).split())
                        for c in re.findall(r"<!-- (.*?) -->", svg, flags=re.S))
    for text in texts:
        assert text in comments, text
    # and the dollar sign is drawn, not read as the start of mathematics (which would draw
    # an italic x from the oblique font instead)
    assert dollar_glyph() in svg
    assert "DejaVuSans-Oblique" not in svg


def test_graph_svg_draws_titles_and_labels_as_written(markup, tmp_path):
    scenario, _ = markup
    out = tmp_path / "g.svg"
    run("graph", scenario, "-o", str(out))
    drawn_as_written(out.read_text(), TITLE, COURT)


def test_forest_and_density_plots_draw_titles_as_written(markup, tmp_path):
    scenario, priors = markup
    forest, density = tmp_path / "f.svg", tmp_path / "d.svg"
    run("compare", scenario, "-p", priors, "--plot", str(forest))
    drawn_as_written(forest.read_text(), TITLE)
    run("estimate", scenario, "-p", priors, "--plot", str(density))
    drawn_as_written(density.read_text(), TITLE, PRIORS)


def test_report_shows_and_draws_every_text_as_written(markup, tmp_path):
    from html import unescape

    scenario, priors = markup
    out = tmp_path / "r.html"
    run("report", scenario, "-p", priors, "-o", str(out))
    page = out.read_text("utf-8")
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())
    for t in (TITLE, COURT, CLAIM, POD, WHY):
        assert t in text
    pictures = [base64.b64decode(m).decode() for m in
                re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
    graph, forest = pictures
    drawn_as_written(graph, TITLE, COURT)
    drawn_as_written(forest, TITLE)
