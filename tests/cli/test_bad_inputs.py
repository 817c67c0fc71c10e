"""Malformed input files: every one gives its whole message and exit status 2, no traceback.

The catalogue lives in tests/data/bad/ (one mistake, or one family of
mistakes, per file; each file's first lines say what is wrong with it). The
expected messages live here, in EXPECTED, keyed by file name; ``{f}`` stands
for the path as given on the command line. Prior sets refer to the bundled
``ussr_1930`` or to tests/data/firing_squad.toml, which is given on the same
command line. Files that cannot be committed (over the size limit) or that
need the file system (a folder, a missing path) are made at test time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.errors import ElicitationError, ScenarioError
from plausibly.models.files import MAX_FILE_BYTES
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set

REPO = Path(__file__).resolve().parents[2]
BAD = Path("tests") / "data" / "bad"  # relative to REPO: short paths in messages
SQUAD = str(Path("tests") / "data" / "firing_squad.toml")
V2 = str(Path("tests") / "data" / "v2_small.toml")  # the scenario of prior_v2_* files
runner = CliRunner()

EXPECTED = {
    "binary_garbage.bin": (
        "{f}: is not UTF-8 text (byte 0x80 at offset 128)\n"
        "    fix: save the file as UTF-8 TOML"
    ),
    "deeply_nested_arrays.toml": (
        "{f}: is nested too deeply to be read\n"
        "    fix: flatten it: a scenario or prior set file needs no more than four levels of "
        "tables"
    ),
    "deeply_nested_tables.toml": (
        "{f}: is nested too deeply to be read\n"
        "    fix: flatten it: a scenario or prior set file needs no more than four levels of "
        "tables"
    ),
    "empty.toml": (
        "{f}: is empty\n"
        "    fix: write a scenario or prior set in TOML; see the README"
    ),
    "huge_integer.toml": (
        "{f}: has a number too long to read (over 4,300 digits)\n"
        "    fix: shorten the number: years, counts and post numbers are small"
    ),
    "latin1.toml": (
        "{f}: is not UTF-8 text (byte 0xe9 at offset 52)\n"
        "    fix: save the file as UTF-8 TOML"
    ),
    "neither.toml": (
        "{f}: is neither a scenario (no 'outcome' key) nor a prior set (no 'scenario' key)\n"
        "    fix: see the README for both file formats"
    ),
    "nul_byte.toml": (
        "{f}: is not valid TOML: Illegal character '\\x00' (at line 2, column 8)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "prior_bad_citations.toml": (
        "{f}: based_on[0]: post #106 does not exist: the thread has posts #1..#105\n"
        "    fix: check the post number\n"
        "{f}: based_on[1]: 'Garetor #7' is not a post citation\n"
        "    fix: write \"#N Author\", e.g. \"#7 Garetor\""
    ),
    "prior_bad_default.toml": (
        "{f}: default.why: unknown key 'why'\n"
        "    fix: remove it; allowed keys here: base, given\n"
        "{f}: default.base: must be strictly increasing (low < median < high), got [0.9, 0.5, "
        "0.1]\n"
        "    fix: order the three numbers: the lowest plausible, the best guess, the highest\n"
        "{f}: default.given: must be [low, median, high] or a number, got 'weak'\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value"
    ),
    "prior_default_not_a_table.toml": (
        "{f}: default: must be a table, got 0.5 (a number)\n"
        "    fix: write it as a TOML table"
    ),
    "prior_given_not_a_table.toml": (
        "{f}: nodes.captain.given: must be a table of cause = judgement, got [0.1, 0.5, 0.9]\n"
        "    fix: write given.<cause> = [low, median, high] under [nodes.captain]"
    ),
    "prior_interval_nearly_one.toml": (
        "{f}: interval: must be from 0.5 to 0.99, got 0.9999999999999999\n"
        "    fix: use a central mass an expert can judge, such as 0.5, 0.8 or 0.9"
    ),
    "prior_interval_one.toml": (
        "{f}: interval: must be in (0, 1), got 1\n"
        "    fix: write a probability between 0 and 1 (exclusive)"
    ),
    "prior_interval_tiny.toml": (
        "{f}: interval: must be from 0.5 to 0.99, got 1e-20\n"
        "    fix: use a central mass an expert can judge, such as 0.5, 0.8 or 0.9"
    ),
    "prior_interval_zero.toml": (
        "{f}: interval: must be in (0, 1), got 0.0\n"
        "    fix: write a probability between 0 and 1 (exclusive)"
    ),
    "prior_judges_nothing.toml": (
        "{f}: nodes.captain: judges nothing\n"
        "    fix: add base = [...] and/or given.<cause> = [...]\n"
        "{f}: nodes.death: judges nothing\n"
        "    fix: add base = [...] and/or given.<cause> = [...]"
    ),
    "prior_missing_keys.toml": (
        "{f}: id: is missing\n"
        "    fix: add 'id = ...'\n"
        "{f}: name: is missing\n"
        "    fix: add 'name = ...'\n"
        "{f}: summary: is missing\n"
        "    fix: add 'summary = ...'"
    ),
    "prior_missing_scenario.toml": (
        "{f}: scenario: names scenario 'atlantis', which is neither given here nor bundled\n"
        "    fix: give its scenario file on the same command line, or correct the id"
    ),
    "prior_missing_why.toml": (
        "{f}: nodes.captain.why: is missing\n"
        "    fix: add 'why = ...'"
    ),
    "prior_node_not_a_table.toml": (
        "{f}: nodes.captain: must be a table, got 0.5 (a number)\n"
        "    fix: write it as a TOML table"
    ),
    "prior_not_a_cause.toml": (
        "{f}: nodes.rifleman_a.given.captian: 'captian' is not a cause of 'rifleman_a' (did you "
        "mean 'captain'?)\n"
        "    fix: judge one of its causes: captain\n"
        "{f}: nodes.rifleman_a.given.court_order: 'court_order' is not a cause of 'rifleman_a'\n"
        "    fix: judge one of its causes: captain\n"
        "{f}: nodes.court_order.given.captain: 'captain' is not a cause of 'court_order'\n"
        "    fix: judge one of its causes: it has none"
    ),
    "prior_not_a_number.toml": (
        "{f}: nodes.captain.base: must be [low, median, high] or a number, got '0.5'\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value\n"
        "{f}: nodes.captain.given.court_order[0]: must be a number in (0, 1), got 'low' (a "
        "string)\n"
        "    fix: write a probability such as 0.3\n"
        "{f}: nodes.death.base: must be [low, median, high] or a number, got True\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value\n"
        "{f}: nodes.death.given.rifleman_a: must be [low, median, high] or a number, got "
        "{'median': 0.5}\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value\n"
        "{f}: nodes.death.given.rifleman_b[1]: must be a number in (0, 1), got False\n"
        "    fix: write a probability such as 0.3"
    ),
    "prior_not_increasing.toml": (
        "{f}: nodes.captain.base: must be strictly increasing (low < median < high), got [0.5, "
        "0.3, 0.7]\n"
        "    fix: order the three numbers: the lowest plausible, the best guess, the highest\n"
        "{f}: nodes.captain.given.court_order: must be strictly increasing (low < median < high), "
        "got [0.3, 0.3, 0.6]\n"
        "    fix: order the three numbers: the lowest plausible, the best guess, the highest\n"
        "{f}: nodes.death.base: must be strictly increasing (low < median < high), got [0.2, 0.1, "
        "0.05]\n"
        "    fix: order the three numbers: the lowest plausible, the best guess, the highest"
    ),
    "prior_outside_unit_interval.toml": (
        "{f}: nodes.captain.base[0]: must be in (0, 1), got 0\n"
        "    fix: write a probability between 0 and 1 (exclusive)\n"
        "{f}: nodes.captain.given.court_order[2]: must be in (0, 1), got 1.0\n"
        "    fix: write a probability between 0 and 1 (exclusive)\n"
        "{f}: nodes.rifleman_a.base: must be in (0, 1), got 1\n"
        "    fix: write a probability between 0 and 1 (exclusive)\n"
        "{f}: nodes.rifleman_a.given.captain: must be in (0, 1), got 1.5\n"
        "    fix: write a probability between 0 and 1 (exclusive)\n"
        "{f}: nodes.rifleman_b.base: must be in (0, 1), got -0.1\n"
        "    fix: write a probability between 0 and 1 (exclusive)\n"
        "{f}: nodes.rifleman_b.given.captain: must be in (0, 1), got nan\n"
        "    fix: write a probability between 0 and 1 (exclusive)"
    ),
    "prior_scenario_not_a_string.toml": (
        "{f}: scenario: must be a scenario id, got 3\n"
        "    fix: write the id of the scenario, e.g. scenario = \"ussr_1930\""
    ),
    "prior_unknown_keys.toml": (
        "{f}: intervall: unknown key 'intervall' (did you mean 'interval'?)\n"
        "    fix: remove it; allowed keys here: id, name, scenario, summary, based_on, interval, "
        "anchor, default, nodes, pods\n"
        "{f}: default.givn: unknown key 'givn' (did you mean 'given'?)\n"
        "    fix: remove it; allowed keys here: base, given\n"
        "{f}: nodes.captain.bse: unknown key 'bse' (did you mean 'base'?)\n"
        "    fix: remove it; allowed keys here: why, base, given, anchor"
    ),
    "prior_unknown_node.toml": (
        "{f}: nodes.captian: 'captian' is not an event of scenario 'firing_squad' (did you mean "
        "'captain'?)\n"
        "    fix: name one of the scenario's [nodes.*]\n"
        "{f}: nodes.weather: 'weather' is not an event of scenario 'firing_squad' (did you mean "
        "'death'?)\n"
        "    fix: name one of the scenario's [nodes.*]"
    ),
    "prior_v2_base_shapes.toml": (
        "{f}: nodes.civil_war.base: 'civil_war' has states (short, long, long_and_brutal): "
        "base judges P(civil_war >= state) for each state after the first, got [0.5, 0.7, "
        "0.85]\n"
        "    fix: write base = { long = [low, median, high], ... }\n"
        "{f}: nodes.civil_war.given.soviet_state: 'civil_war' has states (short, long, "
        "long_and_brutal): a given judges P(civil_war >= state) for one state, got 2 "
        "states\n"
        "    fix: write { long_and_brutal = [low, median, high] }: one judgement fixes the "
        "cause's weight, which shifts every threshold alike\n"
        "{f}: nodes.war_communism.base: must be [low, median, high] or a number, got "
        "{'yes': [0.5, 0.8, 0.95]}\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value\n"
        "{f}: nodes.regime_1930.base: P(regime_1930 >= many_parties) = 0.3 must be below "
        "P(regime_1930 >= open_party) = 0.1\n"
        "    fix: a higher state is rarer: lower the median of the higher state"
    ),
    "prior_v2_given_names_history.toml": (
        "{f}: nodes.regime_1930.given.\"party_brutalized=yes\": 'party_brutalized' is a "
        "yes/no cause: it has one key\n"
        "    fix: write given.party_brutalized: under anchor = \"history\" it judges "
        "'regime_1930' had it been otherwise (no)\n"
        "{f}: nodes.civil_war.given.\"soviet_state=no\": 'soviet_state' is a yes/no cause: "
        "it has one key\n"
        "    fix: write given.soviet_state: under anchor = \"absent\" it judges 'civil_war' "
        "with it present (yes)\n"
        "{f}: nodes.party_brutalized.given.civil_war: 'civil_war' has states (short, long, "
        "long_and_brutal): a key names one\n"
        "    fix: write given.\"civil_war=long\", given.\"civil_war=long_and_brutal\"\n"
        "{f}: nodes.party_brutalized.given.\"civil_war=short\": 'short' is the first state "
        "of 'civil_war': base judges 'party_brutalized' with it (anchor = \"absent\")\n"
        "    fix: judge one of the other states: long, long_and_brutal"
    ),
    "prior_v2_given_on_a_gate.toml": (
        "{f}: nodes.democracy_1930.given.soviet_state: 'soviet_state' is a gate of "
        "'democracy_1930' (kind = \"requires\"): gates are not judged\n"
        "    fix: remove it: every judgement of 'democracy_1930' is made inside its gates "
        "(with them open)\n"
        "{f}: nodes.war_communism.given.\"civil_war=long\": 'civil_war' is a gate of "
        "'war_communism' (kind = \"requires\"): gates are not judged\n"
        "    fix: remove it: every judgement of 'war_communism' is made inside its gates "
        "(with them open)"
    ),
    "prior_v2_history_unknown.toml": (
        "{f}: nodes.party_brutalized: anchor = \"history\" needs what happened to every "
        "cause of 'party_brutalized', but the history of 'civil_war' is disputed (long=0.3, "
        "long_and_brutal=0.7)\n"
        "    fix: write anchor = \"absent\" under [nodes.party_brutalized], or record what "
        "happened to 'civil_war' in the scenario\n"
        "{f}: nodes.democracy_1930.anchor: must be \"absent\" or \"history\", got 'histroy' "
        "(did you mean 'history'?)\n"
        "    fix: write anchor = \"history\" to judge with the causes as they were, or "
        "\"absent\" (the default) to judge with them absent"
    ),
    "prior_v2_interaction_key.toml": (
        "{f}: nodes.party_brutalized.given.\"civil_war & soviet_state\": 'civil_war & "
        "soviet_state' matches no interaction of 'party_brutalized' (did you mean "
        "'civil_war & centralism'?)\n"
        "    fix: judge one of its interactions: \"civil_war & centralism\"\n"
        "{f}: nodes.regime_1930.given.\"party_brutalized & soviet_state\": "
        "'party_brutalized & soviet_state' matches no interaction of 'regime_1930'\n"
        "    fix: 'regime_1930' has no [[interactions]]: declare one in the scenario first"
    ),
    "prior_v2_pod_strengths.toml": (
        "{f}: pods.softer_centralizm: 'softer_centralizm' is not a POD of scenario "
        "'v2_small' (did you mean 'softer_centralism'?)\n"
        "    fix: name one of the scenario's [pods.*]: milder_war, softer_centralism, "
        "no_soviets\n"
        "{f}: pods.softer_centralism.do.centralsm: POD 'softer_centralism' does not set "
        "'centralsm' (did you mean 'centralism'?)\n"
        "    fix: judge what it sets: centralism\n"
        "{f}: pods.milder_war.do.civil_war: 'civil_war' has states (short, long, "
        "long_and_brutal): a judged strength is P(civil_war = yes) under the POD, for a "
        "yes/no event\n"
        "    fix: remove it: the scenario's weights over the states apply\n"
        "{f}: pods.no_soviets.do.soviet_state: POD 'no_soviets' sets 'soviet_state' for "
        "certain: only a soft POD's strength is judged\n"
        "    fix: remove it, or make the POD soft in the scenario (a probability)"
    ),
    "prior_v2_unknown_state.toml": (
        "{f}: nodes.party_brutalized.given.\"civil_war=lnog\": unknown state 'lnog' of "
        "'civil_war' (did you mean 'long'?)\n"
        "    fix: use one of: short, long, long_and_brutal\n"
        "{f}: nodes.regime_1930.base.open: unknown state 'open' of 'regime_1930'\n"
        "    fix: use one of: one_party, open_party, many_parties\n"
        "{f}: nodes.regime_1930.given.party_brutalized.many_partys: unknown state "
        "'many_partys' of 'regime_1930' (did you mean 'many_parties'?)\n"
        "    fix: use one of: one_party, open_party, many_parties"
    ),
    "prior_wrong_length.toml": (
        "{f}: nodes.captain.base: must have three numbers [low, median, high], got 2: [0.1, 0.5]\n"
        "    fix: write e.g. [0.1, 0.3, 0.6]\n"
        "{f}: nodes.captain.given.court_order: must have three numbers [low, median, high], got "
        "4: [0.1, 0.5, 0.8, 0.9]\n"
        "    fix: write e.g. [0.1, 0.3, 0.6]\n"
        "{f}: nodes.death.base: must have three numbers [low, median, high], got 0: []\n"
        "    fix: write e.g. [0.1, 0.3, 0.6]"
    ),
    "prior_wrong_types.toml": (
        "{f}: id: must be a string, got 1 (an integer)\n"
        "    fix: write it in double quotes\n"
        "{f}: name: must be a string, got True (true/false)\n"
        "    fix: write it in double quotes\n"
        "{f}: summary: must be a string, got ['s'] (an array)\n"
        "    fix: write it in double quotes\n"
        "{f}: based_on: must be an array of posts, got '#1 Pearl' (a string)\n"
        "    fix: write e.g. [\"#7 Garetor\"]\n"
        "{f}: interval: must be a number in (0, 1), got '90%' (a string)\n"
        "    fix: write a probability such as 0.3\n"
        "{f}: nodes: must be a table, got [1, 2] (an array)\n"
        "    fix: write it as a TOML table"
    ),
    "scenario_backward_time.toml": (
        "{f}: edges[0]: runs backwards in time: b (1910) -> a (1900)\n"
        "    fix: reverse the edge or correct the years"
    ),
    "scenario_bad_bounded_rows.toml": (
        "{f}: data[0]: gives both successes and at_most\n"
        "    fix: write successes = N for a count, or at_most = N when the source only bounds "
        "it (no more than N)\n"
        "{f}: data[1]: gives neither successes nor at_most\n"
        "    fix: write successes = N for a count, or at_most = N when the source only bounds "
        "it (no more than N)\n"
        "{f}: data[2].at_most: at most 12 successes in 10 trials\n"
        "    fix: at_most must not exceed trials"
    ),
    "scenario_bad_data_rows.toml": (
        "{f}: data[0].successes: 12 successes in 10 trials\n"
        "    fix: successes must not exceed trials\n"
        "{f}: data[1].trials: must be from 1 to 1000000000, got 0\n"
        "    fix: correct the number\n"
        "{f}: data[1].given.a: 'a' is not a cause of 'c'\n"
        "    fix: name a cause of c: b\n"
        "{f}: data[2].given.a: must be true or false, got 'yes'\n"
        "    fix: write true or false\n"
        "{f}: data[3].given: does not set every cause of 'c': missing b\n"
        "    fix: give the value of each cause the count refers to\n"
        "{f}: data[4].node: unknown node 'd'\n"
        "    fix: name one of the [nodes.*] tables, or add the node\n"
        "{f}: data[4].successes: must be at least 0, got -1\n"
        "    fix: correct the number\n"
        "{f}: data[5].note: is missing\n"
        "    fix: add 'note = ...'\n"
        "{f}: data[5].given: must be a table of cause = true/false, got [True]\n"
        "    fix: write e.g. given = { civil_war_severe = true } or given = {}"
    ),
    "scenario_bad_history.toml": (
        "{f}: nodes.a.history: must be in [0, 1], got 1.5\n"
        "    fix: write a probability between 0 and 1\n"
        "{f}: nodes.b.history: must be in [0, 1], got nan\n"
        "    fix: write a probability between 0 and 1\n"
        "{f}: nodes.c.history: must be in [0, 1], got "
        "999999999999999999999999999999999999999999999999999999999...\n"
        "    fix: write a probability between 0 and 1"
    ),
    "scenario_bad_history_types.toml": (
        "{f}: nodes.a.history: must be true, false or a number in [0, 1], got 'true' (a string)\n"
        "    fix: write a probability such as 0.3\n"
        "{f}: nodes.b.history: must be true, false or a number in [0, 1], got [0.8] (an array)\n"
        "    fix: write a probability such as 0.3\n"
        "{f}: nodes.c.history: must be in [0, 1], got -inf\n"
        "    fix: write a probability between 0 and 1"
    ),
    "scenario_bad_pods.toml": (
        "{f}: pods.typo.do.bb: unknown node 'bb' (did you mean 'b'?)\n"
        "    fix: name one of the [nodes.*] tables, or add the node\n"
        "{f}: pods.end.do.c: a POD may not set the outcome itself\n"
        "    fix: intervene on an earlier event\n"
        "{f}: pods.nothing.do: must be a non-empty table of node = value, got {}\n"
        "    fix: write e.g. do = { civil_war_severe = false }\n"
        "{f}: pods.words.do: must be a non-empty table of node = value, got 'a = false'\n"
        "    fix: write e.g. do = { civil_war_severe = false }\n"
        "{f}: pods.odd.do.a: must be in [0, 1], got 1.5\n"
        "    fix: write a probability between 0 and 1\n"
        "{f}: pods.odd.do.b: 'yes' names a state, but 'b' is a yes/no event\n"
        "    fix: write true or false (a number in [0, 1] for a soft POD)"
    ),
    "scenario_bad_years.toml": (
        "{f}: nodes.a.year: must be from 1 to 3000, got 0\n"
        "    fix: correct the number\n"
        "{f}: nodes.b.year: must be from 1 to 3000, got 3001\n"
        "    fix: correct the number\n"
        "{f}: nodes.c.year: must be an integer, got 1920.0 (a number)\n"
        "    fix: write a whole number without quotes"
    ),
    "scenario_citations.toml": (
        "{f}: edges[0].by: cites no post\n"
        "    fix: cite the post(s) that make the claim, e.g. [\"#7 Garetor\"]\n"
        "{f}: edges[1].by[0]: 'post 3' is not a post citation\n"
        "    fix: write \"#N Author\", e.g. \"#7 Garetor\"\n"
        "{f}: edges[1].by[1]: post #0 does not exist: the thread has posts #1..#10\n"
        "    fix: check the post number\n"
        "{f}: edges[1].by[2]: post #11 does not exist: the thread has posts #1..#10\n"
        "    fix: check the post number\n"
        "{f}: edges[1].by[3]: '#12345678901 long' is not a post citation\n"
        "    fix: write \"#N Author\", e.g. \"#7 Garetor\"\n"
        "{f}: edges[1].by[4]: 7 is not a post citation\n"
        "    fix: write \"#N Author\", e.g. \"#7 Garetor\"\n"
        "{f}: edges[1].disputed_by: must be an array of posts, got '#3 z' (a string)\n"
        "    fix: write e.g. [\"#7 Garetor\"]\n"
        "{f}: pods.no_a.by: must be an array of posts, got '#4 w' (a string)\n"
        "    fix: write e.g. [\"#7 Garetor\"]"
    ),
    "scenario_cycle.toml": (
        "{f}: edges: the graph has a cycle: a -> b -> c -> a\n"
        "    fix: remove or reverse one of these edges; causes must come before effects"
    ),
    "scenario_dangling_edges.toml": (
        "{f}: edges[0].cause: unknown node 'aa' (did you mean 'a'?)\n"
        "    fix: name one of the [nodes.*] tables, or add the node\n"
        "{f}: edges[1].effect: unknown node 'zebra'\n"
        "    fix: name one of the [nodes.*] tables, or add the node"
    ),
    "scenario_dangling_outcome.toml": (
        "{f}: outcome: 'd' is not a node\n"
        "    fix: name one of the [nodes.*] tables"
    ),
    "scenario_data_too_many_trials.toml": (
        "{f}: data[0].trials: must be from 1 to 1000000000, got "
        "100000000000000000000000000000000000000000000000000000000...\n"
        "    fix: correct the number"
    ),
    "scenario_data_not_array.toml": (
        "{f}: data: must be an array of tables ([[data]]), got {'node': 'b'}\n"
        "    fix: write each row as a [[data]] table"
    ),
    "scenario_duplicate_edge.toml": (
        "{f}: edges[2]: repeats the edge a -> b\n"
        "    fix: merge the two claims into one edge (cite all their posts)"
    ),
    "scenario_empty_strings.toml": (
        "{f}: id: is empty\n"
        "    fix: give an id\n"
        "{f}: title: is empty\n"
        "    fix: write some text\n"
        "{f}: nodes.b.label: is empty\n"
        "    fix: write some text\n"
        "{f}: edges[0].claim: is empty\n"
        "    fix: write some text"
    ),
    "scenario_missing_keys.toml": (
        "{f}: id: is missing\n"
        "    fix: add 'id = ...'\n"
        "{f}: title: is missing\n"
        "    fix: add 'title = ...'\n"
        "{f}: source: is missing\n"
        "    fix: add 'source = ...'\n"
        "{f}: nodes: is missing\n"
        "    fix: add 'nodes = ...'\n"
        "{f}: edges: is missing\n"
        "    fix: add 'edges = ...'\n"
        "{f}: pods: is missing\n"
        "    fix: add 'pods = ...'"
    ),
    "scenario_no_nodes.toml": (
        "{f}: nodes: the scenario has no nodes\n"
        "    fix: add [nodes.<id>] tables"
    ),
    "scenario_node_not_a_table.toml": (
        "{f}: nodes.c: must be a table, got 'C happens' (a string)\n"
        "    fix: write it as a TOML table"
    ),
    "scenario_nodes_not_tables.toml": (
        "{f}: nodes: must be a table, got ['a', 'b'] (an array)\n"
        "    fix: write it as a TOML table\n"
        "{f}: edges: must be an array of tables ([[edges]]), got 'a -> b'\n"
        "    fix: write each edge as an [[edges]] table\n"
        "{f}: pods: must be a table, got 3 (an integer)\n"
        "    fix: write it as a TOML table"
    ),
    "scenario_not_snake_case.toml": (
        "{f}: id: 'Small Scenario' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter\n"
        "{f}: nodes.Civil-War: 'Civil-War' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter\n"
        "{f}: pods.NoB: 'NoB' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter"
    ),
    "scenario_outcome_has_a_bad_year.toml": (
        "{f}: nodes.c.year: must be an integer, got '1920' (a string)\n"
        "    fix: write a whole number without quotes"
    ),
    "scenario_pod_named_history.toml": (
        "{f}: pods.history: 'history' is the name of the baseline row\n"
        "    fix: choose another POD id"
    ),
    "scenario_self_loop.toml": (
        "{f}: edges[2]: the edge runs from 'b' to itself\n"
        "    fix: remove it: an event cannot cause itself"
    ),
    "scenario_unknown_keys.toml": (
        "{f}: colour: unknown key 'colour'\n"
        "    fix: remove it; allowed keys here: id, title, outcome, source, nodes, edges, pods, "
        "posts, description, data, outcomes, interactions\n"
        "{f}: nodes.c.histroy: unknown key 'histroy' (did you mean 'history'?)\n"
        "    fix: remove it; allowed keys here: label, year, history, note, states\n"
        "{f}: edges[2].disputed: unknown key 'disputed' (did you mean 'disputed_by'?)\n"
        "    fix: remove it; allowed keys here: cause, effect, claim, by, disputed_by, kind, "
        "at_least, qualified_by"
    ),
    "scenario_v2_at_least.toml": (
        "{f}: edges[4].at_least: is only for a necessary condition (kind = \"requires\")\n"
        "    fix: remove at_least, or write kind = \"requires\" if the effect needs the cause\n"
        "{f}: edges[5].at_least: unknown state 'very_long' of 'war' (did you mean 'long'?)\n"
        "    fix: use one of: short, long, long_and_brutal\n"
        "{f}: edges[6].at_least: 'short' is the first state of 'war': at least it always holds\n"
        "    fix: name a higher state: long, long_and_brutal\n"
        "{f}: edges[7].at_least: is missing: 'war' has states (short, long, long_and_brutal)\n"
        "    fix: add at_least = \"...\", the lowest state that opens the gate, one of: "
        "long, long_and_brutal\n"
        "{f}: edges[8].at_least: 'no' is the first state of 'c': at least it always holds\n"
        "    fix: name a higher state: yes"
    ),
    "scenario_v2_data_rows.toml": (
        "{f}: data[0].node: 'd' has states (low, high): a data row counts how often a "
        "yes/no event happened\n"
        "    fix: count a yes/no event instead, or leave the row out\n"
        "{f}: data[1].given.a: 'a' is a gate of 'c' (kind = \"requires\"): the count is "
        "read inside the gates\n"
        "    fix: remove it from given\n"
        "{f}: data[2].given.war: must be a state of 'war' (short, long, "
        "long_and_brutal), got True\n"
        "    fix: write the state's name in double quotes\n"
        "{f}: data[3].given.war: unknown state 'lng' of 'war' (did you mean 'long'?)\n"
        "    fix: use one of: short, long, long_and_brutal"
    ),
    "scenario_v2_gate_on_a_non_node.toml": (
        "{f}: edges[4].cause: unknown node 'aa' (did you mean 'a'?)\n"
        "    fix: name one of the [nodes.*] tables, or add the node\n"
        "{f}: edges[5].kind: must be \"influences\" or \"requires\", got 'require' (did you "
        "mean 'requires'?)\n"
        "    fix: write kind = \"requires\" for a necessary condition, or leave it out for "
        "an influence"
    ),
    "scenario_v2_history_contradicts_a_gate.toml": (
        "{f}: nodes.c.history: history says c is 'yes' but its gate a >= yes is closed "
        "(a is 'no')\n"
        "    fix: correct one of the two histories, or make the edge from a an influence "
        "(remove kind = \"requires\")"
    ),
    "scenario_v2_interaction_not_a_cause.toml": (
        "{f}: interactions[0].causes.c: 'c' is not a cause of 'b'\n"
        "    fix: add an [[edges]] from c to b, or name one of its influences: a, war\n"
        "{f}: interactions[1].causes: must be a table of two or more causes, got {'a': True}\n"
        "    fix: write e.g. causes = { lenin_returns = \"yes\", centralist_leadership = "
        "\"yes\" }: each cause at least that state"
    ),
    "scenario_v2_interaction_over_a_gate.toml": (
        "{f}: interactions[0].causes.a: 'a' is a gate of 'c' (kind = \"requires\"), not an "
        "influence\n"
        "    fix: an interaction combines influences: drop it from causes, or make the "
        "edge an influence\n"
        "{f}: interactions[2]: repeats the interaction war & a on b\n"
        "    fix: merge the two claims into one interaction (cite all their posts)\n"
        "{f}: interactions[3].causes.war: 'short' is the first state of 'war': at least "
        "it always holds\n"
        "    fix: name a higher state: long, long_and_brutal\n"
        "{f}: interactions[3].causes.a: 'no' is the first state of 'a': at least it always holds\n"
        "    fix: name a higher state: yes"
    ),
    "scenario_v2_no_outcome.toml": (
        "{f}: outcome: is missing\n"
        "    fix: add 'outcome = ...', or 'outcomes = [...]' for several outcomes"
    ),
    "scenario_v2_outcome_and_outcomes.toml": (
        "{f}: outcomes: is given with 'outcome' as well\n"
        "    fix: keep one: outcome = \"...\" (one yes/no event) or outcomes = [...]"
    ),
    "scenario_v2_outcomes.toml": (
        "{f}: outcomes[1]: 'war' has states (short, long, long_and_brutal): an outcome "
        "of it says which count\n"
        "    fix: write { event = \"war\", at_least = \"long_and_brutal\" }\n"
        "{f}: outcomes[2].at_least: is missing: 'war' has states (short, long, long_and_brutal)\n"
        "    fix: add at_least = \"...\", one of: long, long_and_brutal\n"
        "{f}: outcomes[3].at_least: 'short' is the first state of 'war': at least it "
        "always holds\n"
        "    fix: name a higher state: long, long_and_brutal\n"
        "{f}: outcomes[4]: repeats the outcome 'c'\n"
        "    fix: remove one of the two"
    ),
    "scenario_v2_pod_sets_an_outcome.toml": (
        "{f}: pods.short_war.do.war: a POD may not set an outcome: 'war' is one\n"
        "    fix: intervene on an earlier event"
    ),
    "scenario_v2_pod_weights.toml": (
        "{f}: pods.shorter.do.war: weights sum to 0.9, not 1\n"
        "    fix: make the weights add up to 1 (the chance of each state)\n"
        "{f}: pods.odd.do.war.short: must be a weight in [0, 1], got 1.5\n"
        "    fix: write a number such as 0.3\n"
        "{f}: pods.odd.do.war.long: must be a weight in [0, 1], got -0.5\n"
        "    fix: write a number such as 0.3\n"
        "{f}: pods.none.do.war: gives every state weight 0\n"
        "    fix: give at least one state a weight above 0\n"
        "{f}: pods.outside.scope: must be \"in\" or \"out\", got 'outside'\n"
        "    fix: write scope = \"out\" for a POD that removes the question itself, or "
        "leave it out"
    ),
    "scenario_v2_probability_pod_on_a_state_event.toml": (
        "{f}: pods.some_war.do.war: must name a state of 'war' (short, long, "
        "long_and_brutal), got 0.5\n"
        "    fix: write a state, e.g. \"long_and_brutal\", or weights for a soft POD, e.g. "
        "{ short = 0.3, long_and_brutal = 0.7 }\n"
        "{f}: pods.no_war.do.war: must name a state of 'war' (short, long, "
        "long_and_brutal), got False\n"
        "    fix: write a state, e.g. \"long_and_brutal\", or weights for a soft POD, e.g. "
        "{ short = 0.3, long_and_brutal = 0.7 }"
    ),
    "scenario_v2_state_pod_on_a_yes_no_event.toml": (
        "{f}: pods.long_b.do.b: 'long' names a state, but 'b' is a yes/no event\n"
        "    fix: write true or false (a number in [0, 1] for a soft POD)"
    ),
    "scenario_v2_states.toml": (
        "{f}: nodes.war.history: must name a state of 'war' (short, long, "
        "long_and_brutal), got True\n"
        "    fix: write a state, e.g. \"long_and_brutal\", or weights for a disputed "
        "record, e.g. { short = 0.3, long_and_brutal = 0.7 }\n"
        "{f}: nodes.d.states: needs at least two states, got ['one']\n"
        "    fix: write them least first, e.g. states = [\"short\", \"long\", "
        "\"long_and_brutal\"]; a yes/no event is written without states\n"
        "{f}: nodes.e.states[1]: 'High' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter\n"
        "{f}: nodes.e.states[2]: names the state 'low' twice\n"
        "    fix: list each state once\n"
        "{f}: nodes.f.states: must be an array of state names, got 'low, high'\n"
        "    fix: write them least first, e.g. states = [\"short\", \"long\", "
        "\"long_and_brutal\"]"
    ),
    "scenario_v2_unknown_state.toml": (
        "{f}: nodes.army.history.smal: unknown state 'smal' of 'army' (did you mean 'small'?)\n"
        "    fix: use one of: small, large\n"
        "{f}: edges[4].at_least: unknown state 'lnog' of 'war' (did you mean 'long'?)\n"
        "    fix: use one of: short, long, long_and_brutal\n"
        "{f}: outcomes[1].at_least: unknown state 'brutal' of 'war'\n"
        "    fix: use one of: short, long, long_and_brutal\n"
        "{f}: pods.shorter.do.war: unknown state 'shrt' of 'war' (did you mean 'short'?)\n"
        "    fix: use one of: short, long, long_and_brutal"
    ),
    "scenario_wrong_types.toml": (
        "{f}: id: must be a string, got 3 (an integer)\n"
        "    fix: write it in double quotes\n"
        "{f}: title: must be a string, got True (true/false)\n"
        "    fix: write it in double quotes\n"
        "{f}: source: must be a string, got ['a', 'test'] (an array)\n"
        "    fix: write it in double quotes\n"
        "{f}: posts: must be an integer, got '105' (a string)\n"
        "    fix: write a whole number without quotes\n"
        "{f}: nodes.a.label: must be a string, got 1 (an integer)\n"
        "    fix: write it in double quotes\n"
        "{f}: nodes.a.year: must be an integer, got '1900' (a string)\n"
        "    fix: write a whole number without quotes\n"
        "{f}: nodes.a.history: must be true, false or a number in [0, 1], got 'yes' (a string)\n"
        "    fix: write a probability such as 0.3\n"
        "{f}: nodes.c.year: must be an integer, got 1920.5 (a number)\n"
        "    fix: write a whole number without quotes\n"
        "{f}: edges: must be an array of tables ([[edges]]), got {'cause': 'a'}\n"
        "    fix: write each edge as an [[edges]] table\n"
        "{f}: pods: must be a table, got [] (an array)\n"
        "    fix: write it as a TOML table"
    ),
    "scenario_year_is_a_date.toml": (
        "{f}: nodes.a.year: must be an integer, got \"1900-01-01\" (a date)\n"
        "    fix: write a whole number without quotes"
    ),
    "syntax_bad_table_header.toml": (
        "{f}: is not valid TOML: Expected ']' at the end of a table declaration (at line 6, "
        "column 9)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_duplicate_key.toml": (
        "{f}: is not valid TOML: Cannot overwrite a value (at line 6, column 16)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_duplicate_node.toml": (
        "{f}: is not valid TOML: Cannot declare ('nodes', 'a') twice (at line 21, column 9)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_duplicate_pod.toml": (
        "{f}: is not valid TOML: Cannot declare ('pods', 'no_a') twice (at line 38, column 11)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_missing_value.toml": (
        "{f}: is not valid TOML: Invalid value (at line 3, column 8)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_unclosed_array.toml": (
        "{f}: is not valid TOML: Invalid value (at end of document)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "syntax_unclosed_string.toml": (
        "{f}: is not valid TOML: Illegal character '\\n' (at line 2, column 8)\n"
        "    fix: fix the syntax at that line and column"
    ),
    "utf16.toml": (
        "{f}: is not UTF-8 text (byte 0xff at offset 0)\n"
        "    fix: save the file as UTF-8 TOML"
    ),
    "utf8_bom.toml": (
        # the byte-order mark is dropped; what follows is read as usual
        "{f}: edges: is missing\n"
        "    fix: add 'edges = ...'\n"
        "{f}: pods: is missing\n"
        "    fix: add 'pods = ...'"
    ),
    "whitespace_only.toml": (
        "{f}: is empty\n"
        "    fix: write a scenario or prior set in TOML; see the README"
    ),
}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


def expected(name: str, path: str | Path | None = None) -> str:
    return EXPECTED[name].replace("{f}", str(path if path is not None else BAD / name))


def block(path: str | Path, message: str) -> str:
    """What `check` prints on stderr for one bad file."""
    n = message.count("\n    fix: ")
    return f"error {path}: {n} problem{'s' if n != 1 else ''}\n{message}\n"


def needs_squad(name: str) -> bool:
    return name.startswith("prior_")


def its_scenario(name: str) -> str:
    """The scenario file a prior-set fixture is checked with."""
    return V2 if name.startswith("prior_v2_") else SQUAD




def test_the_catalogue_is_complete():
    on_disk = {p.name for p in (REPO / BAD).iterdir() if not p.name.startswith(".")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_reports_the_whole_message_and_exits_2(name):
    path = BAD / name
    args = ["check", its_scenario(name), str(path)] if needs_squad(name) else ["check", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr == block(path, expected(name))
    checked = "checked 2 files: 1 ok, 1" if needs_squad(name) else "checked 1 file: 0 ok, 1"
    assert result.stdout.splitlines()[-1] == f"{checked} with problems"


READERS = [n for n in sorted(EXPECTED) if n.startswith(("scenario_", "prior_"))
           and n not in ("prior_missing_scenario.toml", "prior_scenario_not_a_string.toml")]


@pytest.mark.parametrize("name", READERS)
def test_the_readers_raise_the_same_text(name):
    """load_scenario / load_prior_set give the same problems as `check`, as their own class."""
    path = BAD / name
    if name.startswith("scenario_"):
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
    else:
        scenario = load_scenario("ussr_1930" if "ussr_1930" in path.read_text("utf-8")
                                 else its_scenario(name))
        with pytest.raises(ElicitationError) as err:
            load_prior_set(path, scenario)
    assert str(err.value) == expected(name)


def _blocks(stderr: str) -> dict[str, str]:
    """Split `check`'s stderr into one block per file."""
    heads = list(re.finditer(r"^error (.+?): \d+ problems?$", stderr, flags=re.M))
    return {m.group(1): stderr[m.start():(heads[k + 1].start() if k + 1 < len(heads)
                                          else len(stderr))]
            for k, m in enumerate(heads)}


