"""The report's outcomes: the lead sentence that names them, and one ranking per outcome.

Every outcome of the scenario gets the same treatment, the headline first: its
ranked table (each set's mean, the pool with its HDI, POD chance, route and
rank uncertainty), its PODs out of scope listed apart with their posts, and
its forest plot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from plausibly.priors.report_html import esc, figure, table

if TYPE_CHECKING:
    from plausibly.models.results import PodResult, Summary
    from plausibly.models.scenario import Scenario
    from plausibly.priors.comparison import Comparison, OutcomeSummaries, RankedSummaries

__all__ = ["best_pods", "lead", "outcome_anchor", "outcome_words", "ranking_section"]


def outcome_words(scenario: Scenario, name: str) -> str:
    """An outcome in words (plain text): its event's label, and its state if written so.

    The state is said in words (``several_parties`` as "several parties"), in
    brackets after the label, which often lists every state itself.
    """
    found = next((o for o in scenario.outcomes if o.name == name), None)
    event = found.event if found is not None else name
    label = scenario.node(event).label.rstrip(".")
    if not (found and found.written):
        return label
    return f"{label} (at least {found.at_least.replace('_', ' ')})"


def outcome_anchor(name: str) -> str:
    """The id of an outcome's part of the page (``regime>=open`` gives ``outcome-regime-open``)."""
    return "outcome-" + re.sub(r"[^A-Za-z0-9_]+", "-", name)


def _named(scenario: Scenario, name: str, note: str = "") -> str:
    return (f"<strong>{esc(outcome_words(scenario, name))}</strong> (<code>{esc(name)}</code>"
            f"{note})")


def lead(scenario: Scenario, names: Sequence[str], n_sets: int) -> str:
    """The page's first paragraph: the question for every outcome, the headline first."""
    note = ", the headline" if len(names) > 1 else ""
    named = [_named(scenario, n, note if k == 0 else "") for k, n in enumerate(names)]
    that = " or that ".join([", that ".join(named[:-1]), named[-1]] if len(named) > 1
                            else named)
    return (f'<p class="lead">How plausible is it that {that}, had history diverged at one '
            f"point? {len(scenario.pods)} points of divergence (PODs), {n_sets} prior set"
            f"{'s' if n_sets != 1 else ''}, conditioned on what actually happened.</p>")


def _interval(s: Summary, hdi: float) -> str:
    return f"{s.mean:.3f} ({hdi:.0%} HDI {s.hdi[0]:.3f} to {s.hdi[1]:.3f})"


def best_pods(comparison: Comparison, summaries: RankedSummaries, hdi: float) -> str:
    """Per outcome, one sentence: the POD ranked first under the pool, against history."""
    s, out = comparison.scenario, []
    by = "likeliest" if comparison.rank_by == "counterfactual" else "likeliest by its route"
    for name, one in summaries.outcomes.items():
        if len(one.order) < 2:
            continue
        top, base = one.pooled[one.order[1]], one.pooled[0]
        pod = s.pod(top.pod)
        out.append(f"<p>Under the {esc(comparison.pool)} pool, the POD that makes "
                   f"<code>{esc(name)}</code> {by} is <strong>{esc(pod.label)}</strong> "
                   f"(<code>{esc(pod.id)}</code>): P({esc(name)}) = "
                   f"{_interval(top.counterfactual, hdi)}, changing {top.rewrite.mean:.1f} "
                   f"other events on average; in real history it is "
                   f"{base.counterfactual.mean:.3f}.</p>")
    return "\n".join(out)


def _maybe(s: Summary | None) -> str:
    return "n/a" if s is None else f"{s.mean:.3f}"


def _rows(scenario: Scenario, one: OutcomeSummaries) -> tuple[list[list[str]], list[str]]:
    """The ranked table's rows: history, then the PODs in scope in the pool's order."""
    u = one.pool_uncertainty
    rows, classes = [], []
    for rank, k in enumerate(one.order):
        row: PodResult = one.pooled[k]
        cf = row.counterfactual
        if k == 0:
            head = ["-", f"<code>{esc(row.pod)}</code><br>history (no POD)"]
            marks = ["-", "-"]
        else:
            p_first, interval, indistinct = u.of(row.pod) if u is not None else (
                0.0, (0, 0), False)
            head = [str(rank), f"<code>{esc(row.pod)}</code>{' ~' if indistinct else ''}<br>"
                    f"{esc(scenario.pod(row.pod).label)}"]
            marks = [f"{p_first:.2f}", f"{interval[0]} to {interval[1]}"]
        rows.append([*head, *(f"{r[k].counterfactual.mean:.3f}" for r in one.per_set.values()),
                     f"<strong>{cf.mean:.3f}</strong>", f"{cf.hdi[0]:.3f} to {cf.hdi[1]:.3f}",
                     _maybe(row.pod_chance), _maybe(row.route), *marks,
                     f"{row.rewrite.mean:.2f}"])
        classes.append("baseline" if k == 0 else "")
    return rows, classes


