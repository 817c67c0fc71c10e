"""The DOT output parses, whatever the ids and texts (#11 item 9).

Events named ``node``, ``edge`` or ``graph`` (DOT keywords) made invalid DOT,
because ids were written unquoted. The DOT text is checked here by a strict
parser of the DOT grammar (https://graphviz.org/doc/info/lang.html), which
also gives back the graph it describes, and by Graphviz itself when ``dot``
is installed.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from plausibly.models.plots.dot import quoted, to_dot
from plausibly.models.scenario import load_scenario

DATA = Path(__file__).parents[1] / "data"
SQUAD = DATA / "firing_squad.toml"

KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<edgeop>->|--)
  | (?P<numeral>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
  | (?P<name>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)
  | (?P<punct>[{}\[\];,=:])
""", re.VERBOSE | re.DOTALL)


def tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        m = TOKEN.match(text, at)
        assert m is not None, f"no DOT token at {text[at:at + 30]!r}"
        at = m.end()
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
    return out


@dataclass
class Graph:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


class Parser:
    """Recursive descent over the DOT grammar; keywords are never IDs unless quoted."""

    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.at = 0
        self.graph = Graph()

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.at] if self.at < len(self.toks) else None

    def keyword(self, *words: str) -> str | None:
        t = self.peek()
        if t and t[0] == "name" and t[1].lower() in words:
            self.at += 1
            return t[1].lower()
        return None

    def punct(self, char: str) -> bool:
        t = self.peek()
        if t and t[1] == char and t[0] in ("punct", "edgeop"):
            self.at += 1
            return True
        return False

    def expect(self, char: str) -> None:
        assert self.punct(char), f"expected {char!r} at token {self.at}: {self.peek()}"

    def id_(self) -> str | None:
        t = self.peek()
        if t is None:
            return None
        kind, text = t
        if kind == "name" and text.lower() in KEYWORDS:
            return None  # a keyword, unquoted, is not an ID
        if kind in ("name", "numeral"):
            self.at += 1
            return text
        if kind == "string":
            self.at += 1
            return re.sub(r'\\"', '"', text[1:-1])
        return None

    def parse(self) -> Graph:
        self.keyword("strict")
        assert self.keyword("digraph", "graph"), "expected graph or digraph"
        self.id_()
        self.expect("{")
        self.stmt_list()
        self.expect("}")
        assert self.peek() is None, f"text after the graph: {self.peek()}"
        return self.graph

    def stmt_list(self) -> None:
        while self.peek() is not None and self.peek()[1] != "}":
            self.stmt()
            self.punct(";")

    def attr_list(self) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while self.punct("["):
            while not self.punct("]"):
                key = self.id_()
                assert key is not None, f"expected an attribute at token {self.at}"
                self.expect("=")
                value = self.id_()
                assert value is not None, f"expected a value for {key}"
                attrs[key] = value
                self.punct(",") or self.punct(";")
        return attrs

    def subgraph(self) -> list[str]:
        if self.keyword("subgraph"):
            self.id_()
        self.expect("{")
        before = set(self.graph.nodes)
        self.stmt_list()
        self.expect("}")
        return [n for n in self.graph.nodes if n not in before]

    def stmt(self) -> None:
        if self.keyword("graph", "node", "edge"):
            self.attr_list()
            return
        t = self.peek()
        if t and (t[1] == "{" or (t[0] == "name" and t[1].lower() == "subgraph")):
            ends = [self.subgraph()]
        else:
            first = self.id_()
            assert first is not None, f"expected a statement at token {self.at}: {t}"
            if self.punct("="):
                assert self.id_() is not None
                return
            ends = [[first]]
        while self.punct("->"):
            nxt = self.peek()
            if nxt and nxt[1] == "{":
                ends.append(self.subgraph())
            else:
                target = self.id_()
                assert target is not None, f"expected a node id at token {self.at}: {nxt}"
                ends.append([target])
        attrs = self.attr_list()
        if len(ends) == 1:
            for n in ends[0]:
                self.graph.nodes.setdefault(n, {}).update(attrs)
            return
        for tail, head in itertools.pairwise(ends):
            for a in tail:
                for b in head:
                    self.graph.nodes.setdefault(a, {})
                    self.graph.nodes.setdefault(b, {})
                    self.graph.edges.append((a, b, attrs))


def parse_dot(text: str) -> Graph:
    return Parser(text).parse()


def keyword_scenario(tmp_path: Path) -> Path:
    """Pearl's firing squad with DOT's keywords as event ids, and hard texts."""
    text = SQUAD.read_text()
    for old, new in [("court_order", "node"), ("captain", "edge"), ("rifleman_a", "graph"),
                     ("rifleman_b", "subgraph"), ("death", "strict")]:
        text = re.sub(rf"\b{old}\b", new, text)
    text = text.replace('label = "The edge signals"',
                        'label = "The \\"captain\\" signals \\\\N at C:\\\\"')
    text = text.replace('claim = "A\'s shot kills."', 'claim = "A\'s shot kills.\\nIt does."')
    path = tmp_path / "keywords.toml"
    path.write_text(text.replace('id = "firing_squad"', 'id = "digraph"'))
    return path


def test_the_parser_refuses_an_unquoted_keyword():
    with pytest.raises(AssertionError):
        parse_dot("digraph g {\n  node [label=\"x\"];\n  node -> edge;\n}\n")
    g = parse_dot('digraph g {\n  "node" [label="x"];\n  "node" -> "edge";\n}\n')
    assert g.edges == [("node", "edge", {})] and g.nodes["node"] == {"label": "x"}


