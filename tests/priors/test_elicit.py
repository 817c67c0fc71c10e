"""elicit: the interactive session through the command line, and the prior-set writer."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from plausibly.cli.app import app
from plausibly.models.files import MAX_FILE_BYTES
from plausibly.models.scenario import load_scenario
from plausibly.priors import target
from plausibly.priors.elicitation import (
    Judgement,
    NodeJudgement,
    PriorSet,
    bundled_prior_sets,
    load_prior_set,
    parse_prior_set,
)
from plausibly.priors.fit import LogitNormal
from plausibly.priors.questions import concerns
from plausibly.priors.session import BadAnswer, read_answer
from plausibly.priors.toml_writer import dumps_prior_set, toml_string

DATA = Path(__file__).parents[1] / "data"
runner = CliRunner()

#: A whole session on the firing squad: id, name, summary, then per event its
#: base, its causes alone, and a why (Enter keeps the offered default); "y"
#: confirms a lopsided interval and a fixed chance.
FULL = [
    "pearl", "Pearl's reader", "A disciplined squad.",
    "0.9 0.95 0.99", "y", "Courts in this story order it.",              # court_order: lopsided
    "0.01, 0.02, 0.05", "0.9 0.97 0.995", 'He "always" obeys.',           # captain
    "0.001 0.01 0.05", "0.95", "y", "",                                   # rifleman_a: fixed
    "[0.001, 0.01, 0.05]", "0.9 0.97 0.99", "",                           # rifleman_b
    "0.001 0.005 0.02", "0.8 0.9 0.95", "0.8 0.9 0.95", "Either shot kills.",  # death
]
DEFAULT_WHY = "Judged by Pearl's reader in an elicitation session."
EXPECTED = {
    "id": "pearl", "name": "Pearl's reader", "scenario": "firing_squad",
    "summary": "A disciplined squad.", "interval": 0.9,
    "nodes": {
        "court_order": {"base": [0.9, 0.95, 0.99], "why": "Courts in this story order it."},
        "captain": {"base": [0.01, 0.02, 0.05], "given": {"court_order": [0.9, 0.97, 0.995]},
                    "why": 'He "always" obeys.'},
        "rifleman_a": {"base": [0.001, 0.01, 0.05], "given": {"captain": 0.95},
                       "why": DEFAULT_WHY},
        "rifleman_b": {"base": [0.001, 0.01, 0.05], "given": {"captain": [0.9, 0.97, 0.99]},
                       "why": DEFAULT_WHY},
        "death": {"base": [0.001, 0.005, 0.02],
                  "given": {"rifleman_a": [0.8, 0.9, 0.95], "rifleman_b": [0.8, 0.9, 0.95]},
                  "why": "Either shot kills."},
    },
}


@pytest.fixture
def scen(tmp_path, monkeypatch):
    """The scenario, copied to a temporary folder that is also the working folder.

    Paths are relative so that error messages stay short: on stderr, rich wraps
    lines at 150 characters when it is not writing to a terminal.
    """
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "firing_squad.toml", tmp_path / "firing_squad.toml")
    return Path("firing_squad.toml")


def elicit(scen, out, answers, *extra):
    """Run a session with these lines as input (input ends after the last one)."""
    text = "".join(f"{a}\n" for a in answers)
    return runner.invoke(app, ["elicit", str(scen), "-o", str(out), *extra], input=text)


def lines(result):
    return result.output.splitlines()


def expected(scen, data, path):
    return parse_prior_set(data, load_scenario(scen), file=str(path))


# ------------------------------------------------------------------ whole sessions


def test_full_session_writes_the_answers_and_the_file_checks(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, FULL)
    assert result.exit_code == 0, result.output
    assert load_prior_set(out, load_scenario(scen)) == expected(scen, EXPECTED, out)
    assert lines(result)[-2:] == [f"saved {out}: judges 10 of 10 parameters",
                                  f"check it with: plausibly check {scen} {out}"]
    check = runner.invoke(app, ["check", str(scen), str(out)])
    assert check.exit_code == 0, check.output
    assert f"ok  {out}: prior set pearl for firing_squad: judges 10 of 10 parameters" in (
        lines(check))
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # the usual mode, not mkstemp's 0600


def test_session_speaks_plain_words_and_gives_feedback(scen, tmp_path):
    result = elicit(scen, Path("me.toml"), FULL)
    got = lines(result)
    assert got[:5] == [
        "Scenario firing_squad: Pearl's firing squad. 5 events to judge, in time order.",
        "Give each chance as three numbers, low median high (e.g. 0.1 0.3 0.6):",
        "your best guess, and a range you are 90% sure of. One number fixes a chance exactly.",
        "At any question: Enter keeps the value in [brackets], s skips, q saves and quits.",
        "Each answer is saved to me.toml at once.",
    ]
    assert "Prior set id (snake_case) [me]: pearl" in got
    start = got.index('Event 1 of 5: "The court orders the execution" (court_order, 1)')
    assert got[start:start + 6] == [
        'Event 1 of 5: "The court orders the execution" (court_order, 1)',
        'How likely is "The court orders the execution"?',
        "chance (low median high): 0.9 0.95 0.99",
        "  fitted: median 0.95, 90% interval 0.851 to 0.984",
        "  warning: that interval is lopsided: on the log-odds scale, where the fit works, your "
        "median 0.95 is 2.2 times closer to the low end 0.9 than to the high end 0.99 (lopsided: "
        "one side more than 2 times the other). The fit keeps your median and the interval's "
        "width on that scale, so it reads your answer as 0.851 to 0.984",
        "keep it? [y/N]: y",
    ]
    captain = got.index('Event 2 of 5: "The captain signals" (captain, 2)')
    assert got[captain + 1:captain + 8] == [
        'If "The court orders the execution" did not happen, how likely is '
        '"The captain signals"?',
        "chance (low median high): 0.01, 0.02, 0.05",
        "  fitted: median 0.02, 90% interval 0.00886 to 0.0445",
        'If "The court orders the execution" happened, how likely is "The captain signals"?',
        "  claim: The captain signals when the court orders it. (#1 Pearl)",
        "chance (low median high): 0.9 0.97 0.995",
        "  fitted: median 0.97, 90% interval 0.873 to 0.993",
    ]
    # odds(0.97) / odds(0.02) = (0.97 / 0.03) / (0.02 / 0.98) = 1584.3
    assert got[captain + 8] == (
        '  "The court orders the execution" alone makes "The captain signals" 1,584 times '
        "likelier in odds than without it (median 0.97 against 0.02)")
    fixed = got.index("  fixed: exactly 0.95, no uncertainty")
    assert got[fixed + 1:fixed + 3] == [
        "  warning: one number means certainty: the chance is exactly 0.95, with no uncertainty "
        "at all, and nothing in history can move it; for a best guess with some doubt type "
        "three numbers (low median high)",
        "keep it? [y/N]: y"]
    assert ('If none of "Rifleman A fires", "Rifleman B fires" happened, how likely is '
            '"The prisoner dies"?') in got
    assert ('If only "Rifleman A fires" happened (not "Rifleman B fires"), how likely is '
            '"The prisoner dies"?') in got
    # odds(0.9) / odds(0.005) = 9 / (0.005 / 0.995) = 1791
    assert ('  "Rifleman A fires" alone makes "The prisoner dies" 1,791 times likelier in odds '
            "than with none of its causes (median 0.9 against 0.005)") in got
    assert ('Why these chances for "Rifleman A fires"? (your reasons, the posts) '
            f"[{DEFAULT_WHY}]: ") in got


def test_odds_feedback_for_an_inhibitor_and_without_a_base(scen, tmp_path):
    answers = ["", "", "", "s", "s", "0.5", "y", "q"]  # court_order skipped; captain's base too
    result = elicit(scen, Path("me.toml"), answers)
    got = lines(result)
    assert ('  no base chance is judged for "The captain signals", so the change in odds '
            "cannot be shown") in got
    result = elicit(scen, Path("me2.toml"), ["", "", "", "s", "0.5", "y", "0.2", "y", "q"])
    # odds(0.5) / odds(0.2) = 1 / 0.25 = 4
    assert ('  "The court orders the execution" alone makes "The captain signals" 4 times less '
            "likely in odds than without it (median 0.2 against 0.5)") in lines(result)


def test_bad_answers_are_asked_again_with_the_reason(scen, tmp_path):
    out = Path("me.toml")
    bad = ["abc", "0.3 0.2", "0.3 0.2 0.5", "0 0.5 0.9", "30", "1.5", "nan", "0.3 0.3 0.3", ""]
    result = elicit(scen, out, ["", "", "", *bad, "0.2 0.3 0.4", "q"])
    assert result.exit_code == 0, result.output
    warnings = [x for x in lines(result) if x.startswith("  warning:")]
    assert warnings == [
        '  warning: cannot read "abc" as a number: type chances such as 0.1 0.3 0.6',
        '  warning: "0.3 0.2" has 2 numbers: type three (low median high) or one (a fixed '
        "chance)",
        '  warning: "0.3 0.2 0.5" is not increasing: type the lowest plausible chance, then your '
        "best guess, then the highest",
        "  warning: 0 is not a chance strictly between 0 and 1: for almost never type e.g. 0.01",
        "  warning: 30 is not a chance strictly between 0 and 1: for 30% type 0.3",
        "  warning: 1.5 is not a chance strictly between 0 and 1: for almost certain type e.g. "
        "0.99",
        "  warning: nan is not a chance strictly between 0 and 1: type a number such as 0.3",
        '  warning: "0.3 0.3 0.3" is three times the same chance: for a fixed chance type one '
        "number",
        "  warning: no answer: type three chances (e.g. 0.1 0.3 0.6) or one, s to skip or q to "
        "save and quit",
    ]
    assert lines(result).count("chance (low median high): ") == 1  # the empty answer
    saved = load_prior_set(out, load_scenario(scen))
    assert saved.nodes["court_order"].base == Judgement(0.3, 0.2, 0.4)


def test_a_bad_id_is_asked_again(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["My Priors", "my_priors", "", "", "0.5", "y", "q"])
    assert '  warning: "My Priors" is not a snake_case id: use lower-case letters, digits and _, ' \
        "starting with a letter" in lines(result)
    assert load_prior_set(out, load_scenario(scen)).id == "my_priors"


def test_skip_leaves_parameters_unjudged(scen, tmp_path):
    out = Path("me.toml")
    answers = ["", "", "",
               "s",                      # court_order: nothing judged, so no why asked
               "0.01 0.02 0.05", "s", "",  # captain: base only
               "s", "s",                 # rifleman_a
               "s", "s",                 # rifleman_b
               "s", "0.8 0.9 0.95", "s", "A's shot."]
    result = elicit(scen, out, answers)
    assert result.exit_code == 0, result.output
    saved = load_prior_set(out, load_scenario(scen))
    assert list(saved.nodes) == ["captain", "death"]
    assert saved.nodes["captain"] == NodeJudgement(
        "captain", Judgement(0.02, 0.01, 0.05), MappingProxyType({}),
        "Judged by Me in an elicitation session.")
    assert saved.nodes["death"] == NodeJudgement(
        "death", None, MappingProxyType({"rifleman_a": Judgement(0.9, 0.8, 0.95)}), "A's shot.")
    assert lines(result)[-3:] == [
        f"saved {out}: judges 2 of 10 parameters",
        "unjudged (8, default prior): court_order.base, rifleman_a.base, rifleman_b.base, "
        "death.base, captain.given.court_order, rifleman_a.given.captain, "
        "rifleman_b.given.captain, death.given.rifleman_b",
        f"check it with: plausibly check {scen} {out}",
    ]


def test_q_saves_and_quits(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.5", "y", "Why not.", "0.1 0.2 0.3", "q", "0.4"])
    assert result.exit_code == 0, result.output
    saved = load_prior_set(out, load_scenario(scen))
    assert {k: (v.base, dict(v.given), v.why) for k, v in saved.nodes.items()} == {
        "court_order": (Judgement(0.5), {}, "Why not."),
        "captain": (Judgement(0.2, 0.1, 0.3), {}, "Judged by Me in an elicitation session."),
    }
    assert lines(result)[-4:] == [
        "quit: the answers so far are kept",
        f"saved {out}: judges 2 of 10 parameters",
        "unjudged (8, default prior): rifleman_a.base, rifleman_b.base, death.base, "
        "captain.given.court_order, rifleman_a.given.captain, rifleman_b.given.captain, "
        "death.given.rifleman_a, death.given.rifleman_b",
        f"to go on, run: plausibly elicit {scen} -o {out}",
    ]


def test_q_at_a_why_keeps_the_default_why(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "Ann", "", "0.5", "y", "q"])
    assert result.exit_code == 0, result.output
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].why == (
        "Judged by Ann in an elicitation session.")


def test_end_of_input_mid_way_saves(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.5", "y", "", "0.1 0.2 0.3"])
    assert result.exit_code == 0, result.output
    saved = load_prior_set(out, load_scenario(scen))
    assert list(saved.nodes) == ["court_order", "captain"]
    assert saved.nodes["captain"].base == Judgement(0.2, 0.1, 0.3)
    assert lines(result)[-4] == "input ended: the answers so far are kept"
    assert lines(result)[-3] == f"saved {out}: judges 2 of 10 parameters"


def test_end_of_input_before_any_judgement_writes_nothing(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["pearl"])
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert lines(result)[-3:] == [
        "input ended: the answers so far are kept",
        f"nothing judged, so {out} was not written",
        f"to go on, run: plausibly elicit {scen} -o {out}",
    ]


def test_ctrl_c_saves_and_exits_130(scen, tmp_path, monkeypatch):
    script = iter(["", "", "", "0.5", "y", "", "0.1 0.2 0.3"])

    def prompt(text, **kwargs):
        for answer in script:
            return answer
        try:  # what click's prompt does with Ctrl-C
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise typer.Abort() from None

    monkeypatch.setattr(typer, "prompt", prompt)
    out = Path("me.toml")
    result = runner.invoke(app, ["elicit", str(scen), "-o", str(out)])
    assert result.exit_code == 130, result.output
    assert load_prior_set(out, load_scenario(scen)).nodes["captain"].base == (
        Judgement(0.2, 0.1, 0.3))
    assert "interrupted: the answers so far are kept" in lines(result)


def test_end_of_input_at_a_prompt_is_not_an_interrupt(scen, tmp_path, monkeypatch):
    def prompt(text, **kwargs):
        try:  # what click's prompt does at the end of input
            raise EOFError
        except EOFError:
            raise typer.Abort() from None

    monkeypatch.setattr(typer, "prompt", prompt)
    result = runner.invoke(app, ["elicit", str(scen), "-o", "me.toml"])
    assert result.exit_code == 0, result.output
    assert "input ended: the answers so far are kept" in lines(result)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_in_a_real_process_stops_elicit_and_keeps_the_answers(scen, tmp_path, signum,
                                                                     code):
    """SIGINT (or SIGTERM) to the real command while it waits at a prompt (stdin stays open)."""
    out = tmp_path / "me.toml"
    with subprocess.Popen([sys.executable, "-m", "plausibly.cli", "elicit", str(scen), "-o",
                           str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        proc.stdin.write("\n\n\n0.1 0.2 0.3\n")
        proc.stdin.flush()
        deadline = time.time() + 60
        while time.time() < deadline and not out.exists():  # the first answer is saved
            time.sleep(0.05)
        time.sleep(0.2)  # now waiting for the why
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert "interrupted: the answers so far are kept" in stdout.splitlines()
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].base == (
        Judgement(0.2, 0.1, 0.3))


# ------------------------------------------------------------------ resuming


def test_from_start_offers_the_saved_answers_and_enter_keeps_them(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL).exit_code == 0
    before = out.read_bytes()
    result = elicit(scen, out, [""] * 40, "--from-start")
    assert result.exit_code == 0, result.output
    got = lines(result)
    assert got[0] == f"Resuming {out}: its answers are offered as defaults."
    assert "Prior set id (snake_case) [pearl]: " in got
    assert "Summary (one sentence) [A disciplined squad.]: " in got
    assert "chance (low median high) [0.9 0.95 0.99]: " in got
    assert "chance (low median high) [0.95]: " in got
    assert not [x for x in got if x.startswith("keep it?")]  # kept answers: not asked again
    assert ('Why these chances for "The captain signals"? (your reasons, the posts) '
            '[He "always" obeys.]: ') in got
    assert got[-2:] == [f"no changes: {out} is as it was",
                        f"check it with: plausibly check {scen} {out}"]
    assert out.read_bytes() == before


def test_from_start_changes_one_answer_and_keeps_the_rest(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL).exit_code == 0
    result = elicit(scen, out, ["", "", "", "", "", "", "0.5 0.8 0.9", "q"], "--from-start")
    assert result.exit_code == 0, result.output
    want = {**EXPECTED, "nodes": {**EXPECTED["nodes"], "captain": {
        **EXPECTED["nodes"]["captain"], "given": {"court_order": [0.5, 0.8, 0.9]}}}}
    assert load_prior_set(out, load_scenario(scen)) == expected(scen, want, out)


def test_resume_keeps_every_comment_and_the_layout(scen, tmp_path):
    out = Path("me.toml")
    before = (
        '# My priors.\n#\n# Read the squad as disciplined.\n\nid = "mine"\nname = "Me"\n'
        'scenario = "firing_squad"  # the textbook one\nsummary = "S."\n\n'
        '# the first order\n\n[nodes.court_order]\nbase = 0.5\n'
        'why = """Courts\n# not a comment\norder."""\n'
        "# the signal\n[nodes.captain]\nbase = [0.1, 0.2, 0.3]\nwhy = 'Q.'\n# trailing\n")
    out.write_text(before)
    # resumed at the first judgement the file lacks: the captain's chance given the order
    result = elicit(scen, out, ["0.3 0.4 0.5", "", "q"])
    assert result.exit_code == 0, result.output
    assert not [x for x in lines(result) if "warning" in x]
    # only the new judgement is added, in its place: every comment and line is kept
    assert out.read_text() == before.replace(
        "base = [0.1, 0.2, 0.3]\n",
        "base = [0.1, 0.2, 0.3]\ngiven.court_order = [0.3, 0.4, 0.5]\n")


