"""What an elicitation session asks and says, in plain words.

The questions for each event, reading an answer (three chances or one),
the feedback after an answer (the fitted prior and the change in odds), and
the answers worth a second thought before they are kept: a lopsided or
U-shaped interval, and a lone number, which means certainty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from plausibly.models.scenario import Scenario
from plausibly.priors.elicitation import Judgement, PriorSet
from plausibly.priors.fit import LOPSIDED, fit_judgement, logit, sigmoid
from plausibly.priors.toml_writer import format_number

__all__ = ["BadAnswer", "Question", "answer_text", "concerns", "feedback", "fitted_line",
           "not_text", "percent", "questions", "quoted", "read_answer"]


class BadAnswer(ValueError):
    """An answer that cannot be a judgement; its message says why, in plain words."""


@dataclass(frozen=True)
class Question:
    """One judgement to ask for: an event's base chance, or its chance given one cause."""

    node: str
    cause: str | None
    text: str
    claim: str = ""

    @property
    def key(self) -> str:
        """The parameter as ``X.base`` or ``X.given.C`` (as in ``plausibly check``)."""
        return f"{self.node}.base" if self.cause is None else f"{self.node}.given.{self.cause}"

    def saved(self, priors: PriorSet) -> Judgement | None:
        """The judgement ``priors`` holds for this question, if any."""
        nj = priors.nodes.get(self.node)
        if nj is None:
            return None
        return nj.base if self.cause is None else nj.given.get(self.cause)


def quoted(label: str) -> str:
    """A label in double quotes."""
    return f'"{label}"'


def _listing(labels: Sequence[str]) -> str:
    return ", ".join(quoted(x) for x in labels)


def questions(scenario: Scenario, node: str) -> list[Question]:
    """The questions for one event, in plain words: its base chance, then each cause alone."""
    label = quoted(scenario.node(node).label)
    causes = scenario.parents[node]
    names = [scenario.node(c).label for c in causes]
    if not causes:
        base = f"How likely is {label}?"
    elif len(causes) == 1:
        base = f"If {quoted(names[0])} did not happen, how likely is {label}?"
    else:
        base = f"If none of {_listing(names)} happened, how likely is {label}?"
    out = [Question(node, None, base)]
    for cause, name in zip(causes, names, strict=True):
        others = [n for c, n in zip(causes, names, strict=True) if c != cause]
        if others:
            text = (f"If only {quoted(name)} happened (not {_listing(others)}), "
                    f"how likely is {label}?")
        else:
            text = f"If {quoted(name)} happened, how likely is {label}?"
        edge = scenario.edge(cause, node)
        out.append(Question(node, cause, text, f"{edge.claim} ({', '.join(edge.by)})"))
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


def feedback(priors: PriorSet, scenario: Scenario, question: Question,
             j: Judgement) -> list[tuple[str, str]]:
    """What an answer implies, as ``(kind, text)`` lines.

    The fitted prior (median and central interval of the file's mass), for a
    cause the change in odds against the event's base chance, and the
    lopsided-fit warning of :func:`~plausibly.priors.fit.fit_judgement`.
    """
    fitted = fit_judgement(j, priors.interval, name=question.key)
    lines = [fitted_line(j, priors.interval)]
    if question.cause is not None:
        node = scenario.node(question.node)
        cause = scenario.node(question.cause)
        saved = priors.nodes.get(question.node)
        base = saved.base if saved is not None else None
        if base is None:
            lines.append(("odds", f"no base chance is judged for {quoted(node.label)}, so "
                                  "the change in odds cannot be shown"))
        else:
            without = ("without it" if len(scenario.parents[question.node]) == 1
                       else "with none of its causes")
            r = (j.median / (1 - j.median)) / (base.median / (1 - base.median))
            medians = f"(median {j.median:g} against {base.median:g})"
            if 1 / 1.05 < r < 1.05:
                change = f"leaves the odds of {quoted(node.label)} about as they are {without}"
            elif r > 1:
                change = (f"makes {quoted(node.label)} {_times(r)} times likelier in odds "
                          f"than {without}")
            else:
                change = (f"makes {quoted(node.label)} {_times(1 / r)} times less likely in "
                          f"odds than {without}")
            lines.append(("odds", f"{quoted(cause.label)} alone {change} {medians}"))
    if fitted.warning:
        lines.append(("warning", fitted.warning))
    return lines

