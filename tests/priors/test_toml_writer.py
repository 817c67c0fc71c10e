"""The prior-set writer: tomlkit edits a file in place, and new files keep the documented layout."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from plausibly.models.errors import ElicitationError
from plausibly.models.scenario import load_scenario
from plausibly.priors import toml_writer
from plausibly.priors.elicitation import (
    Judgement,
    NodeJudgement,
    PriorSet,
    bundled_prior_sets,
    load_prior_set,
    parse_prior_set,
)
from plausibly.priors.toml_writer import dumps_prior_set, save_prior_set, toml_string

DATA = Path(__file__).parents[1] / "data"
V1 = DATA / "v1"
BUNDLED = sorted(bundled_prior_sets())
#: The bundled prior sets of today (version 2) and as they were in version 1 (fixtures).
EVERY = [f"v2/{name}" for name in BUNDLED] + [f"v1/{name}" for name in BUNDLED]


def path_of(name: str) -> Path:
    """A bundled prior set by name; "v1/NAME" is its version 1 fixture, "v2/NAME" today's."""
    version, _, stem = name.rpartition("/")
    return V1 / "priors" / f"{stem}.toml" if version == "v1" else bundled_prior_sets()[stem]


def bundled(name: str) -> tuple[str, PriorSet]:
    scenario = load_scenario(V1 / "ussr_1930.toml" if name.startswith("v1/") else "ussr_1930")
    path = path_of(name)
    return path.read_text("utf-8"), load_prior_set(path, scenario)


def toml_key(key: str) -> str:
    """A key as a TOML file spells it: bare when it can be, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def with_node(ps: PriorSet, nj: NodeJudgement) -> PriorSet:
    return replace(ps, nodes=MappingProxyType({**ps.nodes, nj.node: nj}))


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.mark.parametrize("name", EVERY)
def test_an_unchanged_bundled_prior_set_is_saved_byte_for_byte(name, tmp_path):
    text, ps = bundled(name)
    out = tmp_path / f"{ps.id}.toml"
    assert save_prior_set(out, ps, text) == text
    assert out.read_bytes() == path_of(name).read_bytes()


@pytest.mark.parametrize("name", EVERY)
def test_changing_one_judgement_changes_only_its_line(name):
    text, ps = bundled(name)
    first = next(iter(ps.nodes.values()))
    assert first.base is not None
    one = with_node(ps, replace(first, base=Judgement(0.2, 0.1, 0.3)))
    assert changed_lines(text, dumps_prior_set(one, text)) == [
        f"-base = {first.base.as_toml()}", "+base = [0.1, 0.2, 0.3]"]
    # a dotted given.C of a later event
    node = next(nj for nj in reversed(ps.nodes.values()) if len(nj.given) > 1)
    cause, j = list(node.given.items())[-1]
    two = with_node(ps, replace(node, given=MappingProxyType({**node.given,
                                                              cause: Judgement(0.5)})))
    key = toml_key(cause)
    assert changed_lines(text, dumps_prior_set(two, text)) == [
        f"-given.{key} = {j.as_toml()}", f"+given.{key} = 0.5"]


@pytest.mark.parametrize("name", ["v1/contingency", "v2/contingency"])
def test_changing_a_why_changes_only_the_why(name):
    text, ps = bundled(name)
    node = list(ps.nodes.values())[3]
    start = text.index("why = ", text.index(f"[nodes.{node.node}]\n"))
    old = text[start:text.index('"""\n', start + 9) + 3]
    why = "A new reason, " * 20 + "and a last line."
    out = dumps_prior_set(with_node(ps, replace(node, why=why)), text)
    assert out == text.replace(old, f"why = {toml_string(why).as_string()}")
    assert max(len(x) for x in out[start:].split("\n", 4)[:4]) < 100  # wrapped
    assert tomllib.loads(out)["nodes"][node.node]["why"] == why


@pytest.mark.parametrize(("name", "judged", "cause"), [
    ("v1/contingency", "soviet_state", "lenin_returns"),
    ("v2/contingency", "monopoly_1921", "representative_tradition"),
    ("v2/contingency", "monopoly_1921", "broad_coalition=left_sr"),
    ("v2/contingency", "monopoly_1921", "kronstadt_holds")])