def test_only_walks_the_named_events_and_keeps_the_others(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL).exit_code == 0
    # every question of the named events, in time order (captain first); not the set's id
    result = elicit(scen, out, ["0.2", "y", "s", "",
                                "0.5", "y", "s", "s", ""], "--only", "death,captain")
    assert result.exit_code == 0, result.output
    assert [x for x in lines(result) if x.startswith("Event")] == [
        'Event 1 of 2: "The captain signals" (captain, 2)',
        'Event 2 of 2: "The prisoner dies" (death, 4)']
    want = {**EXPECTED, "nodes": {
        **EXPECTED["nodes"],
        "captain": {**EXPECTED["nodes"]["captain"], "base": 0.2},
        "death": {**EXPECTED["nodes"]["death"], "base": 0.5}}}
    assert load_prior_set(out, load_scenario(scen)) == expected(scen, want, out)


def test_only_an_unknown_event_is_a_clean_error(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, [], "--only", "death", "--only", "captian")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: 1 problem\n{scen}: nodes.captian: unknown event 'captian' (did you mean "
        "'captain'?)\n    fix: use one of: court_order, captain, rifleman_a, rifleman_b, death\n")
    assert not out.exists()


def test_an_existing_file_that_is_not_a_prior_set_is_refused_and_left_alone(scen, tmp_path):
    out = Path("notes.toml")
    out.write_text("hello = 1\n")
    result = elicit(scen, out, FULL)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: 6 problems\n"
        f"{out}: exists and is not a valid prior set for scenario 'firing_squad', so elicit "
        "will neither resume nor overwrite it\n"
        "    fix: choose another output file with -o (or fix this one: the problems follow)\n"
        f"{out}: hello: unknown key 'hello'\n"
        "    fix: remove it; allowed keys here: id, name, scenario, summary, based_on, "
        "interval, anchor, default, nodes, pods\n"
        f"{out}: id: is missing\n    fix: add 'id = ...'\n"
        f"{out}: name: is missing\n    fix: add 'name = ...'\n"
        f"{out}: scenario: is missing\n    fix: add 'scenario = ...'\n"
        f"{out}: summary: is missing\n    fix: add 'summary = ...'\n")
    assert out.read_text() == "hello = 1\n"


