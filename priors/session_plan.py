"""Planning an elicitation session, and writing answers into the prior set.

What the file already holds, where a session starts, and how each answer
becomes part of a :class:`PriorSet`; :mod:`plausibly.priors.session` asks
the questions.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from plausibly.models.errors import ElicitationError, PlausiblyError, Problem
from plausibly.models.files import MAX_FILE_BYTES, read_toml
from plausibly.models.outputs import check_writable
from plausibly.models.scenario import Scenario
from plausibly.models.validate import SNAKE, suggest
from plausibly.priors.elicitation import (
    Judgement,
    NodeJudgement,
    PriorSet,
    parse_prior_set,
)
from plausibly.priors.fit import fit_prior_set
from plausibly.priors.questions import (
    Question,
    questions,
)
from plausibly.priors.target import FileStamp, read_only, read_stamped
from plausibly.priors.toml_writer import dumps_prior_set

__all__ = ["SessionPlan", "count_judged", "new_header", "plan_session", "with_judgement",
           "with_node"]


def new_header(scenario: Scenario, anchor: str = "absent") -> str:
    """The comment block that opens a new prior-set file."""
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


def with_judgement(priors: PriorSet, scenario: Scenario, q: Question, j: Judgement,
                    why: str) -> PriorSet:
    """The prior set with the answer ``j`` to question ``q`` (and its ``why``)."""
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
        return with_node(priors, scenario, replace(nj, base=j))
    states = scenario.node(q.node).states
    if q.cause is None:
        base_states = {**nj.base_states, str(q.state): j}
        ordered = {s: base_states[s] for s in states if s in base_states}
        return with_node(priors, scenario, replace(nj, base_states=MappingProxyType(ordered)))
    given = {**nj.given, q.cause: j}
    given_states = dict(nj.given_states)
    if q.state is not None:
        given_states[q.cause] = q.state
    order = [x.cause for x in questions(scenario, q.node, priors) if x.cause is not None]
    keys = [k for k in order if k in given] + [k for k in given if k not in order]
    return with_node(priors, scenario, replace(
        nj, given=MappingProxyType({k: given[k] for k in keys}),
        given_states=MappingProxyType({k: given_states[k] for k in keys if k in given_states})))


def with_node(priors: PriorSet, scenario: Scenario, nj: NodeJudgement) -> PriorSet:
    """The prior set with the event's judgements replaced, events in time order."""
    nodes = {**priors.nodes, nj.node: nj}
    rank = {n: i for i, n in enumerate(scenario.order)}
    ordered = dict(sorted(nodes.items(), key=lambda kv: rank[kv[0]]))
    return replace(priors, nodes=MappingProxyType(ordered))


def count_judged(priors: PriorSet, scenario: Scenario) -> tuple[int, tuple[str, ...]]:
    """How many parameters the set judges, and the ones it leaves to defaults."""
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

