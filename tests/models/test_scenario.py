"""Scenario files: the bundled one loads; every kind of mistake is reported, all at once."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest

from plausibly.models.errors import ScenarioError
from plausibly.models.scenario import load_scenario, parse_scenario

DATA = Path(__file__).parents[1] / "data"
THREAD = Path(__file__).resolve().parents[3] / "shared" / "thread.md"

SMALL = {
    "id": "small",
    "title": "Small",
    "outcome": "c",
    "source": "a test",
    "posts": 10,
    "nodes": {
        "a": {"label": "A", "year": 1900, "history": True},
        "b": {"label": "B", "year": 1910, "history": 0.8},
        "c": {"label": "C", "year": 1920},
    },
    "edges": [
        {"cause": "a", "effect": "b", "claim": "A makes B likelier.", "by": ["#1 x"]},
        {"cause": "b", "effect": "c", "claim": "B makes C likelier.", "by": ["#2 y"],
         "disputed_by": ["#3 z"]},
    ],
    "pods": {"no_a": {"label": "No A", "do": {"a": False}, "by": ["#4 w"]}},
}


def mutated(**changes):
    data = copy.deepcopy(SMALL)
    for path, value in changes.items():
        *keys, last = path.split("__")
        target = data
        for k in keys:
            target = target[int(k)] if isinstance(target, list) else target[k]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data


DELETE = object()


def problems_of(data) -> str:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, file="s.toml")
    return str(err.value)


def test_small_scenario_reads():
    s = parse_scenario(SMALL)
    assert s.order == ("a", "b", "c")
    assert s.parents["c"] == ("b",)
    assert s.node("b").history == 0.8 and s.node("c").history is None
    assert s.pod("no_a").do == {"a": 0.0}


@pytest.mark.parametrize(("changes", "message"), [
    ({"colour": "red"},
     "s.toml: colour: unknown key 'colour'\n"
     "    fix: remove it; allowed keys here: id, title, outcome, source, nodes, edges, pods, "
     "posts, description, data, outcomes, interactions"),
    ({"title": DELETE}, "s.toml: title: is missing\n    fix: add 'title = ...'"),
    ({"edges__0__cause": "aa"},
     "s.toml: edges[0].cause: unknown node 'aa' (did you mean 'a'?)\n"
     "    fix: name one of the [nodes.*] tables, or add the node"),
    ({"outcome": "d"},
     "s.toml: outcome: 'd' is not a node\n    fix: name one of the [nodes.*] tables"),
    ({"edges__0__by": []},
     's.toml: edges[0].by: cites no post\n    fix: cite the post(s) that make the claim, e.g. '
     '["#7 Garetor"]'),
    ({"edges__1__by": ["#11 q"]},
     "s.toml: edges[1].by[0]: post #11 does not exist: the thread has posts #1..#10\n"
     "    fix: check the post number"),
    ({"edges__1__by": ["#3"]},
     "s.toml: edges[1].by[0]: '#3' names no author\n"
     '    fix: write "#N Author", e.g. "#7 Garetor"'),
    ({"edges__1__by": ["post 3"]},
     "s.toml: edges[1].by[0]: 'post 3' is not a post citation\n"
     '    fix: write "#N Author", e.g. "#7 Garetor"'),
    ({"nodes__b__history": 1.2},
     "s.toml: nodes.b.history: must be in [0, 1], got 1.2\n"
     "    fix: write a probability between 0 and 1"),
    ({"nodes__a__year": 1915},
     "s.toml: edges[0]: runs backwards in time: a (1915) -> b (1910)\n"
     "    fix: reverse the edge or correct the years"),
    ({"pods__no_a__do": {"c": True}},
     "s.toml: pods.no_a.do.c: a POD may not set the outcome itself\n"
     "    fix: intervene on an earlier event"),
    ({"nodes__B": {"label": "x", "year": 1}},
     "s.toml: nodes.B: 'B' is not a snake_case id\n"
     "    fix: use lower-case letters, digits and _, starting with a letter"),
])
def test_each_mistake_has_its_message(changes, message):
    assert problems_of(mutated(**changes)) == message


def test_a_broken_edge_does_not_also_break_its_data_rows():
    data = mutated(edges__0__by=[])
    data["data"] = [{"node": "b", "given": {"a": True}, "successes": 1, "trials": 2,
                     "note": "n"}]
    assert problems_of(data) == (
        's.toml: edges[0].by: cites no post\n    fix: cite the post(s) that make the claim, '
        'e.g. ["#7 Garetor"]')


def test_cycle_is_printed():
    data = mutated()
    data["nodes"]["c"]["year"] = 1910
    data["nodes"]["b"]["year"] = 1910
    data["edges"].append({"cause": "c", "effect": "b", "claim": "loop", "by": ["#1 x"]})
    assert problems_of(data) == (
        "s.toml: edges: the graph has a cycle: b -> c -> b\n"
        "    fix: remove or reverse one of these edges; causes must come before effects")


def test_every_problem_is_reported_at_once():
    data = mutated(colour="red", outcome="d", edges__0__cause="aa", nodes__b__history=-1)
    text = problems_of(data)
    assert [line.split(":")[1].strip() for line in text.splitlines()
            if not line.startswith("    ")] == [
        "colour", "nodes.b.history", "edges[0].cause", "outcome"]


@pytest.mark.parametrize(("content", "message"), [
    ('id = "x"\ntitle = \n', "is not valid TOML: Invalid value (at line 2, column 9)"),
    ("", "is empty"),
])
def test_unreadable_files(tmp_path, content, message):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert str(err.value).splitlines()[0] == f"{f}: {message}"


def test_not_utf8(tmp_path):
    f = tmp_path / "latin.toml"
    f.write_bytes('title = "caf\xe9"'.encode("latin-1"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert str(err.value) == (f"{f}: is not UTF-8 text (byte 0xe9 at offset 12)\n"
                              "    fix: save the file as UTF-8 TOML")


def test_unknown_bundled_id():
    with pytest.raises(ScenarioError) as err:
        load_scenario("ussr_1931")
    assert str(err.value) == ("ussr_1931: is neither a file nor a bundled scenario "
                              "(did you mean 'ussr_1930'?)\n"
                              "    fix: give a path to a .toml file or one of: ussr_1930")


# --------------------------------------------------------------------------- bundled


def test_bundled_scenario_meets_the_brief():
    """Issue #13's brief for the version 2 re-encoding (the version 1 file is tests/data/v1)."""
    s = load_scenario("ussr_1930")
    assert len(s.nodes) >= 16 and len(s.edges) >= 28 and len(s.pods) >= 15
    assert s.nodes[0].year == 1767 and s.nodes[-1].year == 1930
    # several outcomes, the headline first; none of them happened
    names = [o.name for o in s.outcomes]
    assert len(names) >= 3 and names[0] == "regime_1930>=several_parties"
    assert s.outcome == "regime_1930"
    assert {"libertarian_socialist_1930", "confederation_1930"} <= set(names)
    for o in s.outcomes:
        node = s.node(o.event)
        assert node.hard is not None and node.hard < node.states.index(o.at_least), o.name
    # states where the thread argues degrees or alternatives
    for event in ("civil_war", "successor", "regime_1930"):
        assert len(s.node(event).states) >= 3, event
    # gates: what exists only under a soviet government, every outcome among it
    gated = {x for x, gates in s.gates.items() if any(c == "soviet_state" for c, _ in gates)}
    assert set(s.outcome_events) <= gated
    assert all(e.kind == "requires" for e in s.edges
               if e.cause == "soviet_state" and e.effect in gated)
    # at least one interaction, each of whose causes is an influence of its effect
    assert s.interactions
    for i in s.interactions:
        assert set(i.causes) <= set(s.influences[i.effect]), i.key
    # PODs that remove the question are out of scope and cited
    out = [p for p in s.pods if p.scope == "out"]
    assert len(out) >= 3 and all(p.by for p in out)
    assert all(p.do.get("soviet_state") in (0.0, False) for p in out)
    assert all(p.scope == "in" for p in s.pods if "soviet_state" not in p.do)
    assert all(e.by for e in s.edges) and all(i.by for i in s.interactions)
    assert any(p.soft for p in s.pods)
    assert all(p.why for p in s.pods if p.soft)
    assert [r.node for r in s.data] == ["gulf_thaws_early"]