def test_a_prior_set_for_another_scenario_is_refused(scen, tmp_path):
    out = Path("other.toml")
    shutil.copy(bundled_prior_sets()["contingency"], out)
    before = out.read_bytes()
    result = elicit(scen, out, FULL)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:4] == [
        f"{out}: exists and is not a valid prior set for scenario 'firing_squad', so elicit "
        "will neither resume nor overwrite it",
        "    fix: choose another output file with -o (or fix this one: the problems follow)",
        f"{out}: scenario: this prior set is for scenario 'ussr_1930', not 'firing_squad'",
    ]
    assert out.read_bytes() == before


def test_output_must_be_a_toml_file_in_an_existing_folder(scen, tmp_path):
    out = Path("nowhere") / "me.txt"
    result = elicit(scen, out, FULL)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: 2 problems\n{out}: unknown output type '.txt'\n    fix: use one of: .toml\n"
        f"{out}: its folder {out.parent} does not exist\n    fix: create the folder first\n")


# ------------------------------------------------------------------ resuming where it stopped


def test_resume_starts_at_the_first_unanswered_judgement(scen, tmp_path):
    out = Path("me.toml")
    # court_order judged; captain's base skipped, its cause judged; then quit
    first = elicit(scen, out, ["pearl", "", "", "0.4 0.5 0.6", "Coin.", "s", "0.5 0.8 0.9",
                               "Order.", "q"])
    assert first.exit_code == 0, first.output
    result = elicit(scen, out, ["0.01 0.02 0.05", "", "q"])
    assert result.exit_code == 0, result.output
    got = lines(result)
    assert got[0] == (
        f"Resuming {out}: 2 of 10 judgements are answered; asking the 8 that are not, from "
        "event 2 of 5 (captain). To go over the answered ones again, run with --from-start.")
    assert not [x for x in got if x.startswith(("Prior set id", "Name", "Summary"))]
    asked = [x for x in got if x.startswith(("Event", "If", "How", "chance", "Why"))]
    assert asked[:4] == [
        'Event 2 of 5: "The captain signals" (captain, 2)',
        'If "The court orders the execution" did not happen, how likely is '
        '"The captain signals"?',
        "chance (low median high): 0.01 0.02 0.05",  # the skipped one; not its judged cause
        'Why these chances for "The captain signals"? (your reasons, the posts) [Order.]: ',
    ]
    saved = load_prior_set(out, load_scenario(scen))
    assert saved.nodes["captain"].base == Judgement(0.02, 0.01, 0.05)
    assert saved.nodes["captain"].given["court_order"] == Judgement(0.8, 0.5, 0.9)
    assert saved.nodes["court_order"].why == "Coin."


