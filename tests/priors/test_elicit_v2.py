"""elicit on a version 2 scenario: states, gates, the history anchor, interactions, POD strengths.

The session is driven through a scripted :class:`~plausibly.priors.session.SessionIO`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import Judgement, load_prior_set
from plausibly.priors.session import plan_session, run_session

DATA = Path(__file__).parents[1] / "data"


class Scripted:
    """Answers prompts from a list, then ends input; keeps a transcript."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.log: list[str] = []

    def ask(self, prompt: str, default: str) -> str:
        if not self.answers:
            raise EOFError
        reply = self.answers.pop(0)
        self.log.append(f"{prompt} [{default}]: {reply}" if default else f"{prompt}: {reply}")
        return reply

    def say(self, kind: str, text: str) -> None:
        self.log.append(f"{kind}: {text}")


HEADER = ["school", "A school", "S.", "history"]
#: per event in time order: its answers, then a why (Enter keeps the default)
EVENTS = [
    "0.6 0.8 0.9", "",                                       # soviet_state
    "0.6 0.7 0.8", "",                                       # centralism
    "0.5 0.7 0.85", "0.7 0.8 0.9", "0.2 0.4 0.6",            # civil_war: a bad order first
    "0.05 0.2 0.4", "",
    "0.5 0.8 0.95", "",                                      # war_communism (gated)
    "0.05 0.15 0.35", "0.2 0.35 0.6", "0.5 0.8 0.95",        # party_brutalized (absent)
    "0.1 0.3 0.5", "0.6 0.85 0.95", "",
    "s", "0.1 0.3 0.5", "",                                  # democracy_1930
    "0.02 0.08 0.2", "0.02", "y", "0.2 0.4 0.6", "",         # regime_1930
]
POD = ["0.2 0.4 0.6", "Near thing."]


@pytest.fixture
def scen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "v2_small.toml", tmp_path / "v2_small.toml")
    return load_scenario(Path("v2_small.toml"))


def session(scen, out: Path, answers: list[str]) -> tuple[Scripted, object]:
    io = Scripted(answers)
    return io, run_session(scen, plan_session(scen, out), io)


def test_a_v2_session_writes_what_was_answered_and_check_accepts_it(scen):
    out = Path("v2.toml")
    io, result = session(scen, out, HEADER + EVENTS + POD)
    assert result.reason == "done", io.log
    got = load_prior_set(out, scen)
    want = load_prior_set(DATA / "v2_small_priors.toml", scen)
    assert got.anchor == "history"
    assert got.nodes["party_brutalized"].anchor == "absent"  # its cause's history is soft
    for node, nj in want.nodes.items():
        mine = got.nodes[node]
        assert (mine.base, dict(mine.base_states), dict(mine.given),
                dict(mine.given_states)) == (nj.base, dict(nj.base_states), dict(nj.given),
                                             dict(nj.given_states)), node
    assert dict(got.pods["softer_centralism"].do) == {"centralism": Judgement(0.4, 0.2, 0.6)}
    assert got.pods["softer_centralism"].why == "Near thing."
    check = CliRunner().invoke(app, ["check", "v2_small.toml", str(out)])
    assert check.exit_code == 0, check.output


