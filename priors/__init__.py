"""plausibly.priors: the experts.

Prior-set files, fitting judgements, pooling, comparisons and the HTML report.

Names are imported lazily (PEP 562), as in :mod:`plausibly.models`.
"""

from __future__ import annotations

from plausibly.models.lazy import lazy_exports

_EXPORTS = {
    "Judgement": "elicitation",
    "NodeJudgement": "elicitation",
    "PriorSet": "elicitation",
    "load_prior_set": "elicitation",
    "parse_prior_set": "elicitation",
    "bundled_prior_sets": "elicitation",
    "FittedPriors": "fit",
    "LogitNormal": "fit",
    "fit_judgement": "fit",
    "fit_prior_set": "fit",
    "Evidence": "pool",
    "log_pool": "pool",
    "marginal_likelihood": "pool",
    "posterior_weights": "pool",
    "Comparison": "comparison",
    "load_prior_sets": "catalog",
    "check_files": "catalog",
    "compare": "comparison",
    "RankedSummaries": "comparison",
    "ReportRequest": "report",
    "build_report": "report",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