def test_resume_with_every_judgement_answered_asks_nothing(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL).exit_code == 0
    before = out.read_bytes()
    result = elicit(scen, out, [])
    assert result.exit_code == 0, result.output
    assert lines(result) == [
        f"Resuming {out}: all 10 judgements are answered, so there is nothing to ask. To go "
        "over them again, run with --from-start (or --only EVENT).",
        "",
        f"no changes: {out} is as it was",
        f"check it with: plausibly check {scen} {out}",
    ]
    assert out.read_bytes() == before


# ------------------------------------------------------------------ answers worth a second look


def test_a_lopsided_interval_is_kept_only_once_confirmed(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.9 0.95 0.99", "n", "0.9 0.95 0.99", "",
                                "0.85 0.95 0.99", "q"])
    got = lines(result)
    assert got.count("keep it? [y/N]: n") == 1
    assert got.count("keep it? [y/N]: ") == 1  # Enter means no
    assert [x for x in got if x.startswith("chance")] == [
        "chance (low median high): 0.9 0.95 0.99", "chance (low median high): 0.9 0.95 0.99",
        "chance (low median high): 0.85 0.95 0.99"]  # not lopsided: no question
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].base == (
        Judgement(0.95, 0.85, 0.99))


def test_a_u_shaped_interval_and_a_fixed_chance_ask_once(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.01 0.5 0.99", "y", "", "0.3", "yes", "q"])
    assert result.exit_code == 0, result.output
    got = lines(result)
    u = got.index("  fitted: median 0.5, 90% interval 0.01 to 0.99")
    assert got[u + 1:u + 3] == [
        "  warning: that interval is U-shaped: it is so wide on the log-odds scale (sd 2.79) "
        "that the fitted prior has two peaks, at 0.00041 and 1, with a dip between them, rather "
        'than one peak near your median 0.5 (to say "anywhere in between", type a narrower '
        "range such as 0.1 0.5 0.9)",
        "keep it? [y/N]: y"]
    f = got.index("  fixed: exactly 0.3, no uncertainty")
    assert got[f + 2] == "keep it? [y/N]: yes"
    saved = load_prior_set(out, load_scenario(scen))
    assert saved.nodes["court_order"].base == Judgement(0.5, 0.01, 0.99)
    assert saved.nodes["captain"].base == Judgement(0.3)


def test_q_at_a_confirmation_quits_without_that_answer(scen, tmp_path):
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.2 0.3 0.4", "", "0.5", "q"])
    assert result.exit_code == 0, result.output
    saved = load_prior_set(out, load_scenario(scen))
    assert list(saved.nodes) == ["court_order"]


def test_what_counts_as_lopsided_u_shaped_or_fixed():
    assert concerns(Judgement(0.3, 0.1, 0.6), 0.9) == []
    assert concerns(Judgement(0.5, 0.1, 0.9), 0.9) == []          # sd 1.34 < sqrt(2)
    # one side 2.2 times the other on the log-odds scale: lopsided; 1.4 times: not
    assert [c.split(":")[0] for c in concerns(Judgement(0.95, 0.9, 0.99), 0.9)] == [
        "that interval is lopsided"]
    assert concerns(Judgement(0.97, 0.9, 0.995), 0.9) == []
    assert "3.0 times closer to the high end 0.2 than to the low end 0.01" in concerns(
        Judgement(0.1, 0.01, 0.2), 0.9)[0]
    # the median at 0.5 and sd just over sqrt(2) on the logit: two peaks
    assert [c.split(":")[0] for c in concerns(Judgement(0.5, 0.05, 0.95), 0.9)] == [
        "that interval is U-shaped"]
    assert [c.split(":")[0] for c in concerns(Judgement(0.5, 1e-4, 0.9), 0.9)] == [
        "that interval is lopsided", "that interval is U-shaped"]
    assert concerns(Judgement(0.3), 0.9)[0].startswith("one number means certainty")


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.4), (0.0, 1.5), (0.0, 3.0), (1.0, 1.8),
                                           (1.0, 2.5), (2.0, 3.0), (-3.0, 2.5), (4.0, 6.0)])