def test_the_whole_folder_at_once():
    """`plausibly check tests/data/bad/*`: every file's problems, in order, never a traceback."""
    files = [str(BAD / n) for n in sorted(EXPECTED)]
    result = runner.invoke(app, ["check", SQUAD, V2, *files])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    blocks = _blocks(result.stderr)
    assert list(blocks) == files
    for name, path in zip(sorted(EXPECTED), files, strict=True):
        assert blocks[path] == block(path, expected(name))
    assert result.stdout == (
        "ok  tests/data/firing_squad.toml: scenario firing_squad: 5 events (1-4), 5 edges, "
        "2 PODs (1 soft), 0 data rows\n"
        "ok  tests/data/v2_small.toml: scenario v2_small: 7 events (1917-1930), 8 edges "
        "(3 gates), 1 interaction, 2 outcomes, 3 PODs (2 soft, 1 out of scope), 1 data row\n"
        f"checked {len(files) + 2} files: 2 ok, {len(files)} with problems\n")


def test_the_console_script_on_the_folder_never_shows_a_traceback():
    """The same through the installed `plausibly` script in a real process (as a shell runs it)."""
    script = Path(sys.executable).with_name("plausibly")
    if not script.exists():
        pytest.skip("the console script is not installed beside this Python")
    # what the shell's glob gives (it skips dotfiles such as .gitattributes)
    files = sorted(str(p) for p in BAD.glob("*") if not p.name.startswith("."))
    proc = subprocess.run([str(script), "check", SQUAD, *files], capture_output=True,
                          text=True, cwd=REPO, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    in_process = runner.invoke(app, ["check", SQUAD, *files])
    assert proc.stderr == in_process.stderr
    assert proc.stdout == in_process.stdout


# --------------------------------------------------------------------------- made at test time


def test_a_file_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("big.toml").write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10) + b"#")
    result = runner.invoke(app, ["check", "big.toml"])
    assert result.exit_code == 2
    assert result.stderr == block("big.toml", (
        "big.toml: is 5,000,001 bytes; a scenario or prior set file is at most 5,000,000 bytes\n"
        "    fix: check that this is really a scenario or prior set file (TOML text)"))