def test_a_new_event_or_cause_goes_in_its_place(name, judged, cause):
    text, ps = bundled(name)
    nodes = list(ps.nodes)
    gone = nodes[7]  # v1: constituent_assembly_dispersed, after the "1918" heading
    without = dumps_prior_set(replace(ps, nodes=MappingProxyType(
        {n: v for n, v in ps.nodes.items() if n != gone})), text)
    back = dumps_prior_set(ps, without)
    assert list(tomllib.loads(back)["nodes"]) == nodes
    added = changed_lines(without, back)
    assert all(x.startswith("+") for x in added)
    assert added[0] == f"+[nodes.{gone}]"
    # a cause judged for the first time goes before the causes after it, and before why
    node = ps.nodes[judged]
    assert cause in node.given
    fewer = with_node(ps, replace(node, given=MappingProxyType(
        {c: j for c, j in node.given.items() if c != cause})))
    assert dumps_prior_set(ps, dumps_prior_set(fewer, text)) == text


@pytest.mark.parametrize("node", ["court_order", "rifleman_b", "death"])
def test_an_event_judged_later_is_written_as_a_new_file_would_have_it(node):
    """Dropping an event and judging it again gives back the same file, blank lines included."""
    scenario = load_scenario(DATA / "firing_squad.toml")
    path = DATA / "firing_squad_priors.toml"
    text, ps = path.read_text("utf-8"), load_prior_set(path, scenario)
    less = replace(ps, nodes=MappingProxyType({k: v for k, v in ps.nodes.items() if k != node}))
    without = dumps_prior_set(less, text)
    assert f"[nodes.{node}]" not in without
    assert dumps_prior_set(ps, without) == text


def test_a_new_file_has_the_documented_layout():
    nodes = {
        "court_order": NodeJudgement("court_order", Judgement(0.15, 0.05, 0.35), {},
                                     "Short."),
        "captain": NodeJudgement("captain", None, {"court_order": Judgement(0.97)},
                                 "A long reason that goes on " * 5 + "to the end."),
    }
    ps = PriorSet(id="mine", name="Me", scenario="firing_squad", summary="S.",
                  based_on=("#1 Pearl",), interval=0.9, nodes=MappingProxyType(nodes))
    assert dumps_prior_set(ps, header="# My priors.\n#\n# Second line.") == (
        "# My priors.\n#\n# Second line.\n\n"
        'id = "mine"\nname = "Me"\nscenario = "firing_squad"\nsummary = "S."\n'
        'based_on = ["#1 Pearl"]\ninterval = 0.9\n\n'
        '[nodes.court_order]\nbase = [0.05, 0.15, 0.35]\nwhy = "Short."\n\n'
        "[nodes.captain]\ngiven.court_order = 0.97\n"
        'why = """A long reason that goes on A long reason that goes on A long reason that '
        'goes on A long \\\n'
        'reason that goes on A long reason that goes on to the end."""\n')


def test_saving_after_each_answer_gives_the_text_of_one_save():
    """As a session does: each save edits the text the save before it wrote."""
    scenario = load_scenario(DATA / "firing_squad.toml")
    full = load_prior_set(DATA / "firing_squad_priors.toml", scenario)
    full = replace(full, nodes=MappingProxyType({n: replace(nj, why=nj.why + " More. " * 20)
                                                 for n, nj in full.nodes.items()}))
    text: str | None = None
    saved: dict[str, NodeJudgement] = {}
    for node, nj in full.nodes.items():
        causes = list(nj.given.items())
        answers = [replace(nj, given=MappingProxyType(dict(causes[:k])), why="Default.")
                   for k in range(len(causes) + 1)] + [nj]
        for answer in answers:
            saved[node] = answer
            ps = replace(full, nodes=MappingProxyType(dict(saved)))
            text = dumps_prior_set(ps, text, header="# h")
    assert text == dumps_prior_set(full, header="# h")
    assert parse_prior_set(tomllib.loads(text), scenario) == replace(full, path=None)