def test_u_peaks_are_the_modes_of_the_density(mu, sigma):
    import numpy as np

    # the density of p = sigmoid(x) is phi((x - mu) / sigma) / (sigma p (1 - p)): on a fine
    # grid of x, its local maxima (per unit p) are the modes; -log p = log(1 + e^-x) and
    # -log(1 - p) = log(1 + e^x), exactly
    x = np.linspace(mu - 12 * sigma, mu + 12 * sigma, 400_001)
    log_density = -0.5 * ((x - mu) / sigma) ** 2 + np.logaddexp(0, -x) + np.logaddexp(0, x)
    inner = (log_density[1:-1] > log_density[:-2]) & (log_density[1:-1] >= log_density[2:])
    modes = x[1:-1][inner]
    peaks = LogitNormal(mu, sigma).u_peaks()
    if len(modes) == 1:
        assert peaks is None
    else:
        assert len(modes) == 2 and peaks is not None
        assert np.allclose(peaks, 1 / (1 + np.exp(-modes)), rtol=1e-3, atol=0)


# ------------------------------------------------------------------ never over a changed file


def scripted(monkeypatch, answers, at=-1, action=None):
    """Answer the prompts with ``answers``, then end input; call ``action`` at prompt ``at``."""
    calls = iter(range(10_000))

    def prompt(text, **kwargs):
        n = next(calls)
        if n == at:
            action()
        if n < len(answers):
            return answers[n]
        try:
            raise EOFError
        except EOFError:
            raise typer.Abort() from None

    monkeypatch.setattr(typer, "prompt", prompt)