def test_a_v2_session_asks_in_plain_words(scen):
    io, _ = session(scen, Path("v2.toml"), HEADER + EVENTS + POD)
    log = io.log
    assert log[log.index("Prior set id (snake_case) [v2]: school") + 3:][:2] == [
        'note: Anchor: "history" means each event is judged as it actually was (its causes as '
        "they happened), then with one cause otherwise, the rest as it was; \"absent\" means "
        "each event is judged with none of its causes present, then with one cause alone "
        "present.",
        # civil_war's history is soft, so "history" is not the default
        "Judge as it was (history) or with causes absent (absent)? [absent]: history"]
    war = log.index('event: Event 3 of 7: "How long and brutal the civil war is" '
                    "(civil_war, 1918)")
    assert log[war + 1:war + 15] == [
        'question: As it actually was (causes: soviet_state = yes), how likely is it that '
        '"How long and brutal the civil war is" is at least long?',
        "chance (low median high): 0.5 0.7 0.85",
        "fit: fitted: median 0.7, 90% interval 0.495 to 0.847",
        'question: As it actually was (causes: soviet_state = yes), how likely is it that '
        '"How long and brutal the civil war is" is at least long_and_brutal?',
        "chance (low median high): 0.7 0.8 0.9",
        "warning: at least long_and_brutal must be less likely than at least long (0.7): a "
        "higher state is rarer; type a lower median",
        "chance (low median high): 0.2 0.4 0.6",
        "fit: fitted: median 0.4, 90% interval 0.214 to 0.62",
        'states: implied by the medians: "How long and brutal the civil war is" is short 0.3, '
        "long 0.3, long_and_brutal 0.4",
        'question: Had "A soviet government holds power" been otherwise (soviet_state = no), '
        'how likely is it that "How long and brutal the civil war is" is at least long?',
        "claim: A soviet government has to fight for its power. (#1 Ann)",
        "chance (low median high): 0.05 0.2 0.4",
        "fit: fitted: median 0.2, 90% interval 0.0656 to 0.471",
        # odds(0.2) / odds(0.7) = 0.25 / 2.333 = 0.107
        'odds: "A soviet government holds power" otherwise makes "How long and brutal the '
        'civil war is" at least long 9.3 times less likely in odds than as it was (median 0.2 '
        "against 0.7)",
    ]
    assert log[war + 15] == ('states: implied by the medians, in this case: "How long and '
                             'brutal the civil war is" is short 0.8, long 0.13, '
                             "long_and_brutal 0.067")  # thresholds shifted alike
    assert ('question: Inside its gate, assuming "How long and brutal the civil war is" is at '
            'least long: how likely is "War communism is imposed"?') in log
    assert ('note: What happened to "How long and brutal the civil war is" is not known for '
            'certain, so "The party comes out of the war brutalised" is judged with its causes '
            'absent (anchor = "absent").') in log
    assert ('question: If both "How long and brutal the civil war is" was long and "The party '
            'leadership is centralist" happened, how likely is "The party comes out of the war '
            'brutalised"?') in log
    assert "claim: A long war brutalises a centralist party most of all. (#11 Kim)" in log
    assert ('question: Under "The leadership is likelier not centralist" (softer_centralism), '
            'how likely is "The party leadership is centralist"? The scenario says 0.4; Enter '
            "keeps it.") in log
    assert all(len(line) < 400 for line in log)


def test_enter_keeps_the_scenarios_pod_strength(scen):
    out = Path("v2.toml")
    io, result = session(scen, out, HEADER + EVENTS + [""])
    assert result.reason == "done", io.log
    assert not load_prior_set(out, scen).pods
    assert "[pods." not in out.read_text("utf-8")


def test_a_partly_done_v2_file_resumes_at_its_first_unanswered_judgement(scen):
    out = Path("v2.toml")
    whole = HEADER + EVENTS + POD
    first = whole.index("0.5 0.7 0.85") + 1  # stop after civil_war's first state
    io, result = session(scen, out, whole[:first])
    assert result.reason == "stopped"
    assert dict(load_prior_set(out, scen).nodes["civil_war"].base_states) == {
        "long": Judgement(0.7, 0.5, 0.85)}
    io, result = session(scen, out, whole[first:])
    assert result.reason == "done", io.log
    assert io.log[0] == (
        "note: Resuming v2.toml: 3 of 16 judgements are answered; asking the 13 that are not, "
        "from event 3 of 7 (civil_war). To go over the answered ones again, run with "
        "--from-start.")
    assert io.log[io.log.index('event: Event 3 of 7: "How long and brutal the civil war is" '
                               "(civil_war, 1918)") + 1].endswith("at least long_and_brutal?")
    Path("whole.toml").unlink(missing_ok=True)
    session(scen, Path("whole.toml"), whole)
    assert load_prior_set(out, scen).nodes == load_prior_set(Path("whole.toml"), scen).nodes
