"""plausibly.models: the engine.

Scenarios, graph checks, exact queries, the PyMC model, sampling, runs and
pictures.

Names are imported lazily (PEP 562) so that reading and checking a scenario
does not pay for numpy, let alone pymc: ``plausibly check`` starts fast. The
stub ``__init__.pyi`` gives type checkers the same names.
"""

from __future__ import annotations

from plausibly.models.lazy import lazy_exports

_EXPORTS = {
    "PlausiblyError": "errors",
    "InputError": "errors",
    "ScenarioError": "errors",
    "ElicitationError": "errors",
    "ImpossibleHistory": "errors",
    "RunFileError": "errors",
    "UsageError": "errors",
    "OutputError": "errors",
    "SamplingError": "errors",
    "WorkerLost": "errors",
    "Interrupted": "errors",
    "UnconvergedError": "errors",
    "ContractionTooLarge": "errors",
    "Problem": "errors",
    "Scenario": "scenario",
    "Node": "scenario",
    "Edge": "scenario",
    "Pod": "scenario",
    "DataRow": "scenario",
    "load_scenario": "scenario",
    "parse_scenario": "scenario",
    "bundled_scenarios": "scenario",
    "Network": "network",
    "PodAnswer": "queries",
    "answer_pods": "queries",
    "interventional": "queries",
    "counterfactual": "queries",
    "differs": "queries",
    "log_likelihood": "likelihood",
    "ParameterPrior": "parameters",
    "Settings": "settings",
    "Diagnostics": "diagnostics",
    "Run": "results",
    "Summary": "results",
    "PodResult": "results",
    "summarize": "results",
    "estimate": "inference",
    "estimate_many": "inference",
    "save_run": "store",
    "load_run": "store",
    "sensitivity": "power_scaling",
    "PodSensitivity": "power_scaling",
    "build_model": "pymc_model",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