#: id, name, summary, court_order's base (saved), its why (saved), the captain's base
CHANGING = ["", "", "", "0.4 0.5 0.6", "Coin.", "0.01 0.02 0.05", ""]


def refused(result, out, what):
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: 1 problem\n{out}: was {what} since elicit last read or wrote it, so elicit "
        f"stopped rather than write over it\n    fix: your answers so far are saved in "
        f"me.unsaved.toml: compare it with {out}, keep the one you want, and run elicit on it "
        "to go on\n")
    kept = load_prior_set(Path("me.unsaved.toml"), load_scenario("firing_squad.toml"))
    assert kept.nodes["court_order"].why == "Coin."
    assert kept.nodes["captain"].base == Judgement(0.02, 0.01, 0.05)


def test_a_read_only_prior_set_is_refused_before_the_first_question(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL).exit_code == 0
    out.chmod(0o444)  # root may still write to it: the mode bits say it must not be
    before = out.read_bytes()
    result = elicit(scen, out, ["0.5"] * 10, "--from-start")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: 1 problem\n{out}: is read-only (mode 0444), so elicit will not write to it\n"
        f"    fix: make it writable (chmod u+w {out}) to resume it, or choose another output "
        "file with -o\n")
    assert "Prior set id" not in result.stdout
    assert out.read_bytes() == before
    assert out.stat().st_mode & 0o777 == 0o444


def test_resuming_keeps_the_mode_of_the_file(scen, tmp_path):
    out = Path("me.toml")
    assert elicit(scen, out, FULL[:5]).exit_code == 0
    out.chmod(0o600)
    assert elicit(scen, out, ["0.01 0.02 0.05", "q"]).exit_code == 0
    assert load_prior_set(out, load_scenario(scen)).nodes["captain"].base.median == 0.02
    assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="mounting needs root")
def test_an_output_folder_on_a_read_only_disk_is_refused_before_the_first_question(scen,
                                                                                   tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        result = elicit(scen, Path("ro") / "me.toml", FULL)
    finally:
        subprocess.run(["umount", str(folder)], check=False)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 1 problem\nro/me.toml: cannot be written: its folder ro is on a read-only file "
        "system (Read-only file system)\n    fix: choose a folder on a writable disk\n")
    assert "Prior set id" not in result.stdout


@pytest.mark.parametrize("call", ["replace", "link"])
def test_ctrl_c_just_after_a_save_landed_is_no_false_alarm(scen, tmp_path, monkeypatch, call):
    """The file the session has just written is its own, even if Ctrl-C came before it noted so."""
    out = Path("me.toml")
    if call == "replace":  # a resumed file is saved by renaming over it
        assert elicit(scen, out, FULL).exit_code == 0
        answers, args = ["", "", "", "0.2 0.3 0.4", "q"], ["--from-start"]
    else:  # a new file, by linking it into place
        answers, args = ["", "", "", "0.2 0.3 0.4", "q"], []
    real = getattr(os, call)
    calls = []

    def interrupted(src, dst):
        real(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(os, call, interrupted)
    result = elicit(scen, out, answers, *args)
    assert result.exit_code == 130, result.output + result.stderr
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].base == (
        Judgement(0.3, 0.2, 0.4))
    assert not Path("me.unsaved.toml").exists()


