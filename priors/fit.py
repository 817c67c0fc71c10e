"""Turn judgements into Normal priors on the logit scale.

A triple ``[low, median, high]`` with central mass ``interval`` becomes
``Normal(logit(median), sigma)`` with ``sigma`` the mean of the two logit
half-widths divided by ``z = Phi^-1((1 + interval) / 2)``. The fit keeps the
median exactly and the width of the interval on the log-odds scale exactly;
when the judged interval is lopsided on that scale, its end points move
(symmetrically about the median) and the fit says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from plausibly.models.scenario import Scenario
from plausibly.priors.elicitation import Judgement, PriorSet

if TYPE_CHECKING:
    from plausibly.models.parameters import ParameterPrior

__all__ = [
    "WEAK_DEFAULT",
    "FittedCell",
    "FittedPriors",
    "FittedStrength",
    "LogitNormal",
    "event_cells",
    "fit_judgement",
    "fit_prior_set",
    "logit",
    "sigmoid",
]

#: Used for a parameter the file does not judge and that has no ``[default]``:
#: P = [0.05, 0.5, 0.95] at 90%, i.e. Normal(0, 1.79) on the logit scale —
#: weakly informative: any probability is plausible, the extremes less so.
WEAK_DEFAULT = Judgement(0.5, 0.05, 0.95)
WEAK_INTERVAL = 0.9

#: Tails whose logit half-widths differ by more than this factor get a warning.
LOPSIDED = 2.0


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p) - math.log1p(-p)


def sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)), without overflow."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass(frozen=True)
class LogitNormal:
    """A Normal prior on a logit; ``sigma == 0`` means the value is fixed.

    ``source`` is ``"judged"``, ``"default"`` (the file's ``[default]``) or
    ``"weak"`` (the built-in weak default); ``warning`` explains a lopsided fit.
    """

    mu: float
    sigma: float
    source: str = "judged"
    warning: str = ""

    @property
    def fixed(self) -> bool:
        """Whether the parameter is a constant."""
        return self.sigma == 0.0

    def interval(self, mass: float) -> tuple[float, float]:
        """The central interval of probability ``mass``, on the probability scale."""
        z = NormalDist().inv_cdf((1.0 + mass) / 2.0)
        return sigmoid(self.mu - z * self.sigma), sigmoid(self.mu + z * self.sigma)

    def u_peaks(self) -> tuple[float, float] | None:
        """The two peaks of the density on the chances when it is U-shaped, else None.

        The density of p = sigmoid(x), x ~ Normal(mu, sigma), is stationary
        where h(x) = x - mu - sigma^2 (2 sigmoid(x) - 1) = 0. h rises from -inf
        to +inf and can turn back only where p (1 - p) = 1 / (2 sigma^2), which
        needs sigma^2 > 2: then the density has two peaks, near 0 and near 1,
        with a dip between them, exactly when h is positive at the first turn
        and negative at the second. (With the median at 0.5: whenever
        sigma > sqrt(2), e.g. [0.05, 0.5, 0.95] at 90%.)
        """
        s2 = self.sigma ** 2
        if s2 <= 2.0:
            return None

        def h(x: float) -> float:
            return x - self.mu - s2 * (2.0 * sigmoid(x) - 1.0)

        r = math.sqrt(1.0 - 2.0 / s2)
        first, second = logit((1.0 - r) / 2.0), logit((1.0 + r) / 2.0)
        if not h(first) > 0.0 > h(second):
            return None

        def root(lo: float, hi: float) -> float:  # h(lo) < 0 < h(hi)
            for _ in range(200):
                mid = (lo + hi) / 2.0
                lo, hi = (mid, hi) if h(mid) < 0.0 else (lo, mid)
            return sigmoid((lo + hi) / 2.0)

        # h(x) < 0 below mu - s2 and > 0 above mu + s2: these bracket the outer roots
        return root(self.mu - s2 - 1.0, first), root(second, self.mu + s2 + 1.0)


def fit_judgement(j: Judgement, interval: float, source: str = "judged",
                  name: str = "") -> LogitNormal:
    """Fit one judgement (see the module docstring)."""
    mu = logit(j.median)
    if j.fixed:
        return LogitNormal(mu, 0.0, source)
    assert j.low is not None and j.high is not None
    z = NormalDist().inv_cdf((1.0 + interval) / 2.0)
    lower = (mu - logit(j.low)) / z
    upper = (logit(j.high) - mu) / z
    fitted = LogitNormal(mu, (lower + upper) / 2.0, source)
    warning = ""
    if max(lower, upper) > LOPSIDED * min(lower, upper):
        lo, hi = fitted.interval(interval)
        side = "upper" if upper > lower else "lower"
        # a tail can round to zero width on the log-odds scale (e.g. low 1e-300, median
        # the next float up)
        ratio = max(lower, upper) / min(lower, upper) if min(lower, upper) > 0 else math.inf
        warning = (f"{name}: the judged interval [{j.low:g}, {j.median:g}, {j.high:g}] is "
                   f"lopsided on the log-odds scale (the {side} tail is "
                   f"{ratio:.1f} times the other); the fit "
                   f"keeps the median {j.median:g} and the interval's log-odds width, so its "
                   f"{100 * interval:g}% interval is [{lo:.3g}, {hi:.3g}]")
    return LogitNormal(fitted.mu, fitted.sigma, source, warning)


@dataclass(frozen=True)
class FittedCell:
    """One judged logit, fitted: ``logit P(event >= state | context) ~ prior``.

    ``context`` gives the state of every influencing cause of ``event``;
    ``key`` is ``""`` for a ``base`` judgement, else the ``given`` key
    (``"C"``, ``"C=state"``, ``"A & B"``); ``name`` is the engine's name
    (``a[x]``, ``a[x>=state]``, ``g[x|c]``, ``g[x|c=state]``, ``g[x|A & B]``);
    ``label`` the parameter as ``check`` lists it (``x.base``,
    ``x.base.state``, ``x.given.KEY``).
    """

    event: str
    state: str
    context: Mapping[str, str]
    prior: LogitNormal
    name: str
    label: str
    key: str = ""


@dataclass(frozen=True)
class FittedStrength:
    """A judged strength of a soft POD: the logit of P(event = yes) under ``pod``."""

    pod: str
    event: str
    prior: LogitNormal

    @property
    def label(self) -> str:
        """The parameter as the file names it: ``pods.ID.do.EVENT``."""
        return f"pods.{self.pod}.do.{self.event}"


@dataclass(frozen=True)
class FittedPriors:
    """Normal-on-logit priors for every judged cell of a scenario.

    Per event, in network order: its ``states - 1`` base cells (state order),
    then one cell per term of its linear predictor (its influences' keys in
    edge and state order, then its interactions). The engine solves each
    event's cells for ``(a, b)`` (:meth:`parameter_prior`).
    """

    scenario: str
    priors: str
    name: str
    cells: tuple[FittedCell, ...]
    strengths: tuple[FittedStrength, ...] = ()

    @property
    def base(self) -> Mapping[str, LogitNormal]:
        """The base cells: ``x`` for a yes/no event, ``x>=state`` for one with states."""
        return MappingProxyType({c.name[2:-1]: c.prior for c in self.cells if not c.key})

    @property
    def given(self) -> Mapping[tuple[str, str], LogitNormal]:
        """The given cells by ``(event, key)``."""
        return MappingProxyType({(c.event, c.key): c.prior for c in self.cells if c.key})

    @property
    def warnings(self) -> list[str]:
        """Lopsided-fit warnings, one per judgement."""
        priors = [c.prior for c in self.cells] + [s.prior for s in self.strengths]
        return [p.warning for p in priors if p.warning]

    def unjudged(self) -> list[str]:
        """Parameters that took a default: every ``X.base...`` first, then ``X.given...``."""
        defaults = ("default", "weak")
        out = [c.label for c in self.cells if not c.key and c.prior.source in defaults]
        out += [c.label for c in self.cells if c.key and c.prior.source in defaults]
        return out

    @property
    def parameters(self) -> int:
        """How many parameters the set gives a prior: every cell and judged POD strength."""
        return len(self.cells) + len(self.strengths)

    def parameter_prior(self, scenario: Scenario) -> ParameterPrior:
        """What the engine samples from: these priors laid out for ``scenario``.

        Raises
        ------
        SingularJudgements
            When an event's cells do not determine its parameters
            (:func:`fit_prior_set` reports it first, as an ``ElicitationError``).
        """
        from plausibly.models.network import Network
        from plausibly.models.parameters import Cell, ParameterPrior

        net = Network.from_scenario(scenario)
        cells = [Cell(net.index(c.event), net.state_index(c.event, c.state),
                      {net.index(p): net.state_index(p, s) for p, s in c.context.items()},
                      c.prior.mu, c.prior.sigma, c.name) for c in self.cells]
        strengths = [(s.pod, s.event, s.prior.mu, s.prior.sigma) for s in self.strengths]
        return ParameterPrior.from_cells(self.priors, self.name, net, cells,
                                         strengths=strengths)

    def sample(self, scenario: Scenario, draws: int, seed: Any = None) -> tuple[Any, Any]:
        """Draw ``(a, b)`` from the prior (``z ~ Normal(0, 1)`` through ``to_ab``).

        Shapes as :meth:`ParameterPrior.to_ab`: ``a`` is ``(draws, N)`` when every
        event is yes/no, else ``(draws, N, T)``; ``b`` is ``(draws, N, K)``.
        """
        import numpy as np

        prior = self.parameter_prior(scenario)
        z = np.random.default_rng(seed).standard_normal((draws, prior.free.size))
        return prior.to_ab(z)


def _default_prior(j: Judgement | None, interval: float, mu: float | None) -> LogitNormal:
    """The file's ``[default]`` (or the weak default), centred at ``mu`` when given."""
    fitted = (fit_judgement(j, interval, "default") if j is not None
              else fit_judgement(WEAK_DEFAULT, WEAK_INTERVAL, "weak"))
    return fitted if mu is None else LogitNormal(mu, fitted.sigma, fitted.source)


def _even(m: int, k: int) -> float:
    """The default median logit of P(X >= s_k) for an event with m states: (m - k) / m."""
    return logit((m - k) / m)


def _anchor_for(priors: PriorSet, scenario: Scenario, node: str) -> str:
    """The anchor of ``node``'s cells.

    An event the file does not judge falls back to ``"absent"`` where its
    causes' history is not known for certain.
    """
    anchor = priors.anchor_of(node)
    if node not in priors.nodes and anchor == "history" and any(
            scenario.node(c).hard is None for c in scenario.influences[node]):
        return "absent"
    return anchor


def _event_cells(priors: PriorSet, scenario: Scenario, x: str) -> list[FittedCell]:
    """The cells of event ``x`` in the engine's order (see :class:`FittedPriors`)."""
    node = scenario.node(x)
    states, m = node.states, len(node.states)
    nj = priors.nodes.get(x)
    anchor = _anchor_for(priors, scenario, x)
    influences = scenario.influences[x]
    if anchor == "history":
        ref = {c: scenario.node(c).states[scenario.node(c).hard or 0] for c in influences}
    else:
        ref = {c: scenario.node(c).states[0] for c in influences}
    cells: list[FittedCell] = []
    for k in range(1, m):
        state = states[k]
        name, label = (f"a[{x}]", f"{x}.base") if node.binary else (
            f"a[{x}>={state}]", f"{x}.base.{state}")
        j = nj.base if nj is not None and node.binary else (
            nj.base_states.get(state) if nj is not None else None)
        prior = (fit_judgement(j, priors.interval, name=label) if j is not None else
                 _default_prior(priors.default_base, priors.interval,
                                None if node.binary else _even(m, k)))
        cells.append(FittedCell(x, state, MappingProxyType(dict(ref)), prior, name, label))

    def given(key: str, context: dict[str, str]) -> None:
        label = f"{x}.given.{key}"
        j = nj.given.get(key) if nj is not None else None
        if j is not None:
            state = nj.given_states.get(key, states[1]) if nj is not None else states[1]
            prior = fit_judgement(j, priors.interval, name=label)
        else:
            state = states[1]
            prior = _default_prior(priors.default_given, priors.interval,
                                   None if node.binary else _even(m, 1))
        cells.append(FittedCell(x, state, MappingProxyType({**ref, **context}), prior,
                                f"g[{x}|{key}]", label, key))

    for c in influences:
        cause = scenario.node(c)
        if cause.binary:
            flip = cause.states[1 - (cause.hard or 0)] if anchor == "history" else (
                cause.states[1])
            given(c, {c: flip})
            continue
        for k, s in enumerate(cause.states):
            if (k != cause.hard) if anchor == "history" else k > 0:
                given(f"{c}={s}", {c: s})
    for inter in scenario.interactions_of(x):
        context = dict(inter.causes)
        if anchor == "history":
            active = all((scenario.node(c).hard or 0) >= scenario.node(c).states.index(s)
                         for c, s in inter.causes.items())
            if active:
                context = {c: scenario.node(c).states[0] for c in inter.causes}
        given(inter.key, context)
    return cells


def event_cells(priors: PriorSet, scenario: Scenario, x: str) -> list[FittedCell]:
    """The cells of event ``x``: what each judgement of it asks, in which context.

    In the engine's order (see :class:`FittedPriors`): its base cells, then a
    cell per ``given`` key; each names the state it judges (P(x >= state))
    and the state of every influencing cause.
    """
    return _event_cells(priors, scenario, x)


def fit_prior_set(priors: PriorSet, scenario: Scenario) -> FittedPriors:
    """Fit every parameter of ``scenario`` from ``priors`` (defaults for the unjudged).

    Unjudged parameters take the file's ``[default]`` or :data:`WEAK_DEFAULT`.
    For an event with states the default medians are spread evenly,
    P(X >= s_k) = (m - k) / m for its m states, and an unjudged ``given`` is
    judged at its second state with that state's default median (no effect on
    average); either keeps the default's width.

    Raises
    ------
    ElicitationError
        When an event's judgements do not determine its parameters.
    """
    from plausibly.models.errors import ElicitationError, Problem
    from plausibly.models.parameters import SingularJudgements

    cells = [c for x in scenario.order for c in _event_cells(priors, scenario, x)]
    strengths = tuple(
        FittedStrength(pj.pod, event, fit_judgement(j, priors.interval,
                                                    name=f"pods.{pj.pod}.do.{event}"))
        for pj in priors.pods.values() for event, j in pj.do.items())
    fitted = FittedPriors(scenario.id, priors.id, priors.name, tuple(cells), strengths)
    try:
        fitted.parameter_prior(scenario)
    except SingularJudgements as err:
        x = scenario.order[err.event]
        keys = ", ".join(c.label.removeprefix(f"{x}.") for c in cells if c.event == x)
        raise ElicitationError(problems=[Problem(
            priors.path or priors.id, f"nodes.{x}",
            f"the judgements of '{x}' ({keys}) do not determine its parameters: their "
            "contexts repeat", f'judge it in the other anchor (anchor = "absent" or '
            f'"history" under [nodes.{x}])')]) from None
    return fitted
