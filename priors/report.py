"""One self-contained HTML report of a comparison: question, graph, ranking, sources, method.

The page needs nothing but itself: pictures are SVG images in ``data:`` URIs, the style sheet
is inline, there is no script and no link to fetch. Every text that comes
from a file (titles, claims, citations, summaries) is HTML-escaped. The same
request and seed give the same bytes (no timestamp).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from plausibly.models.diagnostics import Diagnostics
from plausibly.models.files import file_sha256
from plausibly.models.inference import Progress
from plausibly.models.scenario import YES_NO, Scenario
from plausibly.models.settings import Settings
from plausibly.priors.report_html import esc as _e
from plausibly.priors.report_html import figure, page, table
from plausibly.priors.report_outcomes import best_pods, lead, ranking_section

if TYPE_CHECKING:
    from plausibly.priors.comparison import Comparison, RankedSummaries
    from plausibly.priors.elicitation import PriorSet
    from plausibly.priors.fit import FittedPriors

__all__ = ["ASSUMPTIONS", "Report", "ReportRequest", "build_report", "render_report"]

#: the model's assumptions, in plain words (the report's "Assumptions" section)
ASSUMPTIONS = (
    ("Every event is yes or no.",
     "Each event either happened or did not; degrees (how severe, how early) are not modelled."),
    ("Causes add up on the log-odds scale (logistic independent causal influence).",
     "Each cause multiplies the odds of its effect by its own factor, whatever the other "
     "causes do. Two causes cannot do together more than the sum of what each does alone; "
     "a hard \"only if\" is approximated by a strong cause and a near-zero base rate."),
    ("The graph is the whole story.",
     "Only the claimed causes move an event; everything else is luck, independent from "
     "event to event."),
    ("Alternate history keeps history's luck (comonotone counterfactuals).",
     "Each event has one dose of luck shared by the real and the alternate world: the POD "
     "changes the odds, not the luck. An event that happened against the odds stays "
     "likely to happen if its odds barely change; one that nearly happened stays close."),
    ("A POD is an intervention, not evidence.",
     "It sets its event (or, for a soft POD, the event's probability) and leaves the causes "
     "of that event untouched; what we know about the mechanisms comes from real history "
     "alone, so one posterior answers every POD."),
    ("The numbers are as good as the prior sets.",
     "Each prior set is a reading of the discussion turned into probabilities; history "
     "sharpens them and, in the linear pool, weighs each set by how unsurprising it found "
     "real history (a Monte Carlo estimate with its standard error)."),
)

@dataclass(frozen=True)
class ReportRequest:
    """What ``plausibly report`` was asked: the options of ``plausibly compare`` and a file.

    ``scenario`` and ``priors`` are as the user gave them (ids or paths);
    ``priors`` empty means every bundled prior set for the scenario.
    """

    scenario: str = "ussr_1930"
    priors: tuple[str, ...] = ()
    pool: str = "linear"
    weights: tuple[float, ...] = ()
    extremize: float = 1.0
    pods: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)
    hdi_prob: float = 0.94
    output: str = "report.html"
    allow_unconverged: bool = False

    def command(self, prior_ids: Sequence[str] = ()) -> str:
        """The command line that makes this report again (every sampling option explicit).

        Parameters
        ----------
        prior_ids : sequence of str
            The prior sets actually used, for a request that named none.
        """
        st = self.settings
        args = ["plausibly", "report", self.scenario]
        for p in self.priors or tuple(prior_ids):
            args += ["-p", p]
        args += ["--pool", self.pool]
        for w in self.weights:
            args += ["--weight", f"{w:g}"]
        if self.extremize != 1.0:
            args += ["--extremize", f"{self.extremize:g}"]
        for p in self.pods:
            args += ["--pod", p]
        args += ["--draws", str(st.draws), "--tune", str(st.tune), "--chains", str(st.chains),
                 "--seed", str(st.seed), "--hdi-prob", f"{self.hdi_prob:g}", "-o", self.output]
        if self.allow_unconverged:
            args.append("--allow-unconverged")
        return shlex.join(args)


@dataclass(frozen=True)
class Report:
    """A rendered report and the comparison it shows."""

    html: str
    comparison: Comparison

    @property
    def diagnostics(self) -> dict[str, Diagnostics]:
        """Convergence of every run (and of the log pool's own run)."""
        return self.comparison.diagnostics

    @property
    def converged(self) -> bool:
        """Whether every run converged (or was exact)."""
        return self.comparison.converged


def build_report(request: ReportRequest,
                 progress: Progress | None = None) -> Report:
    """Read the inputs, run the comparison and render the report.

    Parameters
    ----------
    request : ReportRequest
    progress : callable, optional
        Called as ``progress(done, total)`` with sampling iterations.

    Returns
    -------
    Report
        Unconverged sampling is not an error here: the report says so at the
        top, and the caller decides (``plausibly report`` exits 3).

    Raises
    ------
    PlausiblyError
        For a bad scenario, prior set, POD or pool.
    """
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.catalog import load_prior_sets
    from plausibly.priors.comparison import check_request, compare

    if request.priors:  # what can be checked without reading a file
        check_request(request.pool, len(request.priors), request.weights, request.extremize)
    s = load_scenario(request.scenario)
    for p in request.pods:
        s.pod(p)
    sets = load_prior_sets(s, list(request.priors) or None)
    check_request(request.pool, len(sets), request.weights, request.extremize)
    comparison = compare(s, [f for _, f in sets], pool=request.pool,
                         weights=list(request.weights) or None, extremize=request.extremize,
                         pods=list(request.pods) or None, settings=request.settings,
                         progress=progress)
    return Report(render_report(comparison, sets, request), comparison)


# --------------------------------------------------------------------------- pieces


def _do_text(do: Mapping[str, object]) -> str:
    parts = []
    for node, v in do.items():
        if isinstance(v, str):
            what = f"is {_e(v)}"
        elif isinstance(v, Mapping):
            what = "is " + ", ".join(f"{_e(s)} with probability {w:g}" for s, w in v.items())
        else:
            assert isinstance(v, float)
            what = {1.0: "happens", 0.0: "does not happen"}.get(
                v, f"happens with probability {v:g}")
        parts.append(f"<code>{_e(node)}</code> {what}")
    return "; ".join(parts)


def graph_caption(s: Scenario) -> str:
    """What the causal graph shows and how: every kind of box and line the scenario has."""
    out = ["Events by year, left to right (scroll sideways to follow the graph); green: "
           "happened; grey: did not; yellow: disputed or unknown; orange outlines mark the "
           "events a POD sets, thick outlines the outcomes."]
    if any(n.states != YES_NO for n in s.nodes):
        out.append("An event with states lists them under its label, least first, with the "
                   "one that happened in brackets (none for a disputed record).")
    out.append("Each arrow is a claim from the discussion; its colour and width show the "
               "posterior median log odds ratio of the cause (red promotes, blue inhibits).")
    if any(e.kind == "requires" for e in s.edges):
        out.append("A gate (a necessary condition: while its cause is absent, or below the "
                   "state written by it, the event stays at its first state) is a dashed grey "
                   "line ending in an open circle; it has no effect to colour.")
    if s.interactions:
        out.append("An interaction (causes that act together beyond the sum of their "
                   "effects) is a small joint: dotted lines from each of its causes meet it, "
                   "and a dotted arrow, coloured by its own term, goes on to its effect.")
    return " ".join(out)


def claims_section(s: Scenario, strength: Mapping[tuple[str, str], float]) -> str:
    """Every claim of the graph (influences, gates, interactions) with its posts.

    ``strength`` is :func:`plausibly.models.results.edge_effects` of the pool:
    a gate has no effect (it is written as one), an interaction its own term.
    """
    rows = []
    for e in s.edges:
        effect = (f"{strength[(e.cause, e.effect)]:+.2f}" if not e.gate else
                  "gate" + (f" (at least {_e(e.at_least)})" if e.at_least else ""))
        rows.append([f"<code>{_e(e.cause)}</code> → <code>{_e(e.effect)}</code>", _e(e.claim),
                     _e(", ".join(e.by)), _e(", ".join(e.disputed_by)) or "-", effect])
    for i in s.interactions:
        causes = " &amp; ".join(f"<code>{_e(c)}</code>" for c in i.causes)
        rows.append([f"{causes} → <code>{_e(i.effect)}</code>", _e(i.claim), _e(", ".join(i.by)),
                     _e(", ".join(i.disputed_by)) or "-",
                     f"{strength[(i.key, i.effect)]:+.2f}"])
    return "\n".join([
        '<section id="claims"><h2>The claims</h2>',
        "<p>Every arrow of the graph is a claim made in the discussion, in our words, with "
        "the posts that make it and those that dispute it.</p>",
        table(["cause → effect", "claim", "by", "disputed by", "median log odds ratio (pool)"],
              rows, {4}, wide=True),
        "</section>"])


def pods_section(c: Comparison, summaries: RankedSummaries, hdi: float) -> str:
    """Each POD with its posts and its pooled answers, in the headline's order."""
    s, pool_name = c.scenario, f"{c.pool} pool"
    head = summaries.headline
    rank = {head.pooled[k].pod: n for n, k in enumerate(head.order) if k}
    rows = {name: {r.pod: r for r in one.pooled} for name, one in summaries.outcomes.items()}
    asked = set(rows[head.outcome])
    out = ['<section id="pods"><h2>The points of divergence</h2>',
           "<p>In the order of the headline's ranking (then the PODs out of scope), each POD "
           "with the posts that propose it and the pool's answer for every outcome.</p>"]
    for p in sorted(s.pods, key=lambda p: (p.id not in asked, rank.get(p.id, len(rank) + 1))):
        n = rank.get(p.id, 0)
        out.append(f'<article class="pod" id="pod-{_e(p.id)}"><h3>{f"{n}. " if n else ""}'
                   f"{_e(p.label)} <code>{_e(p.id)}</code></h3>")
        out.append(f"<p><strong>Sets:</strong> {_do_text(p.do)}. <strong>Proposed by:"
                   f"</strong> {_e(', '.join(p.by))}.</p>")
        if p.why:
            out.append(f"<p><strong>Why:</strong> {_e(p.why)}</p>")
        if p.id not in asked:
            out.append("<p>Not asked in this report (see --pod).</p>")
        else:
            if p.scope == "out":
                out.append("<p>Out of scope: it removes the question, so it is never "
                           "ranked.</p>")
            answers = "; ".join(
                f"P({_e(name)}) = {by_pod[p.id].counterfactual.mean:.3f} ({hdi:.0%} HDI "
                f"{by_pod[p.id].counterfactual.hdi[0]:.3f} to "
                f"{by_pod[p.id].counterfactual.hdi[1]:.3f}), interventional "
                f"{by_pod[p.id].interventional.mean:.3f}" for name, by_pod in rows.items())
            out.append(f"<p><strong>{_e(pool_name)}:</strong> {answers}; rewrite "
                       f"{rows[head.outcome][p.id].rewrite.mean:.2f} events.</p>")
        out.append("</article>")
    out.append("</section>")
    return "\n".join(out)



def _versions() -> list[tuple[str, str]]:
    out = [("python", sys.version.split()[0])]
    for name in ("plausibly", "pymc", "pytensor", "arviz", "numpy", "scipy", "matplotlib"):
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            out.append((name, "not installed"))
    return out


def _diag_cells(d: Diagnostics) -> list[str]:
    if d.exact:
        return ["exact", "-", "-", "-", "yes (nothing to sample)"]
    verdict = "yes" if d.converged else "NO: " + _e("; ".join(d.problems()))
    return [f"{d.r_hat_max:.3f}", f"{d.ess_bulk_min:.0f}", f"{d.ess_tail_min:.0f}",
            str(d.divergences), verdict]


# --------------------------------------------------------------------------- rendering


def render_report(comparison: Comparison, sets: Sequence[tuple[PriorSet, FittedPriors]],
                  request: ReportRequest) -> str:
    """The report's HTML for a finished comparison.

    Parameters
    ----------
    comparison : Comparison
        From :func:`plausibly.priors.comparison.compare`.
    sets : sequence of (PriorSet, FittedPriors)
        The prior sets compared, in the same order (from
        :func:`plausibly.priors.catalog.load_prior_sets`).
    request : ReportRequest
        The options, for the reproduction recipe.

    Returns
    -------
    str
        A complete HTML document.
    """
    from plausibly.models.plots._render import figure_bytes
    from plausibly.models.plots.graph import graph_figure
    from plausibly.models.results import edge_effects

    c, s, hdi = comparison, comparison.scenario, request.hdi_prob
    summaries = c.summarize(hdi)
    diagnostics = c.diagnostics
    ids = [ps.id for ps, _ in sets]
    pool_name = f"{c.pool} pool"

    parts: list[str] = []
    add = parts.append
    add(f"<header><h1>{_e(s.title)}</h1>")
    add(lead(s, list(summaries.outcomes), len(sets)))
    add("</header>")

    bad = {k: d for k, d in diagnostics.items() if not d.converged}
    if bad:
        listed = "; ".join(f"{_e(k)}: {_e(', '.join(d.problems()))}" for k, d in bad.items())
        add(f'<p class="warning" id="unconverged"><strong>Sampling did not converge</strong> '
            f"({listed}). The numbers below are not trustworthy: raise --draws and --tune."
            "</p>")

    # the question
    add('<section id="question"><h2>The question</h2>')
    if s.description:
        add(f"<p>{_e(s.description)}</p>")
    add(f"<p>Source: {_e(s.source)}. Scenario <code>{_e(s.id)}</code>: {len(s.nodes)} events "
        f"from {s.nodes[0].year} to {s.nodes[-1].year}, {len(s.edges)} claims, "
        f"{len(s.pods)} PODs.</p>")
    add(best_pods(c, summaries, hdi))
    events = [[_e(n.year), f"<code>{_e(n.id)}</code>", _e(n.label), _e(n.history_text),
               _e(", ".join(s.parents[n.id]) or "-")] for n in s.nodes]
    add("<h3>Events and what happened</h3>")
    add(table(["year", "event", "what", "history", "causes"], events, wide=True))
    add("</section>")

    # the graph
    add('<section id="graph"><h2>The causal graph</h2>')
    strength = edge_effects(c.pooled)
    fig = graph_figure(s, strength=strength, subtitle=(
        f"arrows: posterior median effect of each cause under the {pool_name}"))
    # at its natural size, so that its text reads at 100% zoom; wider than the page, it
    # scrolls sideways in its own box
    add(figure(figure_bytes(fig, "svg"), f"causal graph of {s.title}", graph_caption(s),
               natural=True))
    add("</section>")

    add(ranking_section(c, summaries, hdi))

    add(pods_section(c, summaries, hdi))

    add(claims_section(s, strength))

    # the prior sets
    add('<section id="prior-sets"><h2>The prior sets</h2>')
    add("<p>Each set's posterior weight is its prior weight times its marginal likelihood of "
        "real history, normalised: the school that found history least surprising gains "
        "weight (a Monte Carlo estimate, ± its standard error)."
        + (" The log pool does not use these weights; they are shown for reference."
           if c.pool == "log" else "") + "</p>")
    set_rows = []
    for (ps, fitted), ev, w, pw, se in zip(sets, c.evidence, c.prior_weights,
                                            c.posterior_weights, c.posterior_weights_se,
                                            strict=True):
        total = fitted.parameters
        judged = total - len(fitted.unjudged())
        set_rows.append([f"<code>{_e(ps.id)}</code>", _e(ps.name), _e(ps.summary),
                         _e(", ".join(ps.based_on)) or "-", f"{judged} of {total}",
                         f"{float(w):.3f}", f"{ev.log_z:.2f} ± {ev.se_log_z:.2f}",
                         f"<strong>{float(pw):.3f}</strong> ± {float(se):.3f}"])
    add(table(["id", "name", "summary", "based on posts", "judges", "prior weight",
                "log evidence", "posterior weight"], set_rows, {4, 5, 6, 7}, wide=True))
    add("<h3>Three weightings</h3>")
    add("<p>Weighting schools by how unsurprising real history was rewards the schools "
        "that predicted what happened: the Bayesian answer, and also a choice. So the "
        "pool is shown three ways; where they differ, the answer rests on that choice.</p>")
    from plausibly.priors.comparison import WEIGHTINGS

    add("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in WEIGHTINGS.values()) + "</ul>")
    w_rows = []
    stack = c.weights_of("stacking")
    for k, one_run in enumerate(c.runs):
        w_rows.append([f"<code>{_e(one_run.priors)}</code>", f"{1.0 / len(c.runs):.3f}",
                       f"{float(c.posterior_weights[k]):.3f}",
                       "n/a" if stack is None else f"{float(stack[k]):.3f}"])
    add(table(["id", "equal", "history", "stacking"], w_rows, {1, 2, 3}))
    add("</section>")

    # diagnostics
    add('<section id="diagnostics"><h2>Diagnostics</h2>')
    st = request.settings
    add(f"<p>NUTS (PyMC), {st.chains} chain{'s' if st.chains != 1 else ''} × {st.draws} draws "
        f"after {st.tune} tuning steps, seed {st.seed}. Converged means R-hat ≤ "
        f"{Diagnostics.R_HAT_MAX}, bulk and tail ESS ≥ {Diagnostics.ESS_MIN} and no divergent "
        "transition; a prior set whose every parameter is fixed is answered exactly.</p>")
    diag_rows = [[f"<code>{_e(k)}</code>", *_diag_cells(d)] for k, d in diagnostics.items()]
    add(table(["run", "max R-hat", "min bulk ESS", "min tail ESS", "divergences",
                "converged"], diag_rows, {1, 2, 3, 4}))
    add("</section>")

    # assumptions
    add('<section id="assumptions"><h2>Assumptions</h2><dl>')
    for head_text, body in ASSUMPTIONS:
        add(f"<dt>{_e(head_text)}</dt><dd>{_e(body)}</dd>")
    add("</dl></section>")

    # reproduce
    add('<section id="reproduce"><h2>How to reproduce this report</h2>')
    add(f"<pre><code>{_e(request.command(ids))}</code></pre>")
    add(f"<p>Seed {st.seed}: the same command with the same versions and input files gives "
        "the same numbers (add --force to overwrite the file).</p>")
    files = [["scenario", f"<code>{_e(s.id)}</code>", _e(s.path or "-"),
              f"<code>{_e(file_sha256(s.path))}</code>"]]
    files += [["prior set", f"<code>{_e(ps.id)}</code>", _e(ps.path or "-"),
               f"<code>{_e(file_sha256(ps.path))}</code>"] for ps, _ in sets]
    add(table(["input", "id", "file", "sha256"], files))
    add(table(["package", "version"], [[_e(n), _e(v)] for n, v in _versions()]))
    add("</section>")

    return page(f"{s.title} — plausibly report", f"plausibly {_version()}", "\n".join(parts))


def _version() -> str:
    try:
        return version("plausibly")
    except PackageNotFoundError:  # pragma: no cover - the package is installed to run
        return "unknown"

