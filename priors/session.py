"""The elicitation session behind ``plausibly elicit``.

:func:`run_session` walks the events in time order and asks, in plain words,
for each event's base chance and its chance given each cause alone, then for
a ``why``. It needs no terminal: questions and feedback go through a
:class:`SessionIO`, which the command line implements with Typer and rich. A
session saves after every answer (an atomic rewrite that keeps the file's
comments and layout), so no answer is lost when input ends, on Ctrl-C, or on
``q``; it never writes over a file that changed since it last read or wrote
it (:mod:`plausibly.priors.target`), and a resumed session starts at the
first unanswered judgement.
"""

from __future__ import annotations

import functools
import re
import signal
import textwrap
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from plausibly.models.errors import ElicitationError, Interrupted, PlausiblyError, Problem
from plausibly.models.files import MAX_FILE_BYTES, read_toml
from plausibly.models.outputs import check_writable
from plausibly.models.scenario import Scenario
from plausibly.models.validate import SNAKE, suggest
from plausibly.priors.elicitation import (
    ANCHORS,
    Judgement,
    NodeJudgement,
    PodJudgement,
    PriorSet,
    parse_prior_set,
)
from plausibly.priors.fit import fit_prior_set
from plausibly.priors.questions import (
    BadAnswer,
    Question,
    answer_text,
    concerns,
    feedback,
    fitted_line,
    not_text,
    order_problem,
    percent,
    questions,
    quoted,
    read_answer,
)
from plausibly.priors.target import FileStamp, Saver, read_only, read_stamped
from plausibly.priors.toml_writer import dumps_prior_set, format_number

__all__ = [
    "BadAnswer",
    "Question",
    "SessionIO",
    "SessionPlan",
    "SessionResult",
    "feedback",
    "plan_session",
    "questions",
    "read_answer",
    "run_session",
]


def _new_header(scenario: Scenario, anchor: str = "absent") -> str:
    title = " ".join(scenario.title.split())
    if anchor == "history":
        return textwrap.dedent(f"""\
            # Prior set for scenario {scenario.id} ({title}), written by `plausibly elicit`.
            # Each judgement is [low, median, high]: the chance of the event, with a central
            # interval of mass `interval`. `base` is its chance with its causes as they actually
            # were, `given.C` its chance had C been otherwise, the rest as it was; for an event
            # with states, the chance of at least each state. A lone number is a fixed chance.""")
    return textwrap.dedent(f"""\
        # Prior set for scenario {scenario.id} ({title}), written by `plausibly elicit`.
        # Each judgement is [low, median, high]: the chance of the event, with a central
        # interval of mass `interval`. `base` is its chance when none of its causes happens,
        # `given.C` its chance when cause C alone happens; a lone number is a fixed chance.""")


# ============================================================================ the session


class SessionIO(Protocol):
    """How a session talks to its user."""

    def ask(self, prompt: str, default: str) -> str:
        """Show ``prompt`` (with ``default``, if not empty) and return the reply.

        Raises ``EOFError`` when the input ends, ``KeyboardInterrupt`` on Ctrl-C.
        """

    def say(self, kind: str, text: str) -> None:
        """Show one line; ``kind`` is event, question, claim, fit, odds, warning or note."""


@dataclass(frozen=True)
class SessionPlan:
    """What a session starts from: the prior set so far and the events to walk.

    ``text`` is the text of the file being resumed (None for a new file):
    saving changes only its values, so its comments and layout are kept.
    ``stamp`` is that file's identity and content hash, as read. A resumed
    session asks only the judgements the file lacks, unless ``ask_all`` (the
    set's id, name and summary too when ``ask_header``).
    """

    path: Path
    start: PriorSet
    resumed: bool
    nodes: tuple[str, ...]
    text: str | None = None
    stamp: FileStamp | None = None
    ask_all: bool = True
    ask_header: bool = True


