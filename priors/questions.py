"""What an elicitation session asks and says, in plain words.

The questions for each event, reading an answer (three chances or one),
the feedback after an answer (the fitted prior and the change in odds), and
the answers worth a second thought before they are kept: a lopsided or
U-shaped interval, and a lone number, which means certainty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plausibly.models.scenario import Scenario
from plausibly.priors.elicitation import Judgement, PriorSet
from plausibly.priors.fit import (
    LOPSIDED,
    FittedCell,
    event_cells,
    fit_judgement,
    logit,
    sigmoid,
)
from plausibly.priors.toml_writer import format_number

__all__ = ["BadAnswer", "Question", "answer_text", "concerns", "distribution_line", "feedback",
           "fitted_line", "not_text", "order_problem", "percent", "questions", "quoted",
           "read_answer"]


class BadAnswer(ValueError):
    """An answer that cannot be a judgement; its message says why, in plain words."""


@dataclass(frozen=True)
class Question:
    """One judgement to ask for: an event's base chance, or its chance given a key.

    ``cause`` is the ``given`` key (``"C"``, ``"C=state"``, ``"A & B"``), None
    for the base; ``state`` the state an event with states is judged at
    (P(node >= state)), None for a yes/no event; ``anchor`` the reference
    context the question is asked in.
    """

    node: str
    cause: str | None
    text: str
    claim: str = ""
    state: str | None = None
    anchor: str = "absent"

    @property
    def key(self) -> str:
        """The parameter as ``X.base``, ``X.base.state`` or ``X.given.KEY`` (as ``check``)."""
        if self.cause is not None:
            return f"{self.node}.given.{self.cause}"
        return f"{self.node}.base" if self.state is None else f"{self.node}.base.{self.state}"

    def saved(self, priors: PriorSet) -> Judgement | None:
        """The judgement ``priors`` holds for this question, if any."""
        nj = priors.nodes.get(self.node)
        if nj is None:
            return None
        if self.cause is None:
            return nj.base if self.state is None else nj.base_states.get(self.state)
        return nj.given.get(self.cause)


def quoted(label: str) -> str:
    """A label in double quotes."""
    return f'"{label}"'


def _listing(labels: Sequence[str]) -> str:
    return ", ".join(quoted(x) for x in labels)


def _was(scenario: Scenario, cause: str, state: str, *, negative: bool = True) -> str:
    """``"A" happened``, ``"A" did not happen``, or ``"C" was long``."""
    n = scenario.node(cause)
    if n.binary:
        return f"{quoted(n.label)} {'happened' if state == n.states[1] else 'did not happen'}"
    return f"{quoted(n.label)} was {state}"


def _target(scenario: Scenario, node: str, state: str | None) -> str:
    n = scenario.node(node)
    label = quoted(n.label)
    return label if state is None else f"it that {label} is at least {state}"


def _settings(context: Mapping[str, str], causes: Sequence[str]) -> str:
    return ", ".join(f"{c} = {context[c]}" for c in causes)


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _inside_gates(scenario: Scenario, node: str) -> str:
    """``Inside its gate, assuming "A" happened: `` (empty for an event without gates)."""
    gates = scenario.gates[node]
    if not gates:
        return ""
    phrases = []
    for cause, at_least in gates:
        n = scenario.node(cause)
        phrases.append(f"{quoted(n.label)} happened" if n.binary
                       else f"{quoted(n.label)} is at least {at_least}")
    return f"Inside its gate{'s' if len(gates) > 1 else ''}, assuming {_and(phrases)}: "


def _absent_text(scenario: Scenario, node: str, cell: FittedCell, target: str) -> str:
    influences = scenario.influences[node]
    if not influences:
        return f"How likely is {target}?"
    every_binary = all(scenario.node(c).binary for c in influences)
    if not cell.key:
        names = [scenario.node(c).label for c in influences]
        if every_binary and len(names) == 1:
            return f"If {quoted(names[0])} did not happen, how likely is {target}?"
        if every_binary:
            return f"If none of {_listing(names)} happened, how likely is {target}?"
        return (f"If {_and([_was(scenario, c, cell.context[c]) for c in influences])}, "
                f"how likely is {target}?")
    changed = [c for c in influences if c in _key_causes(scenario, node, cell.key)]
    others = [c for c in influences if c not in changed]
    if not others:
        rest = ""
    elif all(scenario.node(c).binary for c in others):
        rest = f" (not {_listing([scenario.node(c).label for c in others])})"
    else:
        rest = f" ({', '.join(_was(scenario, c, cell.context[c]) for c in others)})"
    phrases = [_was(scenario, c, cell.context[c]) for c in changed]
    if len(changed) > 1:
        lead = f"both {_and(phrases)}" if len(changed) == 2 else f"all of {_and(phrases)}"
        return f"If {lead}{rest}, how likely is {target}?"
    only = "only " if others else ""
    return f"If {only}{phrases[0]}{rest}, how likely is {target}?"


def _key_causes(scenario: Scenario, node: str, key: str) -> list[str]:
    """The causes a ``given`` key sets."""
    for inter in scenario.interactions_of(node):
        if inter.key == key:
            return list(inter.causes)
    return [key.partition("=")[0]]


def _history_text(scenario: Scenario, node: str, cell: FittedCell, target: str) -> str:
    influences = scenario.influences[node]
    if not influences:
        return f"How likely is {target}?"
    if not cell.key:
        return (f"As it actually was (causes: {_settings(cell.context, influences)}), "
                f"how likely is {target}?")
    changed = _key_causes(scenario, node, cell.key)
    rest = ", the rest as it was" if len(changed) < len(influences) else ""
    labels = [quoted(scenario.node(c).label) for c in changed]
    if len(changed) == 1:
        return (f"Had {labels[0]} been otherwise ({_settings(cell.context, changed)}){rest}, "
                f"how likely is {target}?")
    history = {c: scenario.node(c).states[scenario.node(c).hard or 0] for c in changed}
    return (f"Had {_and(labels)} together been otherwise ({_settings(cell.context, changed)}; "
            f"as it was: {_settings(history, changed)}){rest}, how likely is {target}?")


def questions(scenario: Scenario, node: str, priors: PriorSet | None = None) -> list[Question]:
    """The questions for one event, in plain words.

    Its base chance (for an event with states, one "at least" chance per state
    after the first), then one per ``given`` key: each cause alone (anchor
    ``"absent"``) or each cause otherwise, the rest as it was (``"history"``),
    then each interaction. ``priors`` sets the anchor and the state a saved
    ``given`` of an event with states judges. An event with gates is asked
    about inside them, and the question says so.
    """
    if priors is None:
        priors = PriorSet(id="new", name="new", scenario=scenario.id, summary="", based_on=(),
                          interval=0.9, nodes={})
    n = scenario.node(node)
    inside = _inside_gates(scenario, node)
    inters = {i.key: i for i in scenario.interactions_of(node)}
    anchor = priors.anchor_of(node)
    if anchor == "history" and any(scenario.node(c).hard is None
                                   for c in scenario.influences[node]):
        anchor = "absent"  # as the fit reads an event it cannot judge so
    out = []
    for cell in event_cells(priors, scenario, node):
        state = None if n.binary else cell.state
        target = _target(scenario, node, state)
        text = (_history_text if anchor == "history" else _absent_text)(
            scenario, node, cell, target)
        if inside:
            text = inside + text[0].lower() + text[1:]
        claim = ""
        if cell.key in inters:
            claim = f"{inters[cell.key].claim} ({', '.join(inters[cell.key].by)})"
        elif cell.key:
            edge = scenario.edge(cell.key.partition("=")[0], node)
            claim = f"{edge.claim} ({', '.join(edge.by)})"
        out.append(Question(node, cell.key or None, text, claim, state, anchor))
    return out


def not_text(reply: str) -> str:
    """Why ``reply`` is not text the terminal sent in its encoding, or ``""``.

    Bytes that are not UTF-8 reach the session as U+FFFD (or, in the POSIX
    locale, as lone surrogates), which no prior-set file can hold.
    """
    if "\ufffd" in reply or any("\ud800" <= c <= "\udfff" for c in reply):
        return ("that answer is not UTF-8 text (the terminal sent bytes that are not "
                "UTF-8): type it again; if this keeps happening, set the terminal to UTF-8")
    return ""


def _chance(token: str) -> float:
    try:
        p = float(token)
    except ValueError:
        raise BadAnswer(f'cannot read "{token}" as a number: type chances such as 0.1 0.3 '
                        "0.6") from None
    if 0.0 < p < 1.0:
        return p
    if 1.0 < p <= 100.0 and p.is_integer():
        hint = f"for {token}% type {p / 100:g}"
    elif p >= 1.0:
        hint = "for almost certain type e.g. 0.99"
    elif p <= 0.0:
        hint = "for almost never type e.g. 0.01"
    else:
        hint = "type a number such as 0.3"
    raise BadAnswer(f"{token} is not a chance strictly between 0 and 1: {hint}")


def read_answer(text: str) -> Judgement:
    """Read ``"0.1 0.3 0.6"``, ``"0.1, 0.3, 0.6"`` or ``"[0.1, 0.3, 0.6]"``, or one number.

    Raises
    ------
    BadAnswer
        When the answer is not one chance or three increasing chances, each
        strictly between 0 and 1; the message says what to type instead.
    """
    tokens = [t for t in re.split(r"[\s,;]+", text.strip().strip("[]")) if t]
    if len(tokens) not in (1, 3):
        raise BadAnswer(f'"{text.strip()}" has {len(tokens)} numbers: type three (low median '
                        "high) or one (a fixed chance)")
    ps = [_chance(t) for t in tokens]
    if len(ps) == 1:
        return Judgement(ps[0])
    low, mid, high = ps
    if low == mid == high:
        raise BadAnswer(f'"{" ".join(tokens)}" is three times the same chance: for a fixed '
                        "chance type one number")
    if not low < mid < high:
        raise BadAnswer(f'"{" ".join(tokens)}" is not increasing: type the lowest plausible '
                        "chance, then your best guess, then the highest")
    return Judgement(mid, low, high)


def answer_text(j: Judgement) -> str:
    """A judgement as it would be typed."""
    if j.fixed:
        return format_number(j.median)
    return f"{format_number(j.low or 0.0)} {format_number(j.median)} {format_number(j.high or 0.0)}"


def percent(mass: float) -> str:
    """A probability mass as a percentage: 0.9 -> "90%"."""
    return f"{mass * 100:g}%"


def _times(r: float) -> str:
    if r < 10:
        return f"{r:.2g}"
    return f"{r:,.0f}"


def concerns(j: Judgement, interval: float) -> list[str]:
    """What about an answer deserves a second thought before it is kept ([] when nothing).

    * One number: a fixed chance, certainty, which no evidence can move.
    * A lopsided interval: on the log-odds scale, where the fit works, one side
      of the median is more than ``LOPSIDED`` (2) times the other; the fit keeps
      the median and the interval's width there, so it moves the end points.
    * A U-shaped interval: so wide on that scale that the fitted density on
      the chances has two peaks, near 0 and near 1, with a dip between them
      (see :meth:`~plausibly.priors.fit.LogitNormal.u_peaks`).
    """
    if j.fixed:
        return [f"one number means certainty: the chance is exactly {j.median:g}, with no "
                "uncertainty at all, and nothing in history can move it; for a best guess "
                "with some doubt type three numbers (low median high)"]
    assert j.low is not None and j.high is not None
    fitted = fit_judgement(j, interval)
    out = []
    below, above = logit(j.median) - logit(j.low), logit(j.high) - logit(j.median)
    if max(below, above) > LOPSIDED * min(below, above):
        ratio = max(below, above) / min(below, above) if min(below, above) > 0 else math.inf
        near, far = (("low", j.low), ("high", j.high))[::1 if below < above else -1]
        lo, hi = fitted.interval(interval)
        out.append(f"that interval is lopsided: on the log-odds scale, where the fit works, "
                   f"your median {j.median:g} is {ratio:.1f} times closer to the {near[0]} "
                   f"end {near[1]:g} than to the {far[0]} end {far[1]:g} (lopsided: one side "
                   f"more than {LOPSIDED:g} times the other). The fit keeps your median and "
                   f"the interval's width on that scale, so it reads your answer as {lo:.3g} "
                   f"to {hi:.3g}")
    peaks = fitted.u_peaks()
    if peaks is not None:
        out.append(f"that interval is U-shaped: it is so wide on the log-odds scale (sd "
                   f"{fitted.sigma:.2f}) that the fitted prior has two peaks, at {peaks[0]:.2g} "
                   f"and {peaks[1]:.2g}, with a dip between them, rather than one peak near "
                   f"your median {j.median:g} (to say \"anywhere in between\", type a "
                   "narrower range such as 0.1 0.5 0.9)")
    return out


def fitted_line(j: Judgement, interval: float) -> tuple[str, str]:
    """The fitted prior of an answer, as a ``("fit", text)`` line."""
    if j.fixed:
        return "fit", f"fixed: exactly {format_number(j.median)}, no uncertainty"
    fitted = fit_judgement(j, interval)
    lo, hi = fitted.interval(interval)
    return "fit", (f"fitted: median {sigmoid(fitted.mu):.3g}, {percent(interval)} interval "
                   f"{lo:.3g} to {hi:.3g}")


def order_problem(priors: PriorSet, scenario: Scenario, question: Question,
                  j: Judgement) -> str:
    """Why a base "at least" chance breaks the order of the states' chances ("" if not).

    A higher state is rarer: P(X >= s_k) must fall as k rises, among the
    states judged so far.
    """
    nj = priors.nodes.get(question.node)
    if question.cause is not None or question.state is None or nj is None:
        return ""
    states = scenario.node(question.node).states
    k = states.index(question.state)
    lower = [s for s in states[1:k] if s in nj.base_states]
    higher = [s for s in states[k + 1:] if s in nj.base_states]
    if lower and not j.median < nj.base_states[lower[-1]].median:
        s = lower[-1]
        return (f"at least {question.state} must be less likely than at least {s} "
                f"({format_number(nj.base_states[s].median)}): a higher state is rarer; "
                "type a lower median")
    if higher and not j.median > nj.base_states[higher[0]].median:
        s = higher[0]
        return (f"at least {question.state} must be likelier than at least {s} "
                f"({format_number(nj.base_states[s].median)}): a higher state is rarer; "
                "type a higher median")
    return ""


def distribution_line(scenario: Scenario, node: str, at_least: Mapping[str, float],
                      shift: float = 0.0) -> str:
    """``P(X = s)`` for each state, from the "at least" chances (shifted on the logit scale)."""
    states = scenario.node(node).states
    ps = [1.0] + [sigmoid(logit(at_least[s]) + shift) for s in states[1:]] + [0.0]
    parts = [f"{s} {ps[k] - ps[k + 1]:.2g}" for k, s in enumerate(states)]
    return ", ".join(parts)


def feedback(priors: PriorSet, scenario: Scenario, question: Question,
             j: Judgement) -> list[tuple[str, str]]:
    """What an answer implies, as ``(kind, text)`` lines.

    The fitted prior (median and central interval of the file's mass), for a
    ``given`` the change in odds against the event's base chance, for an
    event with states the distribution over its states that the medians imply
    (once every base state is judged), and the lopsided-fit warning of
    :func:`~plausibly.priors.fit.fit_judgement`.
    """
    fitted = fit_judgement(j, priors.interval, name=question.key)
    lines = [fitted_line(j, priors.interval)]
    node = scenario.node(question.node)
    saved = priors.nodes.get(question.node)
    at_least = {s: jj.median for s, jj in saved.base_states.items()} if saved else {}
    if question.cause is None and question.state is not None:
        at_least[question.state] = j.median
        if len(at_least) == len(node.states) - 1:
            lines.append(("states", f"implied by the medians: {quoted(node.label)} is "
                                    f"{distribution_line(scenario, node.id, at_least)}"))
    if question.cause is not None:
        base: Judgement | None = None
        if saved is not None:
            base = saved.base if question.state is None else saved.base_states.get(
                question.state)
        target = quoted(node.label) + (
            "" if question.state is None else f" at least {question.state}")
        if base is None:
            what = (f"no base chance is judged for {quoted(node.label)}" if question.state
                    is None else f"no base chance is judged for {target}")
            lines.append(("odds", f"{what}, so the change in odds cannot be shown"))
        else:
            lines.append(("odds", _odds_text(scenario, question, j, base, target)))
            if question.state is not None and len(at_least) == len(node.states) - 1:
                shift = logit(j.median) - logit(base.median)
                lines.append(("states", f"implied by the medians, in this case: "
                              f"{quoted(node.label)} is "
                              f"{distribution_line(scenario, node.id, at_least, shift)}"))
    if fitted.warning:
        lines.append(("warning", fitted.warning))
    return lines


def _odds_text(scenario: Scenario, question: Question, j: Judgement, base: Judgement,
               target: str) -> str:
    assert question.cause is not None
    causes = _key_causes(scenario, question.node, question.cause)
    labels = [quoted(scenario.node(c).label) for c in causes]
    if question.anchor == "history":
        subject = f"{_and(labels)} {'together ' if len(causes) > 1 else ''}otherwise"
        without = "as it was"
    else:
        if len(causes) > 1:
            subject = f"{_and(labels)} together"
        elif "=" in question.cause:
            subject = f"{labels[0]} at {question.cause.partition('=')[2]} alone"
        else:
            subject = f"{labels[0]} alone"
        without = ("without it" if len(scenario.influences[question.node]) == 1
                   else "with none of its causes")
    r = (j.median / (1 - j.median)) / (base.median / (1 - base.median))
    medians = f"(median {j.median:g} against {base.median:g})"
    verb = "make" if len(causes) > 1 and question.anchor != "history" else "makes"
    if 1 / 1.05 < r < 1.05:
        change = f"leave{'s' if verb == 'makes' else ''} the odds of {target} about as they " \
                 f"are {without}"
    elif r > 1:
        change = f"{verb} {target} {_times(r)} times likelier in odds than {without}"
    else:
        change = f"{verb} {target} {_times(1 / r)} times less likely in odds than {without}"
    return f"{subject} {change} {medians}"
