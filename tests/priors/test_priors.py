"""Prior sets: fitting against scipy, every reader message, pooling and evidence.

Tiers (STYLE.md 11): closed forms checked against scipy with stated tolerances;
every message of :mod:`plausibly.priors.elicitation` as whole text; Monte Carlo
estimates checked against exact integrals within a number of standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import reference as ref
from scipy import integrate, stats
from scipy.special import expit, logit

from plausibly.models.errors import ElicitationError, UsageError
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario, parse_scenario
from plausibly.priors.comparison import mixture_draws
from plausibly.priors.elicitation import (
    Judgement,
    bundled_prior_sets,
    load_prior_set,
    parse_prior_set,
)
from plausibly.priors.fit import LogitNormal, fit_judgement, fit_prior_set
from plausibly.priors.pool import (
    Evidence,
    log_pool,
    marginal_likelihood,
    normalise_weights,
    posterior_weights,
)

DATA = Path(__file__).parents[1] / "data"
SQUAD = load_scenario(DATA / "firing_squad.toml")

# --------------------------------------------------------------------------- fitting

TRIPLES = [  # (low, median, high), interval
    ((0.05, 0.15, 0.35), 0.9),
    ((0.6, 0.85, 0.97), 0.9),
    ((0.2, 0.5, 0.8), 0.5),
    ((0.001, 0.01, 0.05), 0.8),
    ((0.3, 0.6, 0.95), 0.95),
    ((0.01, 0.5, 0.6), 0.9),  # lopsided: the fit still keeps median and width
    ((0.9, 0.99, 0.999), 0.99),
]


@pytest.mark.parametrize(("triple", "interval"), TRIPLES)
def test_fit_keeps_the_median_and_the_log_odds_width(triple, interval):
    low, mid, high = triple
    fitted = fit_judgement(Judgement(mid, low, high), interval)
    dist = stats.norm(fitted.mu, fitted.sigma)
    assert expit(dist.median()) == pytest.approx(mid, abs=1e-12)
    width = dist.ppf((1 + interval) / 2) - dist.ppf((1 - interval) / 2)
    assert width == pytest.approx(logit(high) - logit(low), abs=1e-9)


@pytest.mark.parametrize(("centre", "half", "interval"), [
    (0.0, 1.0, 0.9), (-2.0, 0.5, 0.8), (3.0, 2.0, 0.5), (-6.0, 3.0, 0.99)])
def test_a_triple_symmetric_on_the_logit_scale_is_reproduced_exactly(centre, half, interval):
    low, mid, high = (float(expit(centre + k * half)) for k in (-1, 0, 1))
    fitted = fit_judgement(Judgement(mid, low, high), interval)
    dist = stats.norm(fitted.mu, fitted.sigma)
    assert expit(dist.ppf((1 - interval) / 2)) == pytest.approx(low, abs=1e-9)
    assert expit(dist.ppf((1 + interval) / 2)) == pytest.approx(high, abs=1e-9)
    assert fitted.interval(interval) == pytest.approx((low, high), abs=1e-9)
    assert fitted.warning == ""


def test_lopsided_interval_is_explained():
    fitted = fit_judgement(Judgement(0.5, 0.01, 0.6), 0.9, name="x.base")
    # the lower tail is (logit .5 - logit .01) / (logit .6 - logit .5) = 4.595 / 0.405 = 11.3
    # times the upper; the fitted 90% interval is expit(0 -+ 5.0005 / 2) = [0.0758, 0.924]
    assert fitted.warning == (
        "x.base: the judged interval [0.01, 0.5, 0.6] is lopsided on the log-odds scale "
        "(the lower tail is 11.3 times the other); the fit keeps the median 0.5 and the "
        "interval's log-odds width, so its 90% interval is [0.0758, 0.924]")


@pytest.mark.parametrize(("upper", "lopsided"), [(1.99, False), (2.01, True), (0.49, True),
                                                 (0.51, False), (1.0, False)])
def test_lopsided_means_one_tail_more_than_twice_the_other(upper, lopsided):
    # lower tail 1 on the log-odds scale, upper tail as given
    j = Judgement(0.5, float(expit(-1.0)), float(expit(upper)))
    assert bool(fit_judgement(j, 0.9, name="x").warning) is lopsided


def test_lopsided_upper_tail_whole_text():
    j = Judgement(0.5, float(expit(-1.0)), float(expit(2.01)))
    assert fit_judgement(j, 0.9, name="x.base").warning == (
        "x.base: the judged interval [0.268941, 0.5, 0.881843] is lopsided on the log-odds "
        "scale (the upper tail is 2.0 times the other); the fit keeps the median 0.5 and the "
        "interval's log-odds width, so its 90% interval is [0.182, 0.818]")


def test_a_tail_of_zero_log_odds_width_does_not_divide_by_zero():
    # low and median one float apart near 0 have the same logit: the lower tail is 0
    low = 1e-300
    fitted = fit_judgement(Judgement(math.nextafter(low, 1.0), low, 0.5), 0.8, name="x.base")
    assert fitted.sigma > 0
    assert fitted.warning == (
        "x.base: the judged interval [1e-300, 1e-300, 0.5] is lopsided on the log-odds scale "
        "(the upper tail is inf times the other); the fit keeps the median 1e-300 and the "
        "interval's log-odds width, so its 80% interval is [0, 1e-150]")


@pytest.mark.parametrize("p", [0.3, 0.999, 1e-6])
def test_a_lone_number_is_fixed(p):
    fitted = fit_judgement(Judgement(p), 0.9)
    assert fitted.fixed and fitted.sigma == 0.0 and fitted.warning == ""
    assert fitted.mu == pytest.approx(logit(p), abs=1e-12)
    assert fitted.interval(0.9) == pytest.approx((p, p), abs=1e-15)


# --------------------------------------------------------------------------- reading

HEAD = 'id = "squad"\nname = "Squad"\nscenario = "firing_squad"\nsummary = "A test set."\n'


def read(tmp_path, text: str, scenario=SQUAD):
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    return load_prior_set(f, scenario)


def problems(tmp_path, text: str, scenario=SQUAD) -> str:
    with pytest.raises(ElicitationError) as err:
        read(tmp_path, text, scenario)
    return str(err.value).replace(str(tmp_path / "p.toml"), "{f}")


def node(body: str, name: str = "captain") -> str:
    return HEAD + f'\n[nodes.{name}]\nwhy = "w"\n{body}\n'


CASES = {
    "empty file": (
        "\n",
        "{f}: is empty\n    fix: write a prior set in TOML; see the README"),
    "not TOML": (
        HEAD + "interval = \n",
        "{f}: is not valid TOML: Invalid value (at line 5, column 12)\n"
        "    fix: fix the syntax at that line and column"),
    "wrong scenario id": (
        HEAD.replace("firing_squad", "ussr_1930"),
        "{f}: scenario: this prior set is for scenario 'ussr_1930', not 'firing_squad'\n"
        "    fix: use it with scenario 'ussr_1930', or change the key if the nodes match"),
    "scenario not snake_case": (
        HEAD.replace('"firing_squad"', '"Firing Squad"'),
        "{f}: scenario: 'Firing Squad' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter"),
    "missing keys": (
        'scenario = "firing_squad"\n',
        "{f}: id: is missing\n    fix: add 'id = ...'\n"
        "{f}: name: is missing\n    fix: add 'name = ...'\n"
        "{f}: summary: is missing\n    fix: add 'summary = ...'"),
    "unknown top-level key": (
        HEAD + "intervall = 0.8\n",
        "{f}: intervall: unknown key 'intervall' (did you mean 'interval'?)\n"
        "    fix: remove it; allowed keys here: id, name, scenario, summary, based_on, interval, "
        "anchor, default, nodes, pods"),
    "unknown node": (
        node("base = [0.1, 0.2, 0.3]", "captian"),
        "{f}: nodes.captian: 'captian' is not an event of scenario 'firing_squad' "
        "(did you mean 'captain'?)\n    fix: name one of the scenario's [nodes.*]"),
    "not a cause of that node": (
        node("given.rifleman_a = [0.1, 0.2, 0.3]"),
        "{f}: nodes.captain.given.rifleman_a: 'rifleman_a' is not a cause of 'captain'\n"
        "    fix: judge one of its causes: court_order"),
    "not a cause, with a near miss": (
        node("given.court_ordr = [0.1, 0.2, 0.3]"),
        "{f}: nodes.captain.given.court_ordr: 'court_ordr' is not a cause of 'captain' "
        "(did you mean 'court_order'?)\n    fix: judge one of its causes: court_order"),
    "a root has no causes": (
        node("given.captain = [0.1, 0.2, 0.3]", "court_order"),
        "{f}: nodes.court_order.given.captain: 'captain' is not a cause of 'court_order'\n"
        "    fix: judge one of its causes: it has none"),
    "triple not increasing": (
        node("base = [0.2, 0.1, 0.3]"),
        "{f}: nodes.captain.base: must be strictly increasing (low < median < high), "
        "got [0.2, 0.1, 0.3]\n    fix: order the three numbers: the lowest plausible, the best "
        "guess, the highest"),
    "triple with a tie": (
        node("base = [0.1, 0.1, 0.3]"),
        "{f}: nodes.captain.base: must be strictly increasing (low < median < high), "
        "got [0.1, 0.1, 0.3]\n    fix: order the three numbers: the lowest plausible, the best "
        "guess, the highest"),
    "triple touching 0": (
        node("base = [0.0, 0.1, 0.3]"),
        "{f}: nodes.captain.base[0]: must be in (0, 1), got 0.0\n"
        "    fix: write a probability between 0 and 1 (exclusive)"),
    "lone number of 1": (
        node("base = 1"),
        "{f}: nodes.captain.base: must be in (0, 1), got 1\n"
        "    fix: write a probability between 0 and 1 (exclusive)"),
    "lone number above 1": (
        node("given.court_order = 1.5"),
        "{f}: nodes.captain.given.court_order: must be in (0, 1), got 1.5\n"
        "    fix: write a probability between 0 and 1 (exclusive)"),
    "wrong length": (
        node("base = [0.1, 0.3]"),
        "{f}: nodes.captain.base: must have three numbers [low, median, high], got 2: "
        "[0.1, 0.3]\n    fix: write e.g. [0.1, 0.3, 0.6]"),
    "not a number": (
        node('base = "0.3"'),
        "{f}: nodes.captain.base: must be [low, median, high] or a number, got '0.3'\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value"),
    "true is not a probability here": (
        node("base = true"),
        "{f}: nodes.captain.base: must be [low, median, high] or a number, got True\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value"),
    "text inside a triple": (
        node('base = [0.1, "mid", 0.3]'),
        "{f}: nodes.captain.base[1]: must be a number in (0, 1), got 'mid' (a string)\n"
        "    fix: write a probability such as 0.3"),
    "boolean inside a triple": (
        node("base = [0.1, 0.2, true]"),
        "{f}: nodes.captain.base[2]: must be a number in (0, 1), got True\n"
        "    fix: write a probability such as 0.3"),
    "missing why": (
        HEAD + "\n[nodes.captain]\nbase = [0.1, 0.2, 0.3]\n",
        "{f}: nodes.captain.why: is missing\n    fix: add 'why = ...'"),
    "empty why": (
        HEAD + '\n[nodes.captain]\nwhy = ""\nbase = [0.1, 0.2, 0.3]\n',
        "{f}: nodes.captain.why: is empty\n    fix: write some text"),
    "judges nothing": (
        node(""),
        "{f}: nodes.captain: judges nothing\n"
        "    fix: add base = [...] and/or given.<cause> = [...]"),
    "unknown node key": (
        node("base = [0.1, 0.2, 0.3]\nbse = 0.2"),
        "{f}: nodes.captain.bse: unknown key 'bse' (did you mean 'base'?)\n"
        "    fix: remove it; allowed keys here: why, base, given, anchor"),
    "given not a table": (
        node("given = [0.1, 0.2, 0.3]\nbase = 0.2"),
        "{f}: nodes.captain.given: must be a table of cause = judgement, got [0.1, 0.2, 0.3]\n"
        "    fix: write given.<cause> = [low, median, high] under [nodes.captain]"),
    "nodes not a table": (
        HEAD + "nodes = [1]\n",
        "{f}: nodes: must be a table, got [1] (an array)\n    fix: write it as a TOML table"),
    "interval of 1": (
        HEAD + "interval = 1.0\n",
        "{f}: interval: must be in (0, 1), got 1.0\n"
        "    fix: write a probability between 0 and 1 (exclusive)"),
    "interval as text": (
        HEAD + 'interval = "90%"\n',
        "{f}: interval: must be a number in (0, 1), got '90%' (a string)\n"
        "    fix: write a probability such as 0.3"),
    "interval too small to judge": (
        HEAD + "interval = 0.3\n",
        "{f}: interval: must be from 0.5 to 0.99, got 0.3\n"
        "    fix: use a central mass an expert can judge, such as 0.5, 0.8 or 0.9"),
    "interval too small to fit": (
        HEAD + "interval = 1e-20\n",
        "{f}: interval: must be from 0.5 to 0.99, got 1e-20\n"
        "    fix: use a central mass an expert can judge, such as 0.5, 0.8 or 0.9"),
    "interval that rounds to 1 in the fit": (
        HEAD + "interval = 0.9999999999999999\n",
        "{f}: interval: must be from 0.5 to 0.99, got 0.9999999999999999\n"
        "    fix: use a central mass an expert can judge, such as 0.5, 0.8 or 0.9"),
    "default not a table": (
        HEAD + "default = 0.5\n",
        "{f}: default: must be a table, got 0.5 (a number)\n    fix: write it as a TOML table"),
    "bad default": (
        HEAD + '\n[default]\nbase = [0.3, 0.2, 0.1]\ngiven = "weak"\nwhy = "x"\n',
        "{f}: default.why: unknown key 'why'\n    fix: remove it; allowed keys here: base, given\n"
        "{f}: default.base: must be strictly increasing (low < median < high), "
        "got [0.3, 0.2, 0.1]\n    fix: order the three numbers: the lowest plausible, the best "
        "guess, the highest\n"
        "{f}: default.given: must be [low, median, high] or a number, got 'weak'\n"
        "    fix: write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value"),
    "based_on not an array": (
        HEAD + 'based_on = "#1 Pearl"\n',
        "{f}: based_on: must be an array of posts, got '#1 Pearl' (a string)\n"
        "    fix: write e.g. [\"#7 Garetor\"]"),
    "based_on past the last post": (
        HEAD.replace("firing_squad", "ussr_1930") + 'based_on = ["#106 Nobody"]\n',
        "{f}: based_on[0]: post #106 does not exist: the thread has posts #1..#105\n"
        "    fix: check the post number"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_reader_message(tmp_path, case):
    text, message = CASES[case]
    scenario = load_scenario("ussr_1930") if case == "based_on past the last post" else SQUAD
    assert problems(tmp_path, text, scenario) == message


def test_every_problem_is_reported_at_once(tmp_path):
    text = (HEAD.replace('id = "squad"', 'id = "Squad"') + "interval = 1.5\ncolour = 1\n"
            '\n[nodes.captain]\nwhy = "w"\nbase = [0.3, 0.2, 0.1]\ngiven.rifleman_a = 0.5\n'
            '\n[nodes.death]\nbase = [0.1, 0.2]\n\n[nodes.ghost]\nwhy = "w"\nbase = 0.5\n')
    assert problems(tmp_path, text) == "\n".join([
        "{f}: colour: unknown key 'colour'\n    fix: remove it; allowed keys here: id, name, "
        "scenario, summary, based_on, interval, anchor, default, nodes, pods",
        "{f}: id: 'Squad' is not a snake_case id\n"
        "    fix: use lower-case letters, digits and _, starting with a letter",
        "{f}: interval: must be in (0, 1), got 1.5\n"
        "    fix: write a probability between 0 and 1 (exclusive)",
        "{f}: nodes.captain.base: must be strictly increasing (low < median < high), "
        "got [0.3, 0.2, 0.1]\n    fix: order the three numbers: the lowest plausible, the best "
        "guess, the highest",
        "{f}: nodes.captain.given.rifleman_a: 'rifleman_a' is not a cause of 'captain'\n"
        "    fix: judge one of its causes: court_order",
        "{f}: nodes.death.why: is missing\n    fix: add 'why = ...'",
        "{f}: nodes.death.base: must have three numbers [low, median, high], got 2: [0.1, 0.2]\n"
        "    fix: write e.g. [0.1, 0.3, 0.6]",
        "{f}: nodes.ghost: 'ghost' is not an event of scenario 'firing_squad'\n"
        "    fix: name one of the scenario's [nodes.*]",
    ])


def test_unknown_bundled_prior_set():
    with pytest.raises(ElicitationError) as err:
        load_prior_set("contingncy", SQUAD)
    bundled = sorted(bundled_prior_sets())
    assert "contingency" in bundled
    assert str(err.value) == (
        "contingncy: is neither a file nor a bundled prior set (did you mean 'contingency'?)\n"
        f"    fix: give a path to a .toml file or one of: {', '.join(bundled)}")


# --------------------------------------------------------------------------- round trip

JUDGED = HEAD + """interval = 0.8