def test_a_50_mb_file_is_refused_without_being_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open("huge.toml", "wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50 * 1024 * 1024)
    result = runner.invoke(app, ["check", "huge.toml"])
    assert result.exit_code == 2
    assert result.stderr == block("huge.toml", (
        "huge.toml: is 52,428,800 bytes; a scenario or prior set file is at most 5,000,000 "
        "bytes\n    fix: check that this is really a scenario or prior set file (TOML text)"))


def test_a_file_at_the_size_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("edge.toml").write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10))
    result = runner.invoke(app, ["check", "edge.toml"])
    assert result.exit_code == 2
    assert result.stderr == block("edge.toml", (
        "edge.toml: is neither a scenario (no 'outcome' key) nor a prior set (no 'scenario' "
        "key)\n    fix: see the README for both file formats"))


def test_a_missing_file_and_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("folder.toml").mkdir()
    result = runner.invoke(app, ["check", "nowhere.toml", "folder.toml"])
    assert result.exit_code == 2
    assert result.stderr == (
        block("nowhere.toml", "nowhere.toml: cannot read the file (No such file or directory)\n"
              "    fix: check that the path names an existing scenario or prior set file")
        + block("folder.toml", "folder.toml: is a folder, not a file\n"
                "    fix: name a scenario or prior set .toml file"))