def test_a_file_edited_during_the_session_is_not_written_over(scen, tmp_path, monkeypatch):
    out = Path("me.toml")
    scripted(monkeypatch, CHANGING, at=5,
             action=lambda: out.write_text(out.read_text() + "# my own note\n"))
    result = runner.invoke(app, ["elicit", str(scen), "-o", str(out)])
    refused(result, out, "edited")
    assert out.read_text().endswith("# my own note\n")
    assert "captain" not in out.read_text()


def test_a_file_replaced_during_the_session_is_not_written_over(scen, tmp_path, monkeypatch):
    out = Path("me.toml")

    def swap():  # the same text, another file (as a sync tool or `git checkout` does)
        Path("other.toml").write_bytes(out.read_bytes())
        os.replace("other.toml", out)

    scripted(monkeypatch, CHANGING, at=5, action=swap)
    refused(runner.invoke(app, ["elicit", str(scen), "-o", str(out)]), out,
            "replaced by another file")


def test_a_file_made_read_only_during_the_session_is_not_written_over(scen, tmp_path,
                                                                      monkeypatch):
    out = Path("me.toml")
    scripted(monkeypatch, CHANGING, at=5, action=lambda: out.chmod(0o444))
    refused(runner.invoke(app, ["elicit", str(scen), "-o", str(out)]), out, "made read-only")
    assert "captain" not in out.read_text()


def test_a_file_deleted_during_the_session_is_not_made_again(scen, tmp_path, monkeypatch):
    out = Path("me.toml")
    scripted(monkeypatch, CHANGING, at=5, action=out.unlink)
    refused(runner.invoke(app, ["elicit", str(scen), "-o", str(out)]), out, "deleted")
    assert not out.exists()


def test_a_file_created_at_the_output_during_the_session_is_not_written_over(scen, tmp_path,
                                                                             monkeypatch):
    out = Path("me.toml")
    scripted(monkeypatch, [*CHANGING[:3], "0.01 0.02 0.05", "q"], at=3,
             action=lambda: out.write_text("# someone else's\n"))
    result = runner.invoke(app, ["elicit", str(scen), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[1] == (
        f"{out}: was created by another program since elicit last read or wrote it, so elicit "
        "stopped rather than write over it")
    assert out.read_text() == "# someone else's\n"
    kept = load_prior_set(Path("me.unsaved.toml"), load_scenario(scen))
    assert kept.nodes["court_order"].base == Judgement(0.02, 0.01, 0.05)


def test_the_answers_kept_elsewhere_never_replace_a_file(scen, tmp_path, monkeypatch):
    out = Path("me.toml")
    Path("me.unsaved.toml").write_text("# older\n")
    scripted(monkeypatch, CHANGING, at=5, action=out.unlink)
    result = runner.invoke(app, ["elicit", str(scen), "-o", str(out)])
    assert result.exit_code == 2
    assert "your answers so far are saved in me.unsaved-2.toml" in result.stderr
    assert Path("me.unsaved.toml").read_text() == "# older\n"


def test_a_write_that_fails_keeps_the_answers_elsewhere(scen, tmp_path, monkeypatch):
    out = Path("me.toml")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(target.Target, "write", full)
    result = elicit(scen, out, ["", "", "", "0.4 0.5 0.6", "Coin."])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: 1 problem\n{out}: cannot be written (No space left on device)\n"
        f"    fix: your answers so far are saved in me.unsaved.toml: compare it with {out}, "
        "keep the one you want, and run elicit on it to go on\n")
    assert not out.exists()
    assert load_prior_set(Path("me.unsaved.toml"), load_scenario(scen)).nodes[
        "court_order"].base == Judgement(0.5, 0.4, 0.6)


def test_a_why_over_the_file_size_limit_is_refused_at_the_prompt(scen, tmp_path):
    out = Path("me.toml")
    huge = "x" * (MAX_FILE_BYTES + 1)
    result = elicit(scen, out, ["", "", "", "0.4 0.5 0.6", huge, "Coin.", "q"])
    assert result.exit_code == 0, result.output[:2000]
    warnings = [x for x in lines(result) if x.startswith("  warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "  warning: that answer is 5,000,001 bytes, and a prior-set file may hold at most "
        "5,000,000 bytes in all (check, estimate and elicit refuse a larger one): keep it under "
        "about 4,99")
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].why == "Coin."
    assert runner.invoke(app, ["check", str(scen), str(out)]).exit_code == 0


def test_a_why_that_fits_alone_but_not_with_the_rest_is_refused(scen, tmp_path, monkeypatch):
    """The limit is on the whole file: room is left for everything else in it."""
    monkeypatch.setattr(target, "MAX_FILE_BYTES", 2_000)
    out = Path("me.toml")
    result = elicit(scen, out, ["", "", "", "0.4 0.5 0.6", "y" * 1_990, "Coin.", "q"])
    assert result.exit_code == 0, result.output
    (warning,) = [x for x in lines(result) if x.startswith("  warning:")]
    room = int(warning.split("keep it under about ")[1].split(" bytes")[0].replace(",", ""))
    assert 1_000 < room < 1_990
    assert len(out.read_bytes()) <= 2_000
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].why == "Coin."


# ------------------------------------------------------------------ what a terminal sends


def test_answers_that_are_not_utf8_are_asked_again(scen, tmp_path):
    out = Path("me.toml")
    text = b"\n\n\n0.4 \xff0.5 0.6\n0.4 0.5 0.6\ncaf\xe9 au lait\nCoffee.\nq\n"
    result = runner.invoke(app, ["elicit", str(scen), "-o", str(out)], input=text)
    assert result.exit_code == 0, result.output
    warning = ("  warning: that answer is not UTF-8 text (the terminal sent bytes that are not "
               "UTF-8): type it again; if this keeps happening, set the terminal to UTF-8")
    assert lines(result).count(warning) == 2
    saved = load_prior_set(out, load_scenario(scen))
    assert saved.nodes["court_order"].base == Judgement(0.5, 0.4, 0.6)
    assert saved.nodes["court_order"].why == "Coffee."