[nodes.captain]
why = "The captain obeys the court."
base = [0.01, 0.05, 0.2]
given.court_order = [0.9, 0.97, 0.995]

[nodes.death]
why = "Either shot kills."
given.rifleman_a = 0.99
"""


def test_fitted_priors_as_arrays_and_samples(tmp_path):
    fitted = fit_prior_set(read(tmp_path, JUDGED), SQUAD)
    order, parents = SQUAD.order, SQUAD.parents
    width = max(len(p) for p in parents.values())
    prior = fitted.parameter_prior(SQUAD)
    n = len(order)
    assert order == ("court_order", "captain", "rifleman_a", "rifleman_b", "death")
    assert prior.mu.shape == prior.sigma.shape == (n + n * width,)
    mu_a, sd_a = prior.mu[:n], prior.sigma[:n]
    mu_g, sd_g = prior.mu[n:].reshape(n, width), prior.sigma[n:].reshape(n, width)
    np.testing.assert_array_equal(prior.mask, [[0, 0], [1, 0], [1, 0], [1, 0], [1, 1]])
    i, d = order.index("captain"), order.index("death")
    assert mu_a[i] == pytest.approx(logit(0.05), abs=1e-12)
    assert mu_g[i, 0] == pytest.approx(logit(0.97), abs=1e-12)
    assert mu_g[d, 0] == pytest.approx(logit(0.99), abs=1e-12) and sd_g[d, 0] == 0
    assert (sd_g[prior.mask == 0] == 0).all() and (mu_g[prior.mask == 0] == 0).all()

    a, b = fitted.sample(SQUAD, draws=4000, seed=1)
    assert a.shape == (4000, n) and b.shape == (4000, n, width)
    assert (b[:, prior.mask == 0] == 0).all()
    # b = g - a: a fixed g (death given rifleman_a) makes b = logit(0.99) - a exactly
    np.testing.assert_allclose(b[:, d, 0], logit(0.99) - a[:, d], atol=1e-12)
    # sample moments within 5 standard errors of the fitted Normal
    se_mean = sd_a / math.sqrt(4000)
    assert (abs(a.mean(axis=0) - mu_a) < 5 * se_mean + 1e-12).all()
    np.testing.assert_allclose(a.std(axis=0, ddof=1), sd_a, rtol=5 / math.sqrt(2 * 4000))
    again, _ = fitted.sample(SQUAD, draws=4000, seed=1)
    np.testing.assert_array_equal(a, again)


def test_judgements_round_trip_through_their_toml_text(tmp_path):
    first = read(tmp_path, JUDGED)
    lines = [HEAD, f"interval = {first.interval}\n"]
    for x, nj in first.nodes.items():
        lines.append(f'\n[nodes.{x}]\nwhy = "{nj.why}"\n')
        if nj.base is not None:
            lines.append(f"base = {nj.base.as_toml()}\n")
        lines += [f"given.{c} = {j.as_toml()}\n" for c, j in nj.given.items()]
    again = read(tmp_path, "".join(lines))
    assert again == first


def test_unjudged_parameters_without_a_default(tmp_path):
    fitted = fit_prior_set(read(tmp_path, JUDGED), SQUAD)
    assert fitted.unjudged() == [
        "court_order.base", "rifleman_a.base", "rifleman_b.base", "death.base",
        "rifleman_a.given.captain", "rifleman_b.given.captain", "death.given.rifleman_b"]
    weak = fitted.base["court_order"]
    assert weak.source == "weak"
    assert (weak.mu, weak.sigma) == pytest.approx((0.0, logit(0.95) / stats.norm.ppf(0.95)))
    assert fitted.base["captain"].source == "judged"


def test_unjudged_parameters_with_a_default(tmp_path):
    text = JUDGED + "\n[default]\nbase = [0.2, 0.5, 0.8]\ngiven = 0.7\n"
    fitted = fit_prior_set(read(tmp_path, text), SQUAD)
    assert fitted.unjudged() == [
        "court_order.base", "rifleman_a.base", "rifleman_b.base", "death.base",
        "rifleman_a.given.captain", "rifleman_b.given.captain", "death.given.rifleman_b"]
    base, given = fitted.base["death"], fitted.given[("rifleman_b", "captain")]
    assert base.source == given.source == "default"
    # the file's interval (0.8) applies to its [default]
    assert (base.mu, base.sigma) == pytest.approx((0.0, logit(0.8) / stats.norm.ppf(0.9)))
    assert (given.mu, given.sigma) == pytest.approx((logit(0.7), 0.0))


def test_check_lists_the_unjudged_parameters(tmp_path):
    from typer.testing import CliRunner

    from plausibly.cli.app import app

    f = tmp_path / "p.toml"
    f.write_text(JUDGED, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(DATA / "firing_squad.toml"), str(f)])
    assert result.exit_code == 0, result.output
    assert (f"ok  {f}: prior set squad for firing_squad: judges 3 of 10 parameters\n"
            "    unjudged (7, default prior): court_order.base, rifleman_a.base, "
            "rifleman_b.base, death.base, rifleman_a.given.captain, rifleman_b.given.captain, "
            "death.given.rifleman_b\n") in result.stdout


# --------------------------------------------------------------------------- log pool


def fitted_from(params: dict[str, LogitNormal], name: str):
    from plausibly.priors.fit import FittedCell, FittedPriors

    return FittedPriors("s", name, name, tuple(
        FittedCell(x, "yes", {}, p, f"a[{x}]", f"{x}.base") for x, p in params.items()))


def grid_moments(params: list[LogitNormal], w: np.ndarray) -> tuple[float, float]:
    """Mean and sd of the normalised weighted geometric mean of the densities, on a grid."""
    x = np.linspace(-40, 40, 400_001)
    log_f = sum(wk * stats.norm.logpdf(x, p.mu, p.sigma) for wk, p in zip(w, params, strict=True))
    f = np.exp(log_f - log_f.max())
    z = integrate.trapezoid(f, x)
    mean = integrate.trapezoid(x * f, x) / z
    return float(mean), float(math.sqrt(integrate.trapezoid((x - mean) ** 2 * f, x) / z))


POOL_CASES = [
    ([LogitNormal(0.0, 1.0), LogitNormal(2.0, 0.5)], None),
    ([LogitNormal(-1.0, 2.0), LogitNormal(1.5, 0.7), LogitNormal(0.3, 1.2)], [1.0, 2.0, 3.0]),
    ([LogitNormal(-3.0, 0.4), LogitNormal(4.0, 3.0)], [0.9, 0.1]),
]


@pytest.mark.parametrize(("params", "weights"), POOL_CASES)
def test_log_pool_of_normals_matches_the_normalised_product(params, weights):
    sets = [fitted_from({"x": p}, f"s{k}") for k, p in enumerate(params)]
    pooled = log_pool(sets, weights).base["x"]
    w = normalise_weights(weights, len(params))
    precision = sum(wk / p.sigma**2 for wk, p in zip(w, params, strict=True))
    assert pooled.sigma == pytest.approx(1 / math.sqrt(precision), abs=1e-12)
    assert pooled.mu == pytest.approx(
        sum(wk * p.mu / p.sigma**2 for wk, p in zip(w, params, strict=True)) / precision,
        abs=1e-12)
    mean, sd = grid_moments(params, w)
    assert pooled.mu == pytest.approx(mean, abs=1e-6)
    assert pooled.sigma == pytest.approx(sd, abs=1e-6)
    assert pooled.source == "pooled"


def test_extremizing_multiplies_the_pooled_mean():
    sets = [fitted_from({"x": p}, f"s{k}") for k, p in enumerate(POOL_CASES[1][0])]
    plain = log_pool(sets).base["x"]
    for d in (0.5, 1.5, 3.0):
        sharp = log_pool(sets, extremize=d).base["x"]
        assert sharp.mu == pytest.approx(d * plain.mu, abs=1e-12)
        assert sharp.sigma == plain.sigma


def test_log_pool_of_fixed_values():
    normal, fixed_a, fixed_b = LogitNormal(0.5, 1.0), LogitNormal(1.0, 0.0), LogitNormal(3.0, 0.0)
    sets = [fitted_from({"x": p}, f"s{k}") for k, p in enumerate([normal, fixed_a, fixed_b])]
    # point masses dominate: their weighted mean, fixed
    pooled = log_pool(sets, [5.0, 1.0, 3.0]).base["x"]
    assert pooled.fixed and pooled.mu == pytest.approx((1.0 * 1 + 3.0 * 3) / 4, abs=1e-12)
    assert log_pool(sets[:2], extremize=2.0).base["x"].mu == pytest.approx(2.0, abs=1e-12)
    # a point mass with weight 0 drops out; the rest pool as Normals
    alone = log_pool(sets[:2], [1.0, 0.0]).base["x"]
    assert (alone.mu, alone.sigma) == pytest.approx((0.5, 1.0), abs=1e-12)
    # a pool of judged parameters is judged: nothing is listed as unjudged
    assert log_pool(sets).unjudged() == []


@pytest.mark.parametrize(("weights", "expected"), [
    (None, [1 / 3, 1 / 3, 1 / 3]),
    ([1, 1, 2], [0.25, 0.25, 0.5]),
    ([0, 3, 1], [0.0, 0.75, 0.25]),
    ([1e-300, 1e-300, 1e-300], [1 / 3, 1 / 3, 1 / 3]),
])
def test_weights_normalise_and_sum_to_one(weights, expected):
    w = normalise_weights(weights, 3)
    np.testing.assert_allclose(w, expected, atol=1e-15)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("weights", [[1, -1], [1], [1, 2, 3], [0, 0], [float("nan"), 1],
                                     [float("inf"), 1]])
def test_bad_weights(weights):
    with pytest.raises(UsageError) as err:
        normalise_weights(weights, 2)
    assert str(err.value) == (f"--weight: needs 2 non-negative weights, got {weights}\n"
                              "    fix: give one weight per prior set, e.g. --weight 1 --weight 2")


@pytest.mark.parametrize("d", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_extremize(d):
    sets = [fitted_from({"x": LogitNormal(0.0, 1.0)}, "s")]
    with pytest.raises(UsageError) as err:
        log_pool(sets, extremize=d)
    assert str(err.value) == (f"--extremize: must be a finite positive number, got {d}\n"
                              "    fix: use 1 for no extremizing, or a value such as 1.5")


def test_nothing_to_pool():
    with pytest.raises(UsageError) as err:
        log_pool([])
    assert str(err.value) == "-p: no prior set to pool\n    fix: name at least one prior set"


# --------------------------------------------------------------------------- evidence

PAIR = {
    "id": "pair", "title": "Two events", "outcome": "y", "source": "a test",
    "nodes": {"x": {"label": "X", "year": 1, "history": 0.7},
              "y": {"label": "Y", "year": 2, "history": True}},
    "edges": [{"cause": "x", "effect": "y", "claim": "X helps Y.", "by": ["#1 a"]}],
    "pods": {},
}
PAIR_SCENARIO = parse_scenario(PAIR)


def pair_priors(x_base, y_base, y_given, name="p"):
    data = {"id": name, "name": name, "scenario": "pair", "summary": "s", "interval": 0.9,
            "nodes": {"x": {"why": "w", "base": x_base},
                      "y": {"why": "w", "base": y_base, "given": {"x": y_given}}}}
    return fit_prior_set(parse_prior_set(data, PAIR_SCENARIO), PAIR_SCENARIO)


def _s(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def history_probability(a_x: float, a_y: float, g_y: float) -> float:
    """P(history | theta) for PAIR: sum over x of the record's weight for x, P(x) and P(y=1 | x).

    x's history is soft (0.7: likelihood 0.7 if x happened, 0.3 if not), y's is true.
    """
    return sum((0.7 if x else 0.3) * (_s(a_x) if x else _s(-a_x)) * _s(g_y if x else a_y)
               for x in (0, 1))


def test_history_probability_agrees_with_brute_force():
    net = Network.from_scenario(PAIR_SCENARIO)
    rng = np.random.default_rng(0)
    for a_x, a_y, g_y in rng.normal(0, 2, (5, 3)):
        a, b = np.array([a_x, a_y]), np.array([[0.0], [g_y - a_y]])
        brute = sum(w * ref._evidence_weight(net, s) for s, w in ref.joint(net, a, b))
        assert history_probability(a_x, a_y, g_y) == pytest.approx(brute, abs=1e-14)


def _pdf(t: float, p: LogitNormal) -> float:
    return math.exp(-0.5 * ((t - p.mu) / p.sigma) ** 2) / (p.sigma * math.sqrt(2 * math.pi))


def exact_evidence(fitted) -> float:
    """E_prior[P(history | theta)] by quadrature (a parameter with sigma 0 is held fixed)."""
    px, py, pg = fitted.base["x"], fitted.base["y"], fitted.given[("y", "x")]
    free = [p for p in (px, py, pg) if not p.fixed]
    assert len(free) == 2, "the test integrates over two parameters"

    def theta(u: float, v: float) -> tuple[float, float, float]:
        it = iter((u, v))
        return tuple(next(it) if not p.fixed else p.mu for p in (px, py, pg))

    def integrand(v: float, u: float) -> float:
        return history_probability(*theta(u, v)) * _pdf(u, free[0]) * _pdf(v, free[1])

    (p, q) = free
    z, err = integrate.dblquad(integrand, p.mu - 12 * p.sigma, p.mu + 12 * p.sigma,
                               q.mu - 12 * q.sigma, q.mu + 12 * q.sigma, epsabs=1e-11,
                               epsrel=1e-10)
    assert err < 1e-9
    return z


def exact_evidence_separable(fitted) -> float:
    """The same by 1-D quadratures: with x's history soft (0.7) and y's true,
    P(history | theta) = 0.7 s(a_x) s(g_y) + 0.3 s(-a_x) s(a_y), and the priors
    are independent, so the expectation is a sum of products of 1-D integrals."""

    def e(p: LogitNormal, sign: float) -> float:
        if p.fixed:
            return float(expit(sign * p.mu))
        return integrate.quad(lambda t: expit(sign * t) * stats.norm.pdf(t, p.mu, p.sigma),
                              p.mu - 14 * p.sigma, p.mu + 14 * p.sigma, epsabs=1e-13)[0]

    px, py, pg = fitted.base["x"], fitted.base["y"], fitted.given[("y", "x")]
    return 0.7 * e(px, 1) * e(pg, 1) + 0.3 * e(px, -1) * e(py, 1)


EVIDENCE_CASES = {
    "agrees with history": ([0.3, 0.6, 0.85], 0.2, [0.5, 0.8, 0.95]),
    "surprised by history": ([0.02, 0.1, 0.3], 0.05, [0.01, 0.05, 0.2]),
}


@pytest.mark.parametrize("case", list(EVIDENCE_CASES))
def test_marginal_likelihood_matches_exact_integration(case):
    fitted = pair_priors(*EVIDENCE_CASES[case])
    z = exact_evidence(fitted)
    assert z == pytest.approx(exact_evidence_separable(fitted), abs=1e-9)
    net = Network.from_scenario(PAIR_SCENARIO)
    ev = marginal_likelihood(fitted, PAIR_SCENARIO, net, draws=20_000, seed=3)
    assert ev.draws == 20_000 and ev.priors == "p"
    # within 4 Monte Carlo standard errors (se_log_z is the relative SE of Z) ...
    z_hat = math.exp(ev.log_z)
    assert abs(z_hat - z) < 4 * ev.se_log_z * z_hat
    # ... and, with 20,000 draws, within 0.02 on the log scale (2% relative)
    assert abs(ev.log_z - math.log(z)) < 0.02


def test_marginal_likelihood_builds_the_network_when_not_given():
    fitted = pair_priors(*EVIDENCE_CASES["agrees with history"])
    net = Network.from_scenario(PAIR_SCENARIO)
    explicit = marginal_likelihood(fitted, PAIR_SCENARIO, net, draws=2000, seed=5)
    implicit = marginal_likelihood(fitted, PAIR_SCENARIO, draws=2000, seed=5)
    assert explicit == implicit


def test_posterior_weights_sum_to_one_and_follow_the_evidence():
    ev = [Evidence("a", math.log(0.2), 0.01, 100), Evidence("b", math.log(0.05), 0.01, 100),
          Evidence("c", math.log(0.4), 0.01, 100)]
    post, se = posterior_weights(ev, [1, 2, 1])
    assert post.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(post, np.array([0.2, 0.1, 0.4]) / 0.7, atol=1e-15)
    assert (se > 0).all()
    zero, se0 = posterior_weights(ev, [0, 1, 1])
    assert zero[0] == 0.0 and se0[0] == 0.0 and zero.sum() == pytest.approx(1.0, abs=1e-15)
    huge = [Evidence("a", -5000.0, 0.0, 1), Evidence("b", -5001.0, 0.0, 1)]
    np.testing.assert_allclose(posterior_weights(huge)[0], [1 / (1 + math.exp(-1)),
                                                            1 / (1 + math.exp(1))], atol=1e-15)


def test_posterior_weight_standard_error_matches_the_spread_over_seeds():
    sets = [pair_priors(*EVIDENCE_CASES["agrees with history"], name="agree"),
            pair_priors(*EVIDENCE_CASES["surprised by history"], name="surprised")]
    net = Network.from_scenario(PAIR_SCENARIO)
    exact = np.array([exact_evidence_separable(f) for f in sets])
    weights, ses = [], []
    for seed in range(300):
        ev = [marginal_likelihood(f, PAIR_SCENARIO, net, draws=300, seed=1000 * k + seed)
              for k, f in enumerate(sets)]
        post, se = posterior_weights(ev)
        weights.append(post)
        ses.append(se)
    weights_arr, ses_arr = np.array(weights), np.array(ses)
    assert np.allclose(weights_arr.sum(axis=1), 1.0, atol=1e-12)
    # the estimates centre on the exact weights (within 4 SE of their mean) ...
    target = exact / exact.sum()
    assert abs(weights_arr[:, 0].mean() - target[0]) < 4 * weights_arr[:, 0].std() / math.sqrt(300)
    # ... and the delta-method SE matches their spread: loosely, within 25%
    # (300 seeds estimate an SD to about 4%; the delta method is first order)
    ratio = ses_arr[:, 0].mean() / weights_arr[:, 0].std(ddof=1)
    assert 0.75 < ratio < 1.25, ratio
    np.testing.assert_allclose(ses_arr[:, 0], ses_arr[:, 1], rtol=1e-12)  # two sets: equal SE


# --------------------------------------------------------------------------- mixture


def _run_with(values: np.ndarray, priors: str, exact: bool):
    import xarray as xr

    from plausibly.models.diagnostics import Diagnostics
    from plausibly.models.results import Run

    chains, draws = values.shape
    ds = xr.Dataset({"plausibility": (("chain", "draw"), values)},
                    coords={"chain": np.arange(chains), "draw": np.arange(draws)})
    nan = float("nan")
    diag = Diagnostics(nan, nan, nan, 0, exact=exact)
    return Run(SQUAD, priors, priors, ds, diag, 0)


def test_an_exact_set_is_a_point_mass_in_the_linear_pool():
    sampled = _run_with(np.linspace(0, 1, 2 * 500).reshape(2, 500), "sampled", False)
    exact = _run_with(np.full((1, 1), 7.0), "exact", True)
    pooled = mixture_draws([sampled, exact], np.array([0.4, 0.6]), seed=1)
    values = pooled["plausibility"].values.ravel()
    assert values.size == 1000  # as many draws as the sampled run, not one
    assert (values == 7.0).sum() == 600  # the exact set's share, exactly
    assert len(set(values[values != 7.0])) == 400  # sampled draws without replacement
