"""Tables on a terminal 80 and 120 columns wide: nothing cut, nothing past the edge.

On an 80-column terminal the tables once cut POD ids and prior-set ids to
``kronst…``/``contin…`` and wrapped every HDI over three lines. Now no line is
wider than the terminal, every id a user might type is printed whole, and
every HDI ``[a, b]`` stays on one line, for estimate, compare, explain,
sensitivity and show on the bundled scenario (exact runs with fixed prior
sets, except sensitivity, which needs a sampled run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.scenario import load_scenario

runner = CliRunner()
BUNDLED = Path(load_scenario("ussr_1930").path or "").parents[1] / "priors"
SETS = ["contingency", "ideology", "reference", "revolution", "structure"]
USSR = load_scenario("ussr_1930")
PODS = [p.id for p in USSR.pods]
IN_SCOPE = [p.id for p in USSR.pods if p.scope == "in"]  # the rest: one line each, apart
EVENTS = [n.id for n in USSR.nodes]
OUTCOMES = [o.name for o in USSR.outcomes]

#: A terminal as rich sees one (TTY_COMPATIBLE), of a given width (COLUMNS), without colour.
TERMINAL: dict[str, str | None] = {
    "TTY_COMPATIBLE": "1", "TERM": "dumb", "LINES": "50", "NO_COLOR": "1",
    "FORCE_COLOR": None, "CLICOLOR_FORCE": None, "COLORTERM": None,
}
HDI = re.compile(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]")
NUMBER = r"-?\d+\.\d+"


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> dict[str, str]:
    """Each bundled prior set with every judgement fixed at its median: nothing to sample."""
    folder = tmp_path_factory.mktemp("fixed")
    out = {}
    for name in SETS:
        text = (BUNDLED / f"{name}.toml").read_text("utf-8")
        text = re.sub(rf"\[\s*({NUMBER})\s*,\s*({NUMBER})\s*,\s*({NUMBER})\s*\]", r"\2", text)
        if "[default]" not in text:
            text = text.replace("\n[nodes.", "\n[default]\nbase = 0.5\ngiven = 0.5\n\n[nodes.", 1)
        path = folder / f"{name}.toml"
        path.write_text(text, "utf-8")
        out[name] = str(path)
    return out


def terminal(args: list[str], width: int) -> str:
    """What a command prints on a terminal ``width`` columns wide; no line is wider."""
    result = runner.invoke(app, args, env={**TERMINAL, "COLUMNS": str(width)})
    assert result.exit_code == 0, (result.output, result.exception)
    out = result.stdout
    assert "\x1b" not in out
    too_wide = [line for line in out.splitlines() if cell_len(line.rstrip()) > width]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in out  # nothing cut short
    return out


def whole(words: list[str], out: str) -> None:
    """Each word is printed whole: not cut, not broken over lines."""
    for w in words:
        assert re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", out), w


def hdis(out: str) -> int:
    """How many HDIs the output holds; each is on one line (none is broken)."""
    for line in out.splitlines():
        for start in re.finditer(r"\[\d\.", line):
            assert re.compile(r"\[\d\.\d{3}, \d\.\d{3}\]").match(line, start.start()), line
        assert not re.search(r"\[\d\.\d{3},\s*[│┃]?\s*$", line), line
    return len(HDI.findall(out))


@pytest.mark.parametrize("width", [80, 120])
def test_estimate(fixed, width):
    # few draws: the fixed sets still draw their judged soft-POD strengths per draw
    out = terminal(["estimate", "-p", fixed["contingency"], "--draws", "100"], width)
    whole(PODS + OUTCOMES, out)
    # per outcome: interventional and counterfactual per ranked row, one per out-of-scope POD
    per_outcome = 2 * (len(IN_SCOPE) + 1) + len(PODS) - len(IN_SCOPE)
    assert hdis(out) == len(OUTCOMES) * per_outcome


@pytest.mark.parametrize("width", [80, 120])
def test_compare(fixed, width):
    out = terminal(["compare", *(a for name in SETS for a in ("-p", fixed[name])),
                    "--draws", "100"], width)
    whole(PODS + SETS + OUTCOMES, out)
    assert hdis(out) == len(OUTCOMES) * (len(PODS) + 1)  # the pool's, per outcome
    assert "cont = contingency; ideo = ideology; refe = reference; revo = revolution;" in out
    assert out.count("exact (every parameter fixed: nothing to sample)") == len(SETS)


@pytest.mark.parametrize("width", [80, 120])
def test_explain(fixed, width):
    out = terminal(["explain", "kronstadt_succeeds", "-p", fixed["contingency"],
                    "--draws", "100"], width)
    # every event but the outcomes' events; the POD chance; each outcome's
    # counterfactual, interventional and route
    events = [e for e in EVENTS if e not in USSR.outcome_events]
    assert hdis(out) == len(events) + 1 + 3 * len(OUTCOMES)
    whole(["kronstadt_succeeds", *OUTCOMES], out)


@pytest.mark.parametrize("width", [80, 120])
def test_show(width):
    out = terminal(["show"], width)
    whole(PODS + EVENTS, out)  # the claims' causes and effects are events too


@pytest.mark.slow
@pytest.mark.parametrize("width", [80, 120])
def test_sensitivity(width):
    out = terminal(["sensitivity", "-p", "contingency", "--draws", "100", "--tune", "100",
                    "--allow-unconverged"], width)
    whole(PODS, out)
    flat = " ".join(out.split())
    # the full headers, or short ones and a legend that says what they stand for
    assert "prior sensitivity" in flat and "likelihood sensitivity" in flat
    for note_start in ("prior / likelihood sensitivity: power-scaling",
                       "associated judgements: the sampled judgements"):
        assert note_start in flat


@pytest.mark.parametrize("width", [80, 120])
def test_show_version_2(width):
    """States, gates, interactions, every outcome and a POD's scope fit too."""
    v2 = str(Path(__file__).parents[1] / "data" / "v2_small.toml")
    out = terminal(["show", v2], width)
    whole(["civil_war", "war_communism", "regime_1930>=open_party", "(requires)", "no_soviets",
           "milder_war"], out)
    flat = " ".join(out.split("│")).split()
    text = " ".join(flat)
    assert "short < long < long_and_brutal" in text
    assert "scope: out" in text and "Interactions" in text


def test_small_numbers_keep_their_digits():
    """A route is often below 0.001: printed with 2 significant digits, not as 0.000."""
    from plausibly.cli.render import small_number

    assert [small_number(x) for x in (None, 0.0, 0.122, 0.01, 0.0097, 0.00023)] == [
        "n/a", "0.000", "0.122", "0.010", "9.7e-03", "2.3e-04"]