@dataclass(frozen=True)
class SessionResult:
    """How a session ended.

    ``reason`` is ``"done"`` (every question asked), ``"quit"`` (``q``),
    ``"stopped"`` (end of input) or ``"interrupted"`` (Ctrl-C, or SIGTERM:
    ``exit_code`` is then 130 or 143). ``written`` says whether the file was
    (re)written; ``unjudged`` lists the parameters left to the defaults.
    """

    priors: PriorSet
    reason: str
    written: bool
    judged: int
    unjudged: tuple[str, ...]
    exit_code: int = 0


class _Quit(Exception):
    """The user typed ``q``."""


def _with_judgement(priors: PriorSet, scenario: Scenario, q: Question, j: Judgement,
                    why: str) -> PriorSet:
    old = priors.nodes.get(q.node)
    if old is None:
        # a file anchored at history judges an event whose causes' history is not known
        # with its causes absent, and says so under [nodes.X]
        unknown = priors.anchor == "history" and any(
            scenario.node(c).hard is None for c in scenario.influences[q.node])
        nj = NodeJudgement(q.node, None, MappingProxyType({}), why,
                           anchor="absent" if unknown else None)
    else:
        nj = old
    if q.cause is None and q.state is None:
        return _with_node(priors, scenario, replace(nj, base=j))
    states = scenario.node(q.node).states
    if q.cause is None:
        base_states = {**nj.base_states, str(q.state): j}
        ordered = {s: base_states[s] for s in states if s in base_states}
        return _with_node(priors, scenario, replace(nj, base_states=MappingProxyType(ordered)))
    given = {**nj.given, q.cause: j}
    given_states = dict(nj.given_states)
    if q.state is not None:
        given_states[q.cause] = q.state
    order = [x.cause for x in questions(scenario, q.node, priors) if x.cause is not None]
    keys = [k for k in order if k in given] + [k for k in given if k not in order]
    return _with_node(priors, scenario, replace(
        nj, given=MappingProxyType({k: given[k] for k in keys}),
        given_states=MappingProxyType({k: given_states[k] for k in keys if k in given_states})))


def _with_node(priors: PriorSet, scenario: Scenario, nj: NodeJudgement) -> PriorSet:
    nodes = {**priors.nodes, nj.node: nj}
    rank = {n: i for i, n in enumerate(scenario.order)}
    ordered = dict(sorted(nodes.items(), key=lambda kv: rank[kv[0]]))
    return replace(priors, nodes=MappingProxyType(ordered))


def _count(priors: PriorSet, scenario: Scenario) -> tuple[int, tuple[str, ...]]:
    fitted = fit_prior_set(priors, scenario)
    unjudged = tuple(fitted.unjudged())
    return fitted.parameters - len(unjudged), unjudged


def _default_id(path: Path) -> str:
    stem = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_")
    return stem if SNAKE.match(stem) else "my_priors"


