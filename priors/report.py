"""One self-contained HTML report of a comparison: question, graph, ranking, sources, method.

The page needs nothing but itself: pictures are SVG images in ``data:`` URIs, the style sheet
is inline, there is no script and no link to fetch. Every text that comes
from a file (titles, claims, citations, summaries) is HTML-escaped. The same
request and seed give the same bytes (no timestamp).
"""

from __future__ import annotations

import base64
import html
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from plausibly.models.diagnostics import Diagnostics
from plausibly.models.files import file_sha256
from plausibly.models.inference import Progress
from plausibly.models.results import PodResult
from plausibly.models.settings import Settings

if TYPE_CHECKING:
    from plausibly.priors.comparison import Comparison
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

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:72rem;margin:2rem auto;padding:0 1rem;box-sizing:border-box;color:#1d1d1d;
 line-height:1.45}td code{overflow-wrap:anywhere}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}table.wide{width:100%}
th,td{border:1px solid #d4d4d4;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap}tr.baseline td{color:#555;font-style:italic}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
.scroll{overflow-x:auto;border:1px solid #e4e4e4}figure.natural img{max-width:none;display:block}
figcaption{font-size:.85rem;color:#444}
.warning{background:#fff0f0;border:2px solid #c92a2a;padding:.6rem 1rem}
.lead{font-size:1.1rem}article.pod{border-left:3px solid #d9480f;padding:0 0 0 .8rem;
 margin:1rem 0}article.pod h3{margin:.2rem 0}article.pod p{margin:.3rem 0}
code,pre{background:#f6f6f6;padding:.1rem .3rem}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap}dt{font-weight:600}
""".strip()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


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


def _picture(svg: bytes, label: str) -> str:
    """An SVG figure as an image with a ``data:`` URI: self-contained, its ids its own."""
    data = base64.b64encode(svg).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{_e(label)}">'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None,
           row_classes: Sequence[str] | None = None, *, wide: bool = False) -> str:
    """An HTML table; cells are already escaped."""
    numeric = numeric or set()
    out = ['<table class="wide">' if wide else "<table>"]
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>")
    for k, row in enumerate(rows):
        cls = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
                        for j, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


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
    from plausibly.models.plots.forest import forest_figure
    from plausibly.models.plots.graph import graph_figure
    from plausibly.models.results import edge_effects

    c, s, hdi = comparison, comparison.scenario, request.hdi_prob
    summaries = c.summarize(hdi)
    per_set, pooled = list(summaries.per_set.values()), summaries.pooled
    order = list(summaries.order)
    diagnostics = c.diagnostics
    outcome = s.node(s.outcome)
    ids = [ps.id for ps, _ in sets]
    pool_name = f"{c.pool} pool"

    parts: list[str] = []
    add = parts.append
    add(f"<header><h1>{_e(s.title)}</h1>")
    add(f'<p class="lead">How plausible is it that <strong>{_e(outcome.label.rstrip("."))}'
        f"</strong> ({_e(s.outcome)}), had history diverged at one point? "
        f"{len(s.pods)} points of divergence (PODs), {len(sets)} prior set"
        f"{'s' if len(sets) != 1 else ''}, conditioned on what actually happened.</p>")
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
    if len(order) > 1:
        top = pooled[order[1]]
        pod = s.pod(top.pod)
        add(f"<p>Under the {_e(pool_name)}, the POD that makes the outcome likeliest is "
            f"<strong>{_e(pod.label)}"
            f"</strong> (<code>{_e(pod.id)}</code>): P({_e(s.outcome)}) = "
            f"{top.counterfactual.mean:.3f} ({hdi:.0%} HDI {top.counterfactual.hdi[0]:.3f} to "
            f"{top.counterfactual.hdi[1]:.3f}), changing {top.rewrite.mean:.1f} other events "
            f"on average; in real history it is {pooled[0].counterfactual.mean:.3f}.</p>")
    events = [[_e(n.year), f"<code>{_e(n.id)}</code>", _e(n.label), _e(n.history_text),
               _e(", ".join(s.parents[n.id]) or "-")] for n in s.nodes]
    add("<h3>Events and what happened</h3>")
    add(_table(["year", "event", "what", "history", "causes"], events, wide=True))
    add("</section>")

    # the graph
    add('<section id="graph"><h2>The causal graph</h2>')
    strength = edge_effects(c.pooled)
    fig = graph_figure(s, strength=strength, subtitle=(
        f"arrows: posterior median effect of each cause under the {pool_name}"))
    # at its natural size, so that its text reads at 100% zoom; wider than the page, it
    # scrolls sideways in its own box
    add('<figure class="natural"><div class="scroll">'
        + _picture(figure_bytes(fig, "svg"), f"causal graph of {s.title}")
        + "</div><figcaption>Events by year, left to right (scroll sideways to follow the "
        "graph); green: happened; grey: did not; yellow: disputed or unknown; orange "
        "outlines mark the events a POD sets. Each arrow is a claim from the discussion; its "
        "colour and width show the posterior median log odds ratio of the cause (red "
        "promotes, blue inhibits).</figcaption></figure>")
    add("</section>")

    # the ranking
    add('<section id="ranking"><h2>The ranked comparison</h2>')
    add(f"<p>Counterfactual P({_e(s.outcome)}) had the POD happened, given real history: "
        f"the posterior mean under each prior set, and the {_e(pool_name)} with its "
        f"{hdi:.0%} highest-density interval (HDI). <em>Rewrite</em> is the expected number "
        "of other events that turn out differently (small rewrite and large effect: a "
        "strong POD). Ranked by the pool.</p>")
    head = ["rank", "POD", *(f"<code>{_e(i)}</code>" for i in ids), _e(pool_name),
            f"{hdi:.0%} HDI", "rewrite"]
    rows, classes = [], []
    for rank, k in enumerate(order):
        cf = pooled[k].counterfactual
        label = "history (no POD)" if k == 0 else s.pod(pooled[k].pod).label
        rows.append(["-" if k == 0 else str(rank), f"<code>{_e(pooled[k].pod)}</code><br>"
                     f"{_e(label)}", *(f"{r[k].counterfactual.mean:.3f}" for r in per_set),
                     f"<strong>{cf.mean:.3f}</strong>", f"{cf.hdi[0]:.3f} to {cf.hdi[1]:.3f}",
                     f"{pooled[k].rewrite.mean:.2f}"])
        classes.append("baseline" if k == 0 else "")
    numeric = set(range(2, len(head)))
    add(_table(head, rows, numeric, classes, wide=True))
    labels = [*ids, pool_name]
    forest = forest_figure(s, [*per_set, pooled], hdi, labels=labels)
    add("<figure>" + _picture(figure_bytes(forest, "svg"), "forest plot of the ranking")
        + f"<figcaption>Each POD's counterfactual plausibility: dots are posterior means, "
        f"bars {hdi:.0%} HDIs, one colour per prior set and black for the "
        f"{_e(pool_name)}; the dashed line is real history.</figcaption></figure>")
    add("</section>")

    # the PODs
    add('<section id="pods"><h2>The points of divergence</h2>')
    add("<p>In the order of the ranking, each POD with the posts that propose it.</p>")
    ranked: dict[str, tuple[int, PodResult]] = {
        pooled[k].pod: (n, pooled[k]) for n, k in enumerate(order) if k}
    for p in sorted(s.pods, key=lambda p: ranked[p.id][0] if p.id in ranked else len(order)):
        n, r = ranked[p.id] if p.id in ranked else (0, None)
        add(f'<article class="pod" id="pod-{_e(p.id)}"><h3>{f"{n}. " if n else ""}'
            f"{_e(p.label)} <code>{_e(p.id)}</code></h3>")
        add(f"<p><strong>Sets:</strong> {_do_text(p.do)}. <strong>Proposed by:</strong> "
            f"{_e(', '.join(p.by))}.</p>")
        if p.why:
            add(f"<p><strong>Why:</strong> {_e(p.why)}</p>")
        if r is None:
            add("<p>Not asked in this report (see --pod).</p>")
        else:
            add(f"<p><strong>{_e(pool_name)}:</strong> P({_e(s.outcome)}) = "
                f"{r.counterfactual.mean:.3f} ({hdi:.0%} HDI {r.counterfactual.hdi[0]:.3f} to "
                f"{r.counterfactual.hdi[1]:.3f}); interventional {r.interventional.mean:.3f}; "
                f"rewrite {r.rewrite.mean:.2f} events.</p>")
        add("</article>")
    add("</section>")

    # the claims
    add('<section id="claims"><h2>The claims</h2>')
    add("<p>Every arrow of the graph is a claim made in the discussion, in our words, with "
        "the posts that make it and those that dispute it.</p>")
    claim_rows = [[f"<code>{_e(e.cause)}</code> → <code>{_e(e.effect)}</code>", _e(e.claim),
                   _e(", ".join(e.by)), _e(", ".join(e.disputed_by)) or "-",
                   f"{strength[(e.cause, e.effect)]:+.2f}"] for e in s.edges]
    add(_table(["cause → effect", "claim", "by", "disputed by",
                "median log odds ratio (pool)"], claim_rows, {4}, wide=True))
    add("</section>")

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
    add(_table(["id", "name", "summary", "based on posts", "judges", "prior weight",
                "log evidence", "posterior weight"], set_rows, {4, 5, 6, 7}, wide=True))
    add("</section>")

    # diagnostics
    add('<section id="diagnostics"><h2>Diagnostics</h2>')
    st = request.settings
    add(f"<p>NUTS (PyMC), {st.chains} chain{'s' if st.chains != 1 else ''} × {st.draws} draws "
        f"after {st.tune} tuning steps, seed {st.seed}. Converged means R-hat ≤ "
        f"{Diagnostics.R_HAT_MAX}, bulk and tail ESS ≥ {Diagnostics.ESS_MIN} and no divergent "
        "transition; a prior set whose every parameter is fixed is answered exactly.</p>")
    diag_rows = [[f"<code>{_e(k)}</code>", *_diag_cells(d)] for k, d in diagnostics.items()]
    add(_table(["run", "max R-hat", "min bulk ESS", "min tail ESS", "divergences",
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
    add(_table(["input", "id", "file", "sha256"], files))
    add(_table(["package", "version"], [[_e(n), _e(v)] for n, v in _versions()]))
    add("</section>")

    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(s.title)} — plausibly report</title>\n"
            f'<meta name="generator" content="plausibly {_e(_version())}">\n'
            f"<style>\n{CSS}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _version() -> str:
    try:
        return version("plausibly")
    except PackageNotFoundError:  # pragma: no cover - the package is installed to run
        return "unknown"