def test_answers_that_are_not_utf8_in_a_real_process(scen, tmp_path):
    out = tmp_path / "me.toml"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "plausibly.cli", "elicit", str(scen), "-o", str(out)],
        input=b"\n\n\n\xc3\x28 0.5\n0.4 0.5 0.6\n\xff\xfe\nCoin.\nq\n", capture_output=True,
        env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert proc.stdout.count(b"that answer is not UTF-8 text") == 2
    assert load_prior_set(out, load_scenario(scen)).nodes["court_order"].why == "Coin."


# ------------------------------------------------------------------ the writer


def test_writer_round_trip_with_awkward_strings(scen):
    scenario = load_scenario(scen)
    whys = {
        "court_order": 'Line one.\nLine "two" with a backslash \\ and a tab\t.\n',
        "captain": "\nStarts with a newline, ends with a quote\"",
        "rifleman_a": "x" * 300 + " " + "word " * 60 + "  double  spaces\r\nCRLF \x01 ctrl",
        "rifleman_b": "'''literal''' \"\"\"basic\"\"\" \\\n# not a comment",
        "death": "ünïcödé — “quotes” \u2028 and \x7f",
    }
    nodes = {
        "court_order": NodeJudgement("court_order", Judgement(0.1 + 0.2), {}, whys["court_order"]),
        "captain": NodeJudgement("captain", Judgement(1 / 3, 1e-7, 0.999999),
                                 {"court_order": Judgement(0.97, 0.9, 0.995)}, whys["captain"]),
        "rifleman_a": NodeJudgement("rifleman_a", None, {"captain": Judgement(0.95)},
                                    whys["rifleman_a"]),
        "rifleman_b": NodeJudgement("rifleman_b", Judgement(0.5), {}, whys["rifleman_b"]),
        "death": NodeJudgement("death", None, {"rifleman_b": Judgement(0.9, 0.8, 0.95),
                                               "rifleman_a": Judgement(0.9, 0.8, 0.95)},
                               whys["death"]),
    }
    ps = PriorSet(id="awkward", name='The "awkward" squad', scenario="firing_squad",
                  summary="A summary\nover two lines.", based_on=tuple(f"#{i} Poster {i}"
                                                                   for i in range(1, 30)),
                  interval=0.8, nodes=nodes, default_base=Judgement(0.5, 0.05, 0.95),
                  default_given=Judgement(0.4))
    text = dumps_prior_set(ps)
    back = parse_prior_set(tomllib.loads(text), scenario)
    assert back == ps
    assert {k: v.why for k, v in back.nodes.items()} == whys
    assert max(len(x) for x in text.splitlines() if "x" * 300 not in x) < 100


def test_writer_round_trips_every_bundled_prior_set():
    scenario = load_scenario("ussr_1930")
    for path in bundled_prior_sets().values():
        ps = load_prior_set(path, scenario)
        original = path.read_text()
        kept, new = dumps_prior_set(ps, original), dumps_prior_set(ps, header="# h")
        for text in (kept, new):
            assert parse_prior_set(tomllib.loads(text), scenario, file=str(path)) == ps
        assert kept == original
        assert new.startswith("# h\n\nid = ")


@settings(max_examples=300, database=None, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(' \t\n\r"\\\'#x'), st.characters())))
def test_toml_string_reads_back_exactly(text):
    assert tomllib.loads(f"x = {toml_string(text, width=8).as_string()}\n")["x"] == text


def test_rewrite_keeps_every_comment_and_no_text_that_looks_like_one(scen):
    text = ('# head\n\nid = "x"\nname = "a#b"  # inline\nscenario = "firing_squad"\n'
            "summary = '''x # y'''\n# kept\ninterval = 0.9\n\n# above\n\n"
            "[nodes.captain]  # on the header\nbase = 0.5  # mine\n"
            'why = """\n# text\n"""\n# after\n')
    ps = parse_prior_set(tomllib.loads(text), load_scenario(scen))
    changed = replace(ps, nodes=MappingProxyType({"captain": replace(
        ps.nodes["captain"], base=Judgement(0.6))}))
    assert dumps_prior_set(changed, text) == text.replace("base = 0.5", "base = 0.6")


def test_read_answer_forms():
    assert read_answer("0.1 0.3 0.6") == Judgement(0.3, 0.1, 0.6)
    assert read_answer(" 0.1, 0.3,0.6 ") == Judgement(0.3, 0.1, 0.6)
    assert read_answer("[0.1, 0.3, 0.6]") == Judgement(0.3, 0.1, 0.6)
    assert read_answer("0.25") == Judgement(0.25)
    with pytest.raises(BadAnswer, match=r"^\"0.1 0.2 0.3 0.4\" has 4 numbers: type three "
                       r"\(low median high\) or one \(a fixed chance\)$"):
        read_answer("0.1 0.2 0.3 0.4")
    with pytest.raises(BadAnswer, match=r"^inf is not a chance strictly between 0 and 1: for "
                       r"almost certain type e.g. 0.99$"):
        read_answer("inf")
