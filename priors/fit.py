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
from typing import TYPE_CHECKING, Any, NamedTuple

from plausibly.models.scenario import Scenario
from plausibly.priors.elicitation import Judgement, PriorSet

if TYPE_CHECKING:
    import numpy as np

    from plausibly.models.parameters import ParameterPrior

__all__ = [
    "WEAK_DEFAULT",
    "FittedPriors",
    "LogitNormal",
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


class LogitArrays(NamedTuple):
    """Normal priors of every logit in network order (see :meth:`FittedPriors.logit_arrays`)."""

    mu_a: np.ndarray
    sd_a: np.ndarray
    mu_g: np.ndarray
    sd_g: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class FittedPriors:
    """Normal-on-logit priors for every parameter of a scenario.

    ``base[X]`` is the prior of ``a_X = logit P(X | no cause)``;
    ``given[(X, C)]`` that of ``g_XC = logit P(X | C alone)``, so that the
    weight of cause C is ``b_XC = g_XC - a_X``.
    """

    scenario: str
    priors: str
    name: str
    base: Mapping[str, LogitNormal]
    given: Mapping[tuple[str, str], LogitNormal]

    @property
    def warnings(self) -> list[str]:
        """Lopsided-fit warnings, one per judgement."""
        return [p.warning for p in [*self.base.values(), *self.given.values()] if p.warning]

    def unjudged(self) -> list[str]:
        """Parameters that took a default, as ``"X.base"`` / ``"X.given.C"``."""
        defaults = ("default", "weak")
        out = [f"{x}.base" for x, p in self.base.items() if p.source in defaults]
        out += [f"{x}.given.{c}" for (x, c), p in self.given.items() if p.source in defaults]
        return out

    def logit_arrays(self, order: tuple[str, ...], parents: Mapping[str, tuple[str, ...]],
                     width: int) -> LogitArrays:
        """The Normal priors of every logit as arrays in network order.

        ``mu_a, sd_a`` have shape ``(N,)`` and ``mu_g, sd_g, mask`` shape
        ``(N, width)``; ``mask`` marks real causes (padding has sd 0).
        """
        import numpy as np

        n = len(order)
        mu_a, sd_a = np.zeros(n), np.zeros(n)
        mu_g, sd_g, mask = np.zeros((n, width)), np.zeros((n, width)), np.zeros((n, width))
        for i, x in enumerate(order):
            mu_a[i], sd_a[i] = self.base[x].mu, self.base[x].sigma
            for j, cause in enumerate(parents[x]):
                p = self.given[(x, cause)]
                mu_g[i, j], sd_g[i, j], mask[i, j] = p.mu, p.sigma, 1.0
        return LogitArrays(mu_a, sd_a, mu_g, sd_g, mask)

    def parameter_prior(self, scenario: Scenario) -> ParameterPrior:
        """What the engine samples from: these priors laid out for ``scenario``."""
        from plausibly.models.parameters import ParameterPrior

        width = max([len(p) for p in scenario.parents.values()] + [1])
        h = self.logit_arrays(scenario.order, scenario.parents, width)
        return ParameterPrior.from_logits(self.priors, self.name, scenario.order,
                                          scenario.parents, mu_a=h.mu_a, sd_a=h.sd_a,
                                          mu_g=h.mu_g, sd_g=h.sd_g, mask=h.mask)

    def sample(self, order: tuple[str, ...], parents: Mapping[str, tuple[str, ...]],
               width: int, draws: int, seed: int | None = None) -> tuple[Any, Any]:
        """Draw ``(a, b)`` from the prior: shapes ``(draws, N)`` and ``(draws, N, width)``."""
        import numpy as np

        h = self.logit_arrays(order, parents, width)
        rng = np.random.default_rng(seed)
        a = h.mu_a + h.sd_a * rng.standard_normal((draws, len(order)))
        g = h.mu_g + h.sd_g * rng.standard_normal((draws, len(order), width))
        return a, (g - a[:, :, None]) * h.mask

def fit_prior_set(priors: PriorSet, scenario: Scenario) -> FittedPriors:
    """Fit every parameter of ``scenario`` from ``priors`` (defaults for the unjudged)."""

    def default(j: Judgement | None) -> LogitNormal:
        if j is not None:
            return fit_judgement(j, priors.interval, "default")
        return fit_judgement(WEAK_DEFAULT, WEAK_INTERVAL, "weak")

    base: dict[str, LogitNormal] = {}
    given: dict[tuple[str, str], LogitNormal] = {}
    for x in scenario.order:
        nj = priors.nodes.get(x)
        if nj is not None and nj.base is not None:
            base[x] = fit_judgement(nj.base, priors.interval, name=f"{x}.base")
        else:
            base[x] = default(priors.default_base)
        for cause in scenario.parents[x]:
            j = nj.given.get(cause) if nj is not None else None
            if j is not None:
                given[(x, cause)] = fit_judgement(j, priors.interval, name=f"{x}.given.{cause}")
            else:
                given[(x, cause)] = default(priors.default_given)
    return FittedPriors(scenario.id, priors.id, priors.name, MappingProxyType(base),
                        MappingProxyType(given))