def _apart(scenario: Scenario, one: OutcomeSummaries, pool_name: str) -> str:
    """The PODs out of scope, apart: each with its pooled answer and the posts behind it."""
    if not one.apart:
        return ""
    items = []
    for k in one.apart:
        row = one.pooled[k]
        pod = scenario.pod(row.pod)
        why = f" {esc(pod.why)}" if pod.why else ""
        items.append(f"<li><code>{esc(pod.id)}</code> {esc(pod.label)}: "
                     f"P({esc(one.outcome)}) = {row.counterfactual.mean:.3f} under the "
                     f"{esc(pool_name)}. Posts: {esc(', '.join(pod.by))}.{why}</li>")
    return ("<p><strong>Out of scope</strong> (the POD removes the question; shown apart, "
            "never ranked):</p><ul>" + "".join(items) + "</ul>")


def _forest(comparison: Comparison, one: OutcomeSummaries, hdi: float) -> str:
    from plausibly.models.plots._render import figure_bytes
    from plausibly.models.plots.forest import forest_figure

    pool_name = f"{comparison.pool} pool"
    fig = forest_figure(comparison.scenario, [*one.per_set.values(), one.pooled], hdi,
                        labels=[*one.per_set, pool_name], rank_by=comparison.rank_by)
    apart = ("; the PODs out of scope are drawn apart, below the line, never ranked"
             if one.apart else "")
    return figure(figure_bytes(fig, "svg"), f"forest plot of P({one.outcome})",
                  f"Each POD's counterfactual P({esc(one.outcome)}): dots are posterior "
                  f"means, bars {hdi:.0%} HDIs, one colour per prior set and black for the "
                  f"{esc(pool_name)} (its median a red tick, its route a cross); the dashed "
                  f"line is real history{apart}.")


def _outcome(comparison: Comparison, one: OutcomeSummaries, hdi: float,
             headline: bool) -> str:
    s, pool_name = comparison.scenario, f"{comparison.pool} pool"
    head = ["rank", "POD", *(f"<code>{esc(i)}</code>" for i in one.per_set), esc(pool_name),
            f"{hdi:.0%} HDI", "POD chance", "route", "P(first)", f"{hdi:.0%} rank interval",
            "rewrite"]
    rows, classes = _rows(s, one)
    return "\n".join(part for part in [
        f'<article class="outcome" id="{esc(outcome_anchor(one.outcome))}">',
        f"<h3>P({esc(one.outcome)}): {esc(outcome_words(s, one.outcome))}"
        f"{' (the headline)' if headline else ''}</h3>",
        table(head, rows, set(range(2, len(head))), classes, wide=True),
        _apart(s, one, pool_name), _forest(comparison, one, hdi), "</article>"] if part)


def ranking_section(comparison: Comparison, summaries: RankedSummaries, hdi: float) -> str:
    """The ranked comparison: what the columns mean, then one part per outcome."""
    pool_name = f"{comparison.pool} pool"
    names = list(summaries.outcomes)
    per = (f"each of the {len(names)} outcomes, the headline first"
           if len(names) > 1 else "the outcome")
    parts = ['<section id="ranking"><h2>The ranked comparison</h2>',
             f"<p>For {per}: the counterfactual probability had the POD happened, given "
             f"real history: the posterior mean under each prior set, and the "
             f"{esc(pool_name)} with its {hdi:.0%} highest-density interval (HDI). Ranked by "
             f"the pool's mean {esc(comparison.rank_by)}. <em>Rewrite</em> is the expected "
             "number of other events that turn out differently (small rewrite and large "
             "effect: a strong POD).</p>",
             "<p><em>Route</em> is the chance that history itself produced the POD (its "
             "<em>POD chance</em>) times the counterfactual: how plausible the whole "
             "alternate path is. The table ranks by posterior means, but each draw of the "
             "posterior gives its own order: <em>P(first)</em> is the share of draws in "
             "which a POD comes first, and the rank interval holds its rank in "
             f"{hdi:.0%} of the draws. Two neighbours whose rank intervals overlap are marked "
             "~: the evidence does not settle which of them ranks higher.</p>"]
    for k, one in enumerate(summaries.outcomes.values()):
        parts.append(_outcome(comparison, one, hdi, headline=k == 0 and len(names) > 1))
    parts.append("</section>")
    return "\n".join(parts)