def test_an_edit_that_would_not_read_back_is_refused_and_nothing_written(monkeypatch,
                                                                         tmp_path):
    text, ps = bundled("v2/reference")
    out = tmp_path / "reference.toml"
    out.write_text(text, "utf-8")
    monkeypatch.setattr(toml_writer, "_set", lambda *args, **kwargs: None)  # a lost edit
    with pytest.raises(ElicitationError, match="cannot be rewritten keeping its comments"):
        save_prior_set(out, replace(ps, interval=0.8), text)
    assert out.read_text("utf-8") == text


# ------------------------------------------------------------------ version 2

V2_PRIORS = [DATA / "v2_small_priors.toml"]


def v2(path: Path = DATA / "v2_small_priors.toml") -> tuple[str, PriorSet]:
    return path.read_text("utf-8"), load_prior_set(path, load_scenario(DATA / "v2_small.toml"))


@pytest.mark.parametrize("path", V2_PRIORS, ids=lambda p: p.name)
def test_a_version_2_prior_set_round_trips(path):
    """Base tables, one-state givens, "C=state" and "A & B" keys, anchors and pods."""
    text, ps = v2(path)
    scenario = load_scenario(DATA / "v2_small.toml")
    assert dumps_prior_set(ps, text) == text
    for out in (dumps_prior_set(ps, text), dumps_prior_set(ps, header="# h")):
        assert parse_prior_set(tomllib.loads(out), scenario, file=str(path)) == ps
    new = dumps_prior_set(ps)
    assert 'anchor = "history"\n' in new
    assert "base = { long = [0.5, 0.7, 0.85], long_and_brutal = [0.2, 0.4, 0.6] }\n" in new
    assert 'given."civil_war=long" = [0.2, 0.35, 0.6]\n' in new
    assert "[pods.softer_centralism]\ndo.centralism = [0.2, 0.4, 0.6]\n" in new


def test_a_version_2_edit_keeps_the_files_spelling_of_a_key():
    text, ps = v2()
    node = ps.nodes["party_brutalized"]
    key = "civil_war & centralism"  # as the scenario spells it; the file has the other order
    assert key in node.given
    one = with_node(ps, replace(node, given=MappingProxyType({**node.given,
                                                              key: Judgement(0.9, 0.7, 0.97)})))
    assert changed_lines(text, dumps_prior_set(one, text)) == [
        '-given."centralism & civil_war" = [0.6, 0.85, 0.95]',
        '+given."centralism & civil_war" = [0.7, 0.9, 0.97]']
    # a state table and a POD strength change in place
    war = ps.nodes["civil_war"]
    two = with_node(ps, replace(war, base_states=MappingProxyType(
        {**war.base_states, "long": Judgement(0.6)})))
    pod = ps.pods["softer_centralism"]
    two = replace(two, pods=MappingProxyType({pod.pod: replace(
        pod, do=MappingProxyType({"centralism": Judgement(0.3)}))}))
    assert changed_lines(text, dumps_prior_set(two, text)) == [
        "-base = { long = [0.5, 0.7, 0.85], long_and_brutal = [0.2, 0.4, 0.6] }",
        "+base = { long = 0.6, long_and_brutal = [0.2, 0.4, 0.6] }",
        "-do.centralism = [0.2, 0.4, 0.6]",
        "+do.centralism = 0.3"]


def test_a_version_2_judgement_or_pod_added_later_goes_in_its_place():
    text, ps = v2()
    war = ps.nodes["civil_war"]
    fewer = with_node(ps, replace(war, given=MappingProxyType({}),
                                  given_states=MappingProxyType({})))
    fewer = replace(fewer, pods=MappingProxyType({}), anchor="absent")
    without = dumps_prior_set(fewer, text)
    assert changed_lines(text, without) == [
        '-anchor = "history"', '+anchor = "absent"',
        "-given.soviet_state = { long = [0.05, 0.2, 0.4] }",
        "-[pods.softer_centralism]", "-do.centralism = [0.2, 0.4, 0.6]",
        '-why = "This school thinks the turn away from centralism was a near thing."']
    assert parse_prior_set(tomllib.loads(without), load_scenario(DATA / "v2_small.toml")
                           ) == replace(fewer, path=None)
    assert dumps_prior_set(ps, without) == text