PRIOR = 'id = "p"\nname = "P"\nsummary = "s"\n'


def test_a_deeply_nested_scenario_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("deep.toml").write_text(PRIOR + "[scenario." + ".".join(["z"] * 3000) + "]\nq = 1\n")
    result = runner.invoke(app, ["check", "deep.toml"])
    assert result.exit_code == 2
    assert result.stderr == block("deep.toml", (
        "deep.toml: is nested too deeply to be read\n"
        "    fix: flatten it: a scenario or prior set file needs no more than four levels of "
        "tables"))


@pytest.mark.parametrize("limit", [1000, 10_000])
@pytest.mark.parametrize("name", ["deeply_nested_tables.toml", "deeply_nested_arrays.toml"])
def test_nesting_is_refused_whatever_the_recursion_limit(limit, name):
    # PyMC raises the interpreter's recursion limit tenfold when imported: the
    # message once depended on whether it had been (a test-order dependence)
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        result = runner.invoke(app, ["check", str(Path(__file__).parents[1] / "data" / "bad"
                                                  / name)])
    finally:
        sys.setrecursionlimit(old)
    assert result.exit_code == 2
    assert "is nested too deeply to be read" in result.stderr


def test_an_empty_scenario_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "" must not be read as the path of the current folder
    Path("empty_id.toml").write_text(PRIOR + 'scenario = ""\n')
    result = runner.invoke(app, ["check", "empty_id.toml"])
    assert result.exit_code == 2
    assert result.stderr == block("empty_id.toml", (
        "empty_id.toml: scenario: must be a scenario id, got ''\n"
        '    fix: write the id of the scenario, e.g. scenario = "ussr_1930"'))


def test_a_prior_set_for_a_broken_scenario_given_alongside(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = (REPO / "tests/data/firing_squad.toml").read_text("utf-8").replace(
        "year = 4", "year = 0")
    Path("squad.toml").write_text(broken)
    Path("p.toml").write_text(PRIOR + 'scenario = "firing_squad"\n')
    result = runner.invoke(app, ["check", "squad.toml", "p.toml"])
    assert result.exit_code == 2
    assert result.stderr == (
        block("squad.toml", "squad.toml: nodes.death.year: must be from 1 to 3000, got 0\n"
              "    fix: correct the number")
        + block("p.toml", "p.toml: scenario: names scenario 'firing_squad', given on this "
                "command line but with problems of its own (above)\n"
                "    fix: fix the scenario first; then this prior set is checked"))
