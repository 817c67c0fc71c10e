"""Pictures: forest plot, posterior densities, the graph with a run's effects; their commands."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import PlausiblyError
from plausibly.models.inference import estimate
from plausibly.models.plots._layout import layout_boxes as _layout
from plausibly.models.plots.density import density_figure, density_plot
from plausibly.models.plots.dot import to_dot
from plausibly.models.plots.forest import forest_figure, forest_plot
from plausibly.models.plots.graph import draw_graph, graph_figure, render_graph, run_overlay
from plausibly.models.results import Run, edge_effects, summarize
from plausibly.models.scenario import load_scenario
from plausibly.models.store import save_run
from plausibly.priors.catalog import load_prior_sets
from plausibly.priors.comparison import compare

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
FIXED = str(DATA / "firing_squad_fixed.toml")
runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.fixture
def squad():
    return load_scenario(SQUAD)


@pytest.fixture
def exact_run(squad):
    (_, fitted), = load_prior_sets(squad, [FIXED])
    return estimate(squad, fitted.parameter_prior(squad))


@pytest.fixture
def spread_run(squad, exact_run):
    """A run whose counterfactual answers vary across draws (beta draws, no sampling)."""
    rng = np.random.default_rng(5)
    pods = exact_run.pods
    plaus = np.empty((2, 300, len(pods), 1, 2))
    for k, (a, b) in enumerate([(1.0, 1.0), (2.0, 8.0), (6.0, 3.0)]):
        plaus[:, :, k, 0, :] = rng.beta(a, b, size=(2, 300, 2))
    plaus[:, :, 0, 0, 1] = 1.0  # history: the prisoner died
    draws = xr.Dataset({"plausibility": (("chain", "draw", "pod", "outcome", "query"), plaus),
                        "rewrite": (("chain", "draw", "pod"), rng.beta(1.0, 1.0,
                                                                       (2, 300, len(pods))))},
                       coords={"pod": pods, "outcome": ["death"],
                               "query": ["interventional", "counterfactual"]})
    return Run(squad, "beta", "Beta draws", draws, Diagnostics(1.0, 500, 500, 0), 1)


def texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


# --------------------------------------------------------------------------- forest


def comparison(squad, *names):
    sets = load_prior_sets(squad, list(names))
    return compare(squad, [f for _, f in sets])


def test_forest_figure_has_a_ranked_row_per_pod_and_a_legend_entry_per_set(squad,
                                                                           second_fixed):
    c = comparison(squad, FIXED, second_fixed)
    per_set = [summarize(squad, r.priors, r.draws, 0.9) for r in (*c.runs, c.pooled)]
    fig = forest_figure(squad, per_set, 0.9)
    ax = fig.axes[0]
    pooled = {r.pod: r.counterfactual.mean for r in per_set[-1][1:]}
    assert texts(ax.get_yticklabels()) == [p.replace("_", " ") for p in
                                           sorted(pooled, key=pooled.get)]  # top = highest
    legend = texts(ax.get_legend().get_texts())
    base = per_set[-1][0].counterfactual.mean
    assert legend == ["linear pool", "lenient", "squad_fixed", "pool median",
                      "pool route (POD chance x counterfactual)",
                      f"history, no POD ({base:.2f})"]
    assert ax.get_legend().get_title().get_text() == "prior set"
    assert ax.get_title() == ("Pearl's firing squad\ncounterfactual plausibility of each POD, "
                              "ranked by the pool's counterfactual")
    assert ax.get_xlabel() == ("P(death) had the POD happened, given real history\n"
                               "(dot: posterior mean; tick: pool median; cross: pool route; "
                               "bar: 90% HDI)")
    left, right = ax.get_xlim()
    highest = max(r.counterfactual.hdi[1] for rows in per_set for r in rows)
    assert left < 0 < highest <= right <= 1.0


def test_forest_labels_and_bytes(squad):
    c = comparison(squad, FIXED)
    per_set = [summarize(squad, r.priors, r.draws, 0.94) for r in (*c.runs, c.pooled)]
    fig = forest_figure(squad, per_set, 0.94, labels=["fixed (w 1.00)", "pool"])
    assert texts(fig.axes[0].get_legend().get_texts())[:2] == ["pool", "fixed (w 1.00)"]
    assert forest_plot(squad, per_set, 0.94).startswith(PNG)
    svg = forest_plot(squad, per_set, 0.94, "svg")
    assert svg == forest_plot(squad, per_set, 0.94, "svg")  # reproducible bytes
    assert b"<svg" in svg


# --------------------------------------------------------------------------- densities


def test_density_figure_draws_a_row_per_pod_ranked(spread_run):
    fig = density_figure(spread_run, 0.94)
    ax = fig.axes[0]
    # means 0.2 (a_refrains) and 0.67 (a_half_hearted): ticks run bottom to top
    assert texts(ax.get_yticklabels()) == ["a refrains", "a half hearted"]
    assert ax.get_title() == ("Pearl's firing squad\nprior set beta (Beta draws): "
                              "counterfactual plausibility of each POD")
    assert ax.get_xlabel().startswith("P(death) had the POD happened, given real history")
    assert texts(ax.get_legend().get_texts()) == ["history, no POD (1.00)", "posterior mean",
                                                  "94% HDI"]
    assert len(ax.collections) >= 2  # one filled density per POD (plus HDI lines)
    only = density_figure(spread_run, 0.94, pods=["a_refrains"])
    assert texts(only.axes[0].get_yticklabels()) == ["a refrains"]


def test_density_of_an_exact_run_is_a_spike(exact_run):
    fig = density_figure(exact_run, 0.5)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 2
    assert texts(ax.get_legend().get_texts())[-1] == "50% HDI"
    assert density_plot(exact_run, 0.5, "png").startswith(PNG)


# --------------------------------------------------------------------------- graph


def test_layout_points_every_arrow_forward_and_keeps_boxes_apart():
    s = load_scenario("ussr_1930")
    heights = {n: 0.4 for n in s.order}
    pos, routes = _layout(s, heights)
    for e in s.edges:
        xs = [x for x, _ in routes[(e.cause, e.effect)]]
        assert xs == sorted(set(xs)), e  # strictly left to right
        assert pos[e.cause][0] < pos[e.effect][0]
    for a in s.order:
        for b in s.order:
            if a < b and pos[a][0] == pos[b][0]:
                assert abs(pos[a][1] - pos[b][1]) >= 0.4, (a, b)


def test_graph_figure_plain(squad):
    fig = graph_figure(squad)
    ax = fig.axes[0]
    assert texts(ax.get_xticklabels()) == ["1", "2", "3", "4"]
    assert ax.get_title("left") == "Pearl's firing squad"
    assert texts(ax.get_legend().get_texts()) == [
        "happened", "did not happen", "POD target", "outcome (death)", "claimed cause"]
    assert not ax.child_axes  # no colour bar without effects
    assert draw_graph(squad, "svg") == draw_graph(squad, "svg")


def test_graph_boxes_show_each_label_once_without_ids_or_years(squad):
    fig = graph_figure(squad)
    boxes = fig.axes[0].texts
    assert [" ".join(t.get_text().split()) for t in boxes] == [n.label for n in squad.nodes]
    for t, n in zip(boxes, squad.nodes, strict=True):
        lines = t.get_text().split("\n")
        assert n.id not in lines and n.id.replace("_", " ") not in lines
        assert str(n.year) not in lines  # the axis names the year
        assert t.get_fontsize() * 4 / 3 >= 10  # px at the picture's natural size
    ussr = load_scenario("ussr_1930")
    texts_ = [t.get_text() for t in graph_figure(ussr).axes[0].texts]
    # each label once (wrapped between words, or after a hyphen: "multi-" / "party"), an
    # event with states followed by its states in order, the one that happened bracketed
    want = []
    for n in ussr.nodes:
        want.append("".join(n.label.split()))
        if n.declared_states:
            want.append("<".join(f"[{x}]" if k == n.hard else x
                                 for k, x in enumerate(n.states)))
    assert ["".join(t.split()) for t in texts_] == want
    assert not {o.event for o in ussr.outcomes} & set(" ".join(texts_).split())


def test_edge_effects_are_the_log_odds_ratios(exact_run):
    effects = edge_effects(exact_run)
    assert effects[("court_order", "captain")] == pytest.approx(logit(0.99) - logit(0.01))
    assert effects[("rifleman_b", "death")] == pytest.approx(logit(0.9) - logit(0.01))
    assert len(effects) == 5


def test_graph_with_a_run_shows_effects_and_what_differs(squad, exact_run):
    overlay = run_overlay(exact_run, "a_refrains")
    assert overlay.highlight is not None
    assert overlay.highlight["rifleman_a"] == pytest.approx(1.0)  # A fired; now he does not
    assert overlay.highlight["court_order"] == 0.0
    fig = graph_figure(squad, strength=overlay.strength, highlight=overlay.highlight,
                       pod=overlay.pod, subtitle=overlay.subtitle)
    ax = fig.axes[0]
    bar, = ax.child_axes  # the colour bar
    assert bar.get_xlabel() == ("median log odds ratio of the cause (red promotes, blue "
                                "inhibits)")
    legend = texts(ax.get_legend().get_texts())
    assert "set by POD a_refrains" in legend
    assert "differs from history (outline ∝ probability)" in legend
    assert "differs 1.00" in " ".join(t.get_text() for t in ax.texts)
    assert ax.get_title("left").startswith("Pearl's firing squad\narrows: posterior median effect")
    dot = to_dot(squad, strength=overlay.strength, highlight=overlay.highlight, pod="a_refrains")
    assert f'label="{logit(0.99) - logit(0.01):+.2f}"' in dot
    assert "P(differs from history) 1.00" in dot and "POD: a_refrains" in dot
    assert "POD: a_half_hearted" not in dot


def test_run_overlay_errors(exact_run):
    with pytest.raises(PlausiblyError) as err:
        run_overlay(exact_run, "a_refrain", file="run.nc")
    assert str(err.value) == ("run.nc: pod: the run does not answer POD 'a_refrain' (did you "
                              "mean 'a_refrains'?)\n    fix: use one of: a_refrains, "
                              "a_half_hearted")
    old = dataclasses.replace(exact_run, draws=exact_run.draws.drop_vars(["a", "b", "term"]))
    with pytest.raises(PlausiblyError) as err:
        run_overlay(old, file="old.nc")
    assert str(err.value) == (
        "old.nc: the run holds no per-draw effects of the causes (variables 'a' and 'b'): "
        "it was saved by an older plausibly\n    fix: re-run 'plausibly estimate -o' to save "
        "it again")


def test_render_graph_formats(squad):
    assert render_graph(squad, "dot").startswith(b'digraph "firing_squad"')
    assert render_graph(squad, "png").startswith(PNG)
    assert render_graph(squad, "SVG").lstrip().startswith(b"<?xml")


# --------------------------------------------------------------------------- commands


@pytest.fixture
def saved(tmp_path, exact_run) -> Path:
    path = tmp_path / "run.nc"
    save_run(exact_run, path, priors_path=FIXED)
    return path


def test_graph_command_with_a_run(tmp_path, saved):
    png = tmp_path / "g.png"
    done = runner.invoke(app, ["graph", "--run", str(saved), "--pod", "a_refrains", "-o",
                               str(png)])
    assert done.exit_code == 0, done.output
    assert done.stdout == f"wrote {png}\n" and png.read_bytes().startswith(PNG)
    dot = runner.invoke(app, ["graph", "--run", str(saved)])
    assert dot.exit_code == 0
    assert '[tooltip="A\'s shot kills. (#1 Pearl)", color="' in dot.stdout
    assert f'label="{logit(0.95) - logit(0.01):+.2f}"' in dot.stdout
    wrong = runner.invoke(app, ["graph", "--run", str(saved), "--pod", "nope"])
    assert wrong.exit_code == 2
    assert wrong.stderr == (f"error: 1 problem\n{saved}: pod: the run does not answer POD "
                            "'nope'\n    fix: use one of: a_refrains, a_half_hearted\n")


def test_graph_command_marks_one_pod_without_a_run():
    dot = runner.invoke(app, ["graph", SQUAD, "--pod", "a_half_hearted"])
    assert dot.exit_code == 0
    assert "POD: a_half_hearted" in dot.stdout and "POD: a_refrains" not in dot.stdout
    bad = runner.invoke(app, ["graph", SQUAD, "--pod", "a_refrain"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert bad.stderr.startswith(f"error: 1 problem\n{SQUAD}: pods.a_refrain: unknown POD")


def test_graph_command_with_an_old_run(tmp_path, exact_run):
    old = tmp_path / "old.nc"
    save_run(dataclasses.replace(exact_run, draws=exact_run.draws.drop_vars(
        ["a", "b", "term"])), old)
    result = runner.invoke(app, ["graph", "--run", str(old), "-o", str(tmp_path / "g.svg")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: 1 problem\n{old}: the run holds no per-draw effects of the causes (variables "
        "'a' and 'b'): it was saved by an older plausibly\n    fix: re-run 'plausibly "
        "estimate -o' to save it again\n")
    assert not (tmp_path / "g.svg").exists()


def test_estimate_plot(tmp_path, saved):
    png, svg = tmp_path / "d.png", tmp_path / "d.svg"
    done = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--plot", str(png)])
    assert done.exit_code == 0, done.output
    assert png.read_bytes().startswith(PNG) and f"wrote {png}" in done.stdout
    again = runner.invoke(app, ["estimate", "--from", str(saved), "--pod", "a_refrains",
                                "--plot", str(svg), "-f", "json"])
    assert again.exit_code == 0, again.output
    assert b"<svg" in svg.read_bytes()
    refused = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--plot", str(png)])
    assert refused.exit_code == 2
    assert refused.stderr == (f"error: 1 problem\n{png}: exists already\n"
                              "    fix: choose another name, or add --force to overwrite it\n")
    pdf = tmp_path / "d.pdf"
    wrong = runner.invoke(app, ["estimate", SQUAD, "-p", FIXED, "--plot", str(pdf)])
    assert wrong.exit_code == 2
    assert wrong.stderr == (f"error: 1 problem\n{pdf}: unknown output type '.pdf'\n"
                            "    fix: use one of: .png, .svg\n")


def test_compare_plot(tmp_path, second_fixed):
    out = tmp_path / "forest.svg"
    done = runner.invoke(app, ["compare", SQUAD, "-p", FIXED, "-p", second_fixed, "--plot",
                               str(out)])
    assert done.exit_code == 0, done.output
    assert b"<svg" in out.read_bytes() and f"wrote {out}" in done.stdout


# ------------------------------------------------------------------- version 2 (#12 item 8)

V2 = str(DATA / "v2_small.toml")


@pytest.fixture(scope="module")
def v2_run():
    import sys

    from plausibly.models.network import Network

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from v2_priors import hand_prior

    s = load_scenario(V2)
    return estimate(s, hand_prior(Network.from_scenario(s)))  # fixed: the exact path


def _gate_lines(ax):
    """The open circles that end gates: one Line2D marker each."""
    return [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor()
            == "white"]


def test_v2_graph_figure_draws_states_gates_interactions_and_outcomes():
    from matplotlib.patches import FancyArrowPatch

    s = load_scenario(V2)
    ax = graph_figure(s).axes[0]
    shown = [t.get_text() for t in ax.texts]
    # states under the label, in their own (italic) text; the one that happened bracketed;
    # a disputed record has no brackets
    assert "[one_party] <\nopen_party <\nmany_parties" in shown
    assert "short < long <\nlong_and_brutal" in shown
    states = next(t for t in ax.texts if t.get_text().startswith("[one_party]"))
    assert states.get_style() == "italic"
    assert "The regime of 1930" in shown and "≥ long" in shown  # the gate on a state
    # three gates, each dashed and ending in an open circle; no arrowhead of its own
    assert len(_gate_lines(ax)) == 3
    dashed = [p for p in ax.patches if isinstance(p, FancyArrowPatch)
              and p.get_linestyle() not in ("-", "solid", ":", "dotted")]
    assert len(dashed) == 3
    # the interaction: two dotted lines to a joint, a dotted arrow on to its effect
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(dotted) == 2
    assert sum(isinstance(p, FancyArrowPatch) and p.get_linestyle() == ":"
               for p in ax.patches) == 1
    legend = texts(ax.get_legend().get_texts())
    assert legend == ["happened", "did not happen", "disputed or unknown", "POD target",
                      "outcomes (democracy_1930, regime_1930>=open_party)", "claimed cause",
                      "requires (gate)", "causes acting together (interaction)",
                      "a < b < [c]: states, least first; [c] happened"]
    # both outcomes outlined as the outcome always was (thicker than any other event)
    widths = sorted(p.get_linewidth() for p in ax.patches
                    if type(p).__name__ == "FancyBboxPatch")
    assert widths.count(0.8 + 1.2) == 2  # democracy_1930 and regime_1930


def test_v2_graph_png_and_svg_are_reproducible():
    s = load_scenario(V2)
    png, svg = draw_graph(s, "png"), draw_graph(s, "svg")
    assert png.startswith(PNG) and b"<svg" in svg
    assert draw_graph(s, "png") == png and draw_graph(s, "svg") == svg
    assert render_graph(s, "svg") == svg


def test_v2_run_colours_influences_and_interactions_and_leaves_gates_neutral(v2_run):
    s = v2_run.scenario
    effects = edge_effects(v2_run)
    influences = {(e.cause, e.effect) for e in s.edges if not e.gate}
    assert set(effects) == influences | {("civil_war & centralism", "party_brutalized")}
    overlay = run_overlay(v2_run, "milder_war")
    ax = graph_figure(s, strength=overlay.strength, highlight=overlay.highlight,
                      pod=overlay.pod, subtitle=overlay.subtitle).axes[0]
    assert len(ax.child_axes) == 1  # the colour bar
    assert len(_gate_lines(ax)) == 3
    dot = to_dot(s, strength=overlay.strength, highlight=overlay.highlight, pod=overlay.pod)
    for e in s.edges:
        line = next(ln for ln in dot.splitlines()
                    if ln.startswith(f'  "{e.cause}" -> "{e.effect}"'))
        if e.gate:
            assert 'color="#555555"' in line and "penwidth" not in line, line
        else:
            assert f'label="{effects[(e.cause, e.effect)]:+.2f}"' in line, line
    joint = effects[("civil_war & centralism", "party_brutalized")]
    assert f'label="civil_war & centralism {joint:+.2f}"' in dot


def test_graph_command_with_a_v2_run(tmp_path, v2_run):
    path = tmp_path / "v2.nc"
    save_run(v2_run, path)
    dot = runner.invoke(app, ["graph", "--run", str(path), "--pod", "milder_war"])
    assert dot.exit_code == 0, dot.output
    effects = edge_effects(v2_run)
    text = dot.stdout
    assert '"civil_war" -> "war_communism" [tooltip="Only a long war makes war communism ' \
        'necessary. (#2 Bob)", style=dashed, arrowhead=odot, color="#555555", ' \
        'label=">= long"];' in text
    assert f'label="{effects[("civil_war", "party_brutalized")]:+.2f}"' in text
    assert "P(differs from history)" in text and "POD: milder_war" in text
    for suffix in ("png", "svg"):
        out = tmp_path / f"g.{suffix}"
        done = runner.invoke(app, ["graph", "--run", str(path), "--pod", "milder_war", "-o",
                                   str(out)])
        assert done.exit_code == 0, done.output
        assert out.stat().st_size > 0