def test_quoted_text_round_trips():
    for text in ["plain", 'a "quote"', "ends in \\", "\\N and \\G", "two\nlines"]:
        (kind, token), = tokens(quoted(text))
        assert kind == "string"
        assert token.startswith('"') and token.endswith('"')
        assert not re.search(r'(?<!\\)(?:\\\\)*"', token[1:-1]), token  # no bare quote inside


@pytest.mark.parametrize("overlay", [False, True])
def test_keyword_ids_give_valid_dot_with_the_same_graph(tmp_path, overlay):
    s = load_scenario(keyword_scenario(tmp_path))
    kwargs = {}
    if overlay:
        kwargs = {"strength": {(e.cause, e.effect): 1.5 for e in s.edges},
                  "highlight": {n.id: 0.5 for n in s.nodes}, "pod": "a_refrains"}
    text = to_dot(s, **kwargs)
    g = parse_dot(text)
    assert set(g.nodes) == {n.id for n in s.nodes} == {"node", "edge", "graph", "subgraph",
                                                       "strict"}
    assert sorted((a, b) for a, b, _ in g.edges) == sorted((e.cause, e.effect) for e in s.edges)
    label = g.nodes["edge"]["label"]
    assert label.startswith('The "captain" signals \\\\N at C:\\\\\\n2 · history: true')


def test_graphviz_reads_it(tmp_path):
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed")
    s = load_scenario(keyword_scenario(tmp_path))
    for text in (to_dot(s), to_dot(load_scenario(SQUAD))):
        result = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True,
                                timeout=60, check=False)
        assert result.returncode == 0, result.stderr.decode()
        assert b"<svg" in result.stdout


# ------------------------------------------------------------------- version 2 (#12 item 8)

V2 = DATA / "v2_small.toml"


def test_v2_states_gates_interactions_and_outcomes_in_dot():
    s = load_scenario(V2)
    g = parse_dot(to_dot(s))
    # states in the label, least first; the state that happened in brackets; a disputed
    # record has no brackets (its fill is the soft colour, its weights on the history line)
    assert g.nodes["regime_1930"]["label"].split("\\n")[:3] == [
        "The regime of 1930", "[one_party] < open_party < many_parties",
        "1930 · history: one_party"]
    war = g.nodes["civil_war"]
    assert war["label"].split("\\n")[1] == "short < long < long_and_brutal"
    assert war["fillcolor"] == "#fff2cc"
    assert "states" not in g.nodes["soviet_state"]["label"] and "<" not in g.nodes[
        "soviet_state"]["label"]
    # every outcome has the double outline; one written with at_least is named
    assert g.nodes["democracy_1930"]["peripheries"] == "2"
    assert g.nodes["regime_1930"]["peripheries"] == "2"
    assert "outcome: regime_1930>=open_party" in g.nodes["regime_1930"]["label"]
    assert "peripheries" not in g.nodes["party_brutalized"]
    edges = {(a, b): attrs for a, b, attrs in g.edges}
    # gates: dashed, open-circle head, ">= state" for a cause with states only
    gate = edges[("civil_war", "war_communism")]
    assert (gate["style"], gate["arrowhead"], gate["label"]) == ("dashed", "odot", ">= long")
    yes_gate = edges[("soviet_state", "democracy_1930")]
    assert (yes_gate["style"], yes_gate["arrowhead"]) == ("dashed", "odot")
    assert "label" not in yes_gate
    influence = edges[("civil_war", "party_brutalized")]
    assert "style" not in influence and "arrowhead" not in influence
    # the interaction: a point, dotted lines from its causes, a dotted arrow to its effect
    joint = "interaction 1: civil_war & centralism"
    assert g.nodes[joint]["shape"] == "point"
    assert edges[("civil_war", joint)]["style"] == "dotted"
    assert edges[("civil_war", joint)]["label"] == ">= long"
    assert edges[("civil_war", joint)]["arrowhead"] == "none"
    assert "label" not in edges[("centralism", joint)]
    to_effect = edges[(joint, "party_brutalized")]
    assert (to_effect["style"], to_effect["label"]) == ("dotted", "civil_war & centralism")
    assert set(g.nodes) == {n.id for n in s.nodes} | {joint}


def test_v2_dot_with_effects_colours_influences_and_interactions_not_gates():
    s = load_scenario(V2)
    strength = {(e.cause, e.effect): 1.0 for e in s.edges if not e.gate}
    strength[("civil_war & centralism", "party_brutalized")] = -0.5
    g = parse_dot(to_dot(s, strength=strength))
    edges = {(a, b): attrs for a, b, attrs in g.edges}
    assert edges[("civil_war", "party_brutalized")]["label"] == "+1.00"
    for gate in (e for e in s.edges if e.gate):
        attrs = edges[(gate.cause, gate.effect)]
        assert attrs["color"] == "#555555" and "penwidth" not in attrs
    joint = edges[("interaction 1: civil_war & centralism", "party_brutalized")]
    assert joint["label"] == "civil_war & centralism -0.50" and joint["color"] != "#555555"


def test_graphviz_reads_v2(tmp_path):
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed")
    result = subprocess.run([dot, "-Tsvg"], input=to_dot(load_scenario(V2)).encode(),
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    assert b"<svg" in result.stdout