def _read_existing(path: Path, scenario: Scenario
                   ) -> tuple[PriorSet, str, FileStamp] | list[Problem]:
    """The prior set at ``path``, its text and stamp (from one read), or what is wrong.

    ``read_toml`` says what is wrong with a file; the prior set, text and stamp
    come from reading it once more, in one go, so that they agree.
    """
    data, problems = read_toml(path, "prior set")
    if data is None:
        return problems
    try:
        got = read_stamped(path, MAX_FILE_BYTES)
        if got is None:
            raise ValueError
        text = got[0].decode("utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, ValueError, RecursionError):  # changed since read_toml read it
        return [Problem(str(path), "", "changed while elicit was reading it",
                        "run elicit again once nothing else is writing to it")]
    try:
        start = parse_prior_set(data, scenario, file=str(path))
    except PlausiblyError as err:
        return list(err.problems)
    return start, text, got[1]


def plan_session(scenario: Scenario, path: Path, only: Sequence[str] = (),
                 from_start: bool = False) -> SessionPlan:
    """Check the output file and the events asked for; say where the session starts.

    A missing ``path`` starts a new prior set; an existing one must be a valid
    prior set for ``scenario`` that may be written to (it is resumed at its
    first unanswered judgement, or from the start with ``from_start``);
    anything else is refused rather than overwritten. Naming events in
    ``only`` asks all their questions again.

    Raises
    ------
    PlausiblyError
        With every problem: unknown events in ``only``, an output path that
        cannot be written, an existing file that is not such a prior set or
        that is read-only.
    """
    problems: list[Problem] = []
    wanted = {n.strip() for item in only for n in item.split(",") if n.strip()}
    for node in sorted(wanted - set(scenario.order)):
        problems.append(Problem(
            scenario.path or scenario.id, f"nodes.{node}",
            f"unknown event '{node}'{suggest(node, scenario.order)}",
            f"use one of: {', '.join(scenario.order)}"))
    try:
        check_writable(path, force=True, suffixes={".toml"})
    except PlausiblyError as err:
        problems.extend(err.problems)
    existing: tuple[PriorSet, str, FileStamp] | None = None
    if not problems and path.exists():
        got = _read_existing(path, scenario)
        if isinstance(got, list):
            problems.append(Problem(
                str(path), "", f"exists and is not a valid prior set for scenario "
                f"'{scenario.id}', so elicit will neither resume nor overwrite it",
                "choose another output file with -o (or fix this one: the problems follow)"))
            problems.extend(got)
        elif why := read_only(path):
            problems.append(Problem(
                str(path), "", f"{why}, so elicit will not write to it",
                f"make it writable (chmod u+w {path}) to resume it, or choose another output "
                "file with -o"))
        else:
            try:  # refuse now a file that cannot be saved keeping its layout
                dumps_prior_set(got[0], got[1])
            except PlausiblyError as err:
                problems.extend(err.problems)
            existing = got
    if problems:
        raise ElicitationError(problems=problems)
    nodes = tuple(n for n in scenario.order if not wanted or n in wanted)
    if existing is None:
        pid = _default_id(path)
        start = PriorSet(id=pid, name=pid.replace("_", " ").capitalize(), scenario=scenario.id,
                         summary=f"Judgements elicited for '{scenario.title}'.", based_on=(),
                         interval=0.9, nodes=MappingProxyType({}))
        return SessionPlan(path, start, False, nodes)
    start, text, stamp = existing
    return SessionPlan(path, start, True, nodes, text, stamp,
                       ask_all=from_start or bool(wanted), ask_header=from_start)


# ============================================================================ asking


def _short(text: str, limit: int = 60) -> str:
    """Text for a prompt's [default]: on one line, shortened when long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3].rstrip() + "..."


def _reply(io: SessionIO, prompt: str, default: str) -> str:
    """A reply that is text (asked again when the terminal sent bytes that are not)."""
    while True:
        reply = io.ask(prompt, default).strip()
        if not (why := not_text(reply)):
            return reply
        io.say("warning", why)


def _ask_text(io: SessionIO, saver: Saver, prompt: str, default: str,
              build: Callable[[str], PriorSet], *, snake: bool = False) -> PriorSet:
    """The prior set with a text answer; Enter (or ``s``) keeps ``default``, ``q`` quits.

    An answer that would make the file too big to read back is asked again.
    """
    while True:
        reply = _reply(io, prompt, _short(default))
        if reply == "q":
            raise _Quit
        if reply in ("", "s"):
            return build(default)
        if snake and not SNAKE.match(reply):
            io.say("warning", f'"{reply}" is not a snake_case id: use lower-case letters, '
                              "digits and _, starting with a letter")
            continue
        candidate = build(reply)
        if not (why := saver.too_big(candidate, reply)):
            return candidate
        io.say("warning", why)


def _confirmed(io: SessionIO, j: Judgement, interval: float, worries: list[str]) -> bool:
    """Whether an answer that :func:`concerns` worries about is kept: asked once."""
    io.say(*fitted_line(j, interval))
    for worry in worries:
        io.say("warning", worry)
    reply = _reply(io, "keep it? [y/N]", "").lower()
    if reply == "q":
        raise _Quit
    return reply in ("y", "yes")


def _ask_judgement(io: SessionIO, default: Judgement | None, interval: float,
                   check: Callable[[Judgement], str] | None = None,
                   enter_skips: bool = False) -> tuple[Judgement, bool] | None:
    """A judgement, and whether its fit was shown already; ``None`` when skipped.

    Re-asks until the answer is usable (and ``check`` finds nothing wrong
    with it), and until a lopsided or U-shaped interval or a lone number is
    confirmed (Enter on the offered answer is not asked about again). With
    ``enter_skips``, Enter without an offered answer skips.
    """
    shown = answer_text(default) if default is not None else ""
    while True:
        reply = _reply(io, "chance (low median high)", shown)
        if reply == "q":
            raise _Quit
        if reply == "s" or (reply == "" and default is None and enter_skips):
            return None
        if reply == "":
            if default is not None:
                return default, False
            io.say("warning", "no answer: type three chances (e.g. 0.1 0.3 0.6) or one, "
                              "s to skip or q to save and quit")
            continue
        try:
            j = read_answer(reply)
        except BadAnswer as err:
            io.say("warning", str(err))
            continue
        if check is not None and (why := check(j)):
            io.say("warning", why)
            continue
        worries = [] if j == default else concerns(j, interval)
        if not worries:
            return j, False
        if _confirmed(io, j, interval, worries):
            return j, True


def _todo(scenario: Scenario, plan: SessionPlan) -> dict[str, list[Question]]:
    """The questions to ask, by event: all of them, or those the file does not answer."""
    out = {}
    for node in plan.nodes:
        qs = [q for q in questions(scenario, node, plan.start)
              if plan.ask_all or q.saved(plan.start) is None]
        if qs:
            out[node] = qs
    return out


def _intro(scenario: Scenario, plan: SessionPlan, io: SessionIO,
           todo: dict[str, list[Question]]) -> bool:
    """Say what the session will ask; False when there is nothing to ask."""
    n = len(plan.nodes)
    if plan.resumed and plan.ask_all:
        io.say("note", f"Resuming {plan.path}: its answers are offered as defaults.")
    elif plan.resumed:
        total = sum(len(questions(scenario, node, plan.start)) for node in plan.nodes)
        left = sum(len(qs) for qs in todo.values())
        if not left:
            io.say("note", f"Resuming {plan.path}: all {total} judgements are answered, so "
                           "there is nothing to ask. To go over them again, run with "
                           "--from-start (or --only EVENT).")
            return False
        first = next(iter(todo))
        io.say("note", f"Resuming {plan.path}: {total - left} of {total} judgements are "
                       f"answered; asking the {left} that are not, from event "
                       f"{plan.nodes.index(first) + 1} of {n} ({first}). To go over the "
                       "answered ones again, run with --from-start.")
    io.say("note", f"Scenario {scenario.id}: {scenario.title}. {n} event"
                   f"{'s' if n != 1 else ''} to judge, in time order.")
    io.say("note", "Give each chance as three numbers, low median high (e.g. 0.1 0.3 0.6):")
    io.say("note", f"your best guess, and a range you are {percent(plan.start.interval)} sure "
                   "of. One number fixes a chance exactly.")
    io.say("note", "At any question: Enter keeps the value in [brackets], s skips, "
                   "q saves and quits.")
    io.say("note", f"Each answer is saved to {plan.path} at once.")
    return True


def _version2(scenario: Scenario) -> bool:
    """Whether a scenario uses version 2 of the language (the session then asks v2 questions).

    A version 1 scenario's session is as it always was: no anchor and no POD
    strengths are asked.
    """
    return (any(n.declared_states for n in scenario.nodes) or any(e.gate for e in scenario.edges)
            or bool(scenario.interactions) or len(scenario.outcomes) > 1
            or any(o.written for o in scenario.outcomes))


#: What each anchor means, said once when a new file chooses one.
_ANCHOR_MEANS = {
    "history": "each event is judged as it actually was (its causes as they happened), "
               "then with one cause otherwise, the rest as it was",
    "absent": "each event is judged with none of its causes present, then with one cause "
              "alone present",
}


def _ask_anchor(io: SessionIO, scenario: Scenario, plan: SessionPlan,
                priors: PriorSet) -> PriorSet:
    """The prior set with the anchor a new file's judgements are made in.

    The default is ``"history"`` when what happened to every judged cause is
    known for certain, else ``"absent"``.
    """
    known = all(scenario.node(c).hard is not None
                for node in plan.nodes for c in scenario.influences[node])
    default = "history" if known else "absent"
    io.say("note", 'Anchor: "history" means ' + _ANCHOR_MEANS["history"] + '; "absent" means '
                   + _ANCHOR_MEANS["absent"] + ".")
    while True:
        reply = _reply(io, "Judge as it was (history) or with causes absent (absent)?", default)
        if reply == "q":
            raise _Quit
        choice = {"": default, "h": "history", "a": "absent"}.get(reply, reply)
        if choice in ANCHORS:
            return replace(priors, anchor=choice)
        io.say("warning", f'"{reply}" is not an anchor: type history or absent')


def _strength_questions(scenario: Scenario) -> list[tuple[str, str, float]]:
    """Each soft setting of a yes/no event by a POD: ``(pod, event, the scenario's chance)``."""
    return [(pod.id, event, setting) for pod in scenario.pods for event, setting in pod.do.items()
            if scenario.node(event).binary and isinstance(setting, float)
            and 0.0 < setting < 1.0]


def _ask_strengths(io: SessionIO, saver: Saver, scenario: Scenario, plan: SessionPlan,
                   priors: PriorSet, why_default: str) -> PriorSet:
    """The prior set with this school's strengths of the soft yes/no PODs (each skippable)."""
    todo = [(pod, event, p) for pod, event, p in _strength_questions(scenario)
            if plan.ask_all or event not in (priors.pods[pod].do if pod in priors.pods else {})]
    if not todo:
        return priors
    io.say("event", "Soft PODs: how strong is each? (Enter keeps the scenario's chance)")
    for pod_id, event, setting in todo:
        pod = scenario.pod(pod_id)
        label = quoted(scenario.node(event).label)
        io.say("question", f"Under {quoted(pod.label)} ({pod_id}), how likely is {label}? The "
                           f"scenario says {format_number(setting)}; Enter keeps it.")
        old = priors.pods.get(pod_id)
        got = _ask_judgement(io, old.do.get(event) if old else None, priors.interval,
                             enter_skips=True)
        if got is None:
            continue
        j, shown = got
        if not shown:
            io.say(*fitted_line(j, priors.interval))
        do = {**(old.do if old else {}), event: j}
        pj = PodJudgement(pod_id, MappingProxyType(do), old.why if old else why_default)
        priors = replace(priors, pods=MappingProxyType({**priors.pods, pod_id: pj}))
        saver.save(priors)
        priors = _ask_text(io, saver, f"Why this strength for {quoted(pod.label)}?", pj.why,
                           functools.partial(_with_pod_why, priors, pj))
        saver.save(priors)
    return priors


def _with_pod_why(priors: PriorSet, pj: PodJudgement, why: str) -> PriorSet:
    return replace(priors, pods=MappingProxyType({**priors.pods,
                                                 pj.pod: replace(pj, why=why)}))


def _with_why(priors: PriorSet, scenario: Scenario, nj: NodeJudgement, why: str) -> PriorSet:
    return _with_node(priors, scenario, replace(nj, why=why))


def run_session(scenario: Scenario, plan: SessionPlan, io: SessionIO) -> SessionResult:
    """Ask for the judgements of ``plan.nodes`` and save them as they come.

    Asks first for the set's id, name and summary (a new file, or
    ``plan.ask_header``), then, per event in time order, its base chance and
    its chance given each cause alone (each followed by :func:`feedback`) and,
    if anything about it was judged, a ``why``. A resumed session asks only
    what the file does not answer yet, unless ``plan.ask_all``. ``q``, the end
    of input, Ctrl-C and SIGTERM stop the session. Every answer is saved to
    ``plan.path`` at once (atomically, changing only the values that differ),
    so nothing answered is ever lost; a new file is written only once
    something is judged.

    Raises
    ------
    ElicitationError
        When the file changed during the session or cannot be written (the
        answers are then saved beside it, and the error says where).
    """
    priors = plan.start
    saver = Saver(plan.path, plan.stamp, plan.text, plan.start if plan.resumed else None,
                  _new_header(scenario))
    todo = _todo(scenario, plan)
    reason, exit_code = "done", 0
    try:
        if not _intro(scenario, plan, io, todo):
            todo = {}
        elif plan.ask_header or not plan.resumed:
            p = priors
            p = _ask_text(io, saver, "Prior set id (snake_case)", p.id,
                          lambda r: replace(p, id=r), snake=True)
            p = _ask_text(io, saver, "Name (who judges: you, or a school of thought)", p.name,
                          lambda r: replace(p, name=r))
            priors = _ask_text(io, saver, "Summary (one sentence)", p.summary,
                               lambda r: replace(p, summary=r))
        if not plan.resumed and todo and _version2(scenario):
            priors = _ask_anchor(io, scenario, plan, priors)
            saver.header = _new_header(scenario, priors.anchor)
        why_default = f"Judged by {priors.name} in an elicitation session."
        for k, node in enumerate(plan.nodes, start=1):
            if node not in todo:
                continue
            n = scenario.node(node)
            io.say("event", f"Event {k} of {len(plan.nodes)}: {quoted(n.label)} "
                            f"({node}, {n.year})")
            asked = [q for q in questions(scenario, node, priors)
                     if plan.ask_all or q.saved(priors) is None]
            if priors.anchor_of(node) == "history" and asked and asked[0].anchor == "absent":
                unknown = next(c for c in scenario.influences[node]
                               if scenario.node(c).hard is None)
                io.say("note", f"What happened to {quoted(scenario.node(unknown).label)} is "
                               f"not known for certain, so {quoted(n.label)} is judged with its "
                               'causes absent (anchor = "absent").')
            answered = False
            for q in asked:
                io.say("question", q.text)
                if q.claim:
                    io.say("claim", q.claim)
                got = _ask_judgement(io, q.saved(priors), priors.interval,
                                     functools.partial(order_problem, priors, scenario, q))
                if got is None:
                    continue
                j, shown = got
                for kind, text in feedback(priors, scenario, q, j):
                    if not (shown and kind in ("fit", "warning")):
                        io.say(kind, text)
                priors = _with_judgement(priors, scenario, q, j, why_default)
                answered = True
                saver.save(priors)
            nj = priors.nodes.get(node)
            if nj is not None and (answered or plan.ask_all):
                priors = _ask_text(io, saver, f"Why these chances for {quoted(n.label)}? "
                                              "(your reasons, the posts)", nj.why,
                                   functools.partial(_with_why, priors, scenario, nj))
                saver.save(priors)
        if todo and len(plan.nodes) == len(scenario.order) and _version2(scenario):
            priors = _ask_strengths(io, saver, scenario, plan, priors, why_default)
    except _Quit:
        reason = "quit"
    except EOFError:
        reason = "stopped"
    except (KeyboardInterrupt, Interrupted) as stop:  # Interrupted: SIGTERM (see the cli)
        reason = "interrupted"
        exit_code = stop.exit_code if isinstance(stop, Interrupted) else 128 + signal.SIGINT
    saver.save(priors)
    judged, unjudged = _count(priors, scenario)
    return SessionResult(priors, reason, saver.writes > 0, judged, unjudged, exit_code)
