"""Type information for the lazily imported names of plausibly.models (see __init__.py)."""

from plausibly.models.diagnostics import Diagnostics as Diagnostics
from plausibly.models.errors import (
    ContractionTooLarge as ContractionTooLarge,
)
from plausibly.models.errors import (
    ElicitationError as ElicitationError,
)
from plausibly.models.errors import (
    ImpossibleHistory as ImpossibleHistory,
)
from plausibly.models.errors import (
    InputError as InputError,
)
from plausibly.models.errors import (
    Interrupted as Interrupted,
)
from plausibly.models.errors import (
    OutputError as OutputError,
)
from plausibly.models.errors import (
    PlausiblyError as PlausiblyError,
)
from plausibly.models.errors import (
    Problem as Problem,
)
from plausibly.models.errors import (
    RunFileError as RunFileError,
)
from plausibly.models.errors import (
    SamplingError as SamplingError,
)
from plausibly.models.errors import (
    ScenarioError as ScenarioError,
)
from plausibly.models.errors import (
    UnconvergedError as UnconvergedError,
)
from plausibly.models.errors import (
    UsageError as UsageError,
)
from plausibly.models.errors import (
    WorkerLost as WorkerLost,
)
from plausibly.models.inference import estimate as estimate
from plausibly.models.inference import estimate_many as estimate_many
from plausibly.models.likelihood import log_likelihood as log_likelihood
from plausibly.models.network import Network as Network
from plausibly.models.parameters import ParameterPrior as ParameterPrior
from plausibly.models.power_scaling import (
    PodSensitivity as PodSensitivity,
)
from plausibly.models.power_scaling import (
    sensitivity as sensitivity,
)
from plausibly.models.pymc_model import build_model as build_model
from plausibly.models.queries import (
    PodAnswer as PodAnswer,
)
from plausibly.models.queries import (
    answer_pods as answer_pods,
)
from plausibly.models.queries import (
    counterfactual as counterfactual,
)
from plausibly.models.queries import (
    differs as differs,
)
from plausibly.models.queries import (
    interventional as interventional,
)
from plausibly.models.results import (
    PodResult as PodResult,
)
from plausibly.models.results import (
    Run as Run,
)
from plausibly.models.results import (
    Summary as Summary,
)
from plausibly.models.results import (
    summarize as summarize,
)
from plausibly.models.scenario import (
    DataRow as DataRow,
)
from plausibly.models.scenario import (
    Edge as Edge,
)
from plausibly.models.scenario import (
    Node as Node,
)
from plausibly.models.scenario import (
    Pod as Pod,
)
from plausibly.models.scenario import (
    Scenario as Scenario,
)
from plausibly.models.scenario import (
    bundled_scenarios as bundled_scenarios,
)
from plausibly.models.scenario import (
    load_scenario as load_scenario,
)
from plausibly.models.scenario import (
    parse_scenario as parse_scenario,
)
from plausibly.models.settings import Settings as Settings
from plausibly.models.store import load_run as load_run
from plausibly.models.store import save_run as save_run

__all__ = [
    "ContractionTooLarge",
    "DataRow",
    "Diagnostics",
    "Edge",
    "ElicitationError",
    "InputError",
    "Interrupted",
    "Network",
    "Node",
    "OutputError",
    "ParameterPrior",
    "PlausiblyError",
    "Pod",
    "PodAnswer",
    "PodResult",
    "PodSensitivity",
    "Problem",
    "Run",
    "RunFileError",
    "SamplingError",
    "Scenario",
    "ScenarioError",
    "Settings",
    "Summary",
    "UnconvergedError",
    "UsageError",
    "WorkerLost",
    "answer_pods",
    "build_model",
    "bundled_scenarios",
    "counterfactual",
    "differs",
    "estimate",
    "estimate_many",
    "interventional",
    "load_run",
    "load_scenario",
    "log_likelihood",
    "parse_scenario",
    "save_run",
    "sensitivity",
    "summarize",
]
