"""Type information for the lazily imported names of plausibly.priors (see __init__.py)."""

from plausibly.priors.catalog import check_files as check_files
from plausibly.priors.catalog import load_prior_sets as load_prior_sets
from plausibly.priors.comparison import (
    Comparison as Comparison,
)
from plausibly.priors.comparison import (
    RankedSummaries as RankedSummaries,
)
from plausibly.priors.comparison import (
    compare as compare,
)
from plausibly.priors.elicitation import (
    Judgement as Judgement,
)
from plausibly.priors.elicitation import (
    NodeJudgement as NodeJudgement,
)
from plausibly.priors.elicitation import (
    PriorSet as PriorSet,
)
from plausibly.priors.elicitation import (
    bundled_prior_sets as bundled_prior_sets,
)
from plausibly.priors.elicitation import (
    load_prior_set as load_prior_set,
)
from plausibly.priors.elicitation import (
    parse_prior_set as parse_prior_set,
)
from plausibly.priors.fit import (
    FittedPriors as FittedPriors,
)
from plausibly.priors.fit import (
    LogitNormal as LogitNormal,
)
from plausibly.priors.fit import (
    fit_judgement as fit_judgement,
)
from plausibly.priors.fit import (
    fit_prior_set as fit_prior_set,
)
from plausibly.priors.pool import (
    Evidence as Evidence,
)
from plausibly.priors.pool import (
    log_pool as log_pool,
)
from plausibly.priors.pool import (
    marginal_likelihood as marginal_likelihood,
)
from plausibly.priors.pool import (
    posterior_weights as posterior_weights,
)
from plausibly.priors.report import ReportRequest as ReportRequest
from plausibly.priors.report import build_report as build_report

__all__ = [
    "Comparison",
    "Evidence",
    "FittedPriors",
    "Judgement",
    "LogitNormal",
    "NodeJudgement",
    "PriorSet",
    "RankedSummaries",
    "ReportRequest",
    "build_report",
    "bundled_prior_sets",
    "check_files",
    "compare",
    "fit_judgement",
    "fit_prior_set",
    "load_prior_set",
    "load_prior_sets",
    "log_pool",
    "marginal_likelihood",
    "parse_prior_set",
    "posterior_weights",
]
