"""Every argument and option that more than one command takes, defined once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from plausibly.models import settings

ScenarioArg = Annotated[str, typer.Argument(
    help="A scenario .toml file, or the id of a bundled one.", show_default=True)]
Draws = Annotated[int, typer.Option(
    min=10, max=settings.MAX_DRAWS,
    help=f"Posterior draws per chain (at most {settings.MAX_DRAWS:,}: a kept draw of the bundled "
    f"scenario takes about 24 KB of memory, so {settings.MAX_CHAINS} chains of "
    f"{settings.MAX_DRAWS:,} take about 4 GB).")]
Tune = Annotated[int, typer.Option(
    min=0, max=settings.MAX_TUNE,
    help=f"Tuning (warm-up) steps per chain (at most {settings.MAX_TUNE:,}).")]


def _enough_chains(chains: int) -> int:
    """Refuse fewer chains than R-hat needs, saying why (click's range error would not)."""
    from plausibly.models.settings import MIN_CHAINS, too_few_chains

    if chains < MIN_CHAINS:
        raise typer.BadParameter(f"{too_few_chains(chains)}; use {MIN_CHAINS} or more.")
    return chains


Chains = Annotated[int, typer.Option(
    min=1, max=settings.MAX_CHAINS, callback=_enough_chains,
    help=f"Independent chains, at least 2 (R-hat compares them) and at most "
    f"{settings.MAX_CHAINS} (memory); one worker per core.")]
Seed = Annotated[int, typer.Option(
    min=0, max=2**63 - 1,  # settings.SEED_MAX: a saved run keeps it as a NetCDF int64
    help="Random seed: the same seed gives the same numbers.")]


class SamplerName(StrEnum):
    """NUTS implementations (``settings.SAMPLERS``)."""

    blackjax = "blackjax"
    pymc = "pymc"


SamplerOpt = Annotated[SamplerName, typer.Option(
    "--sampler",
    help="NUTS by blackjax (compiled once per scenario and kept in ~/.cache/plausibly) or "
    "by pymc (slower; the reference blackjax is checked against). Each gives the same "
    "numbers for the same seed; the two differ by Monte Carlo error.")]
HdiProb = Annotated[float, typer.Option(
    "--hdi-prob", min=0.01, max=0.999, help="Mass of the highest-density intervals.")]
AllowUnconverged = Annotated[bool, typer.Option(
    "--allow-unconverged",
    help="Exit 0 even if R-hat > 1.01, ESS < 400 or divergences (still reported).")]
Pods = Annotated[list[str] | None, typer.Option(
    "--pod", help="Answer only this POD (repeatable); all by default.")]
Outcomes = Annotated[list[str] | None, typer.Option(
    "--outcome", help="Show only this outcome (repeatable; as the outputs name it, e.g. "
    "EVENT or EVENT>=STATE); every outcome by default, the headline first.")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]
PriorsOpt = Annotated[list[str] | None, typer.Option(
    "--priors", "-p", help="A prior-set .toml file or bundled id (repeatable). "
    "Default: every bundled prior set.")]


class Format(StrEnum):
    """Output formats."""

    table = "table"
    json = "json"
    csv = "csv"


class Pool(StrEnum):
    """Pooling rules."""

    linear = "linear"
    log = "log"


PoolOpt = Annotated[Pool, typer.Option(
    help="linear: mixture weighted by each set's marginal likelihood of history; "
    "log: closed-form logarithmic pool of the priors.")]
class Weighting(StrEnum):
    """How prior sets are weighted in the pool."""

    history = "history"
    equal = "equal"
    stacking = "stacking"


class RankBy(StrEnum):
    """What PODs are ranked by."""

    counterfactual = "counterfactual"
    route = "route"


WeightingOpt = Annotated[Weighting, typer.Option(
    "--weights", help="Which weights pool the sets: history (prior weight x marginal "
    "likelihood of history), equal, or stacking (leave-one-event-out predictive "
    "densities). All three are shown.")]
RankOpt = Annotated[RankBy, typer.Option(
    "--rank", help="Rank PODs by the counterfactual, or by the route (POD chance x "
    "counterfactual).")]
Weights = Annotated[list[float] | None, typer.Option(
    "--weight", help="Prior weight of each set, in -p order (repeatable); equal by default.")]
Extremize = Annotated[float, typer.Option(
    help="Log pool only: multiply pooled log-odds by this factor (1 = none).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputNc = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Save the run as ArviZ InferenceData (.nc).")]