def bundled_citations(raw: dict) -> list[str]:
    """Every "#N Author" of the bundled scenario: edges, interactions and PODs."""
    cites = [c for e in raw["edges"] + raw.get("interactions", [])
             for c in e["by"] + e.get("disputed_by", []) + e.get("qualified_by", [])]
    return cites + [c for p in raw["pods"].values() for c in p["by"]]


def test_every_bundled_citation_is_in_range():
    s = load_scenario("ussr_1930")
    raw = tomllib.loads(Path(s.path or "").read_text("utf-8"))
    cites = bundled_citations(raw)
    assert s.posts == 105 and len(cites) > 50
    numbers = [int(re.fullmatch(r"#(\d+) \S.*", c).group(1)) for c in cites]  # type: ignore[union-attr]
    assert [n for n in numbers if not 1 <= n <= s.posts] == []


@pytest.mark.skipif(not THREAD.exists(), reason="the shared thread is not beside the repo")
def test_bundled_citations_name_the_real_author():
    authors = dict(re.findall(r"^## #(\d+) (.+?)\s*$", THREAD.read_text("utf-8"), re.M))
    raw = tomllib.loads(Path(load_scenario("ussr_1930").path).read_text("utf-8"))
    cites = bundled_citations(raw)
    wrong = [c for c in cites if authors.get(c.split()[0][1:]) != c.split(" ", 1)[1]]
    assert wrong == []


def test_claims_do_not_quote_the_thread():
    if not THREAD.exists():
        pytest.skip("the shared thread is not beside the repo")
    thread = " ".join(THREAD.read_text("utf-8").split()).lower()
    s = load_scenario("ussr_1930")
    texts = [e.claim for e in s.edges] + [i.claim for i in s.interactions]
    texts += [p.label for p in s.pods] + [p.why for p in s.pods]
    texts += [n.label for n in s.nodes] + [n.note for n in s.nodes] + [s.description]
    texts += [r.note for r in s.data]
    for text in texts:
        words = text.lower().split()
        runs = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
        assert not [r for r in runs if r in thread], text


def test_an_edge_whose_effect_is_a_table_is_a_problem_not_a_crash():
    # found by the property test: the data-row check hashed the raw effect
    from plausibly.models.errors import ScenarioError
    from plausibly.models.scenario import parse_scenario

    data = {"id": "a", "title": "t", "outcome": "b", "source": "s",
            "nodes": {"a": {"label": "A", "year": 1}, "b": {"label": "B", "year": 1}},
            "edges": [{"cause": "a", "effect": {"x": {}}, "claim": "c", "by": ["#1 A"]}],
            "pods": {}}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data)
    assert "edges[0].effect: must be a node id, got {'x': {}}" in str(err.value)
