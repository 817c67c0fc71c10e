"""plausibly.priors: prior-set files, fitting judgements, pooling.

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
    "Comparison": "compare",
    "load_prior_sets": "catalog",
    "check_files": "catalog",
}

# Functions named like their module (estimate, sensitivity, compare) are not
# exported here: once the submodule is imported, Python binds the package
# attribute to the module itself. Import them from their module.
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
