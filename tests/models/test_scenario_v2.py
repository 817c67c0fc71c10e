"""Scenario files in version 2 of the language: states, gates, interactions, outcomes."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from plausibly.models.network import Network
from plausibly.models.scenario import (
    DataRow,
    Edge,
    Interaction,
    Node,
    Outcome,
    Pod,
    load_scenario,
    parse_scenario,
)

DATA = Path(__file__).parents[1] / "data"


def test_the_small_v2_scenario_reads_every_feature():
    s = load_scenario(DATA / "v2_small.toml")
    assert s.outcome == "democracy_1930"
    assert s.outcomes == (Outcome("democracy_1930"),
                          Outcome("regime_1930", "open_party", written=True))
    assert [o.name for o in s.outcomes] == ["democracy_1930", "regime_1930>=open_party"]
    assert s.outcome_events == ("democracy_1930", "regime_1930")
    war = s.node("civil_war")
    assert war == Node("civil_war", "How long and brutal the civil war is", 1918,
                       {"long": 0.3, "long_and_brutal": 0.7},
                       states=("short", "long", "long_and_brutal"), declared_states=True)
    assert war.record == (0.0, 0.3, 0.7) and war.hard is None
    assert s.node("regime_1930").history == "one_party" and s.node("regime_1930").hard == 0
    assert s.node("soviet_state") == Node("soviet_state", "A soviet government holds power",
                                          1917, 1.0)
    assert s.edge("civil_war", "war_communism") == Edge(
        "civil_war", "war_communism", "Only a long war makes war communism necessary.",
        ("#2 Bob",), kind="requires", at_least="long")
    assert s.edge("civil_war", "party_brutalized").qualified_by == ("#4 Di",)
    assert s.edge("soviet_state", "regime_1930").at_least == "yes"  # the default
    assert s.gates["democracy_1930"] == (("soviet_state", "yes"),)
    assert s.gates["war_communism"] == (("civil_war", "long"),)
    assert s.influences["democracy_1930"] == ("party_brutalized",)
    assert s.interactions == (Interaction(
        "party_brutalized", {"civil_war": "long", "centralism": "yes"},
        "A long war brutalises a centralist party most of all.", ("#11 Kim",),
        qualified_by=("#12 Lu",)),)
    assert s.interactions[0].key == "civil_war & centralism"
    assert s.pod("milder_war") == Pod(
        "milder_war", "The civil war is likelier short",
        {"civil_war": {"short": 0.6, "long": 0.4}}, ("#13 Max",),
        "A soft POD: an earlier armistice is possible, not certain.")
    assert s.pod("milder_war").soft and s.pod("milder_war").scope == "in"
    assert s.pod("no_soviets").scope == "out" and s.pod("no_soviets").do == {"soviet_state": 0.0}
    assert s.data == (DataRow("party_brutalized", {"civil_war": "long", "centralism": True},
                              3, 5, "ruling parties after long civil wars, a made-up count"),)


def test_the_small_v2_scenario_builds_a_network():
    net = Network.from_scenario(load_scenario(DATA / "v2_small.toml"))
    i = net.index("war_communism")
    assert net.gates[i] == ((net.index("civil_war"), 1),)
    assert net.outcomes == ((net.index("democracy_1930"), 1), (net.index("regime_1930"), 1))
    # war at "long", centralism yes: the "long" term, centralism and the interaction
    assert net.data[0][1] == (1.0, 0.0, 1.0, 1.0)


def _firing_squad() -> dict:
    return tomllib.loads((DATA / "firing_squad.toml").read_text("utf-8"))


def test_states_no_yes_written_out_build_the_same_network():
    plain = _firing_squad()
    plain["nodes"]["captain"]["history"] = 0.8
    written = copy.deepcopy(plain)
    for node in written["nodes"].values():
        node["states"] = ["no", "yes"]
    written["nodes"]["court_order"]["history"] = "yes"
    written["nodes"]["captain"]["history"] = {"no": 0.2, "yes": 0.8}
    written["nodes"]["rifleman_a"]["history"] = "yes"
    written["nodes"]["rifleman_b"]["history"] = "yes"
    written["nodes"]["death"]["history"] = "yes"
    written["pods"]["a_refrains"]["do"] = {"rifleman_a": "no"}
    written["pods"]["a_half_hearted"]["do"] = {"rifleman_a": {"no": 0.5, "yes": 0.5}}
    a, b = parse_scenario(plain), parse_scenario(written)
    assert Network.from_scenario(a) == Network.from_scenario(b)
    assert [n.history for n in a.nodes] == [n.history for n in b.nodes]
    assert a.pods == b.pods
    assert b.node("captain").history_text == "P(yes)=0.8"


def test_a_gate_on_a_yes_no_cause_may_say_yes_or_true():
    data = _firing_squad()
    data["edges"][0]["kind"] = "requires"
    data["edges"][0]["at_least"] = True
    s = parse_scenario(data)
    assert s.edges[0] == Edge("court_order", "captain",
                              "The captain signals when the court orders it.", ("#1 Pearl",),
                              kind="requires", at_least="yes")
    assert s.influences["captain"] == () and s.gates["captain"] == (("court_order", "yes"),)


def test_a_version_1_file_reads_as_before():
    s = parse_scenario(_firing_squad())
    assert s.outcomes == (Outcome("death"),) and s.interactions == ()
    assert all(e.kind == "influences" and e.at_least is None for e in s.edges)
    assert all(not n.declared_states and n.states == ("no", "yes") for n in s.nodes)
    assert all(p.scope == "in" for p in s.pods)
