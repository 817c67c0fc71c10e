"""plausibly.models: scenarios, graph checks, exact queries and the PyMC model.

Names are imported lazily (PEP 562) so that reading and checking a scenario
does not pay for numpy, let alone pymc: ``plausibly check`` starts fast.
"""

from __future__ import annotations

from plausibly.models.lazy import lazy_exports

_EXPORTS = {
    "PlausiblyError": "errors",
    "ScenarioError": "errors",
    "ElicitationError": "errors",
    "SamplingError": "errors",
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
    "Network": "contract",
    "PodAnswer": "contract",
    "answer_pods": "contract",
    "interventional": "contract",
    "counterfactual": "contract",
    "differs": "contract",
    "log_likelihood": "contract",
    "Settings": "estimate",
    "Run": "estimate",
    "Diagnostics": "estimate",
    "Summary": "estimate",
    "PodResult": "estimate",
    "summarize": "estimate",
    "layout_of": "estimate",
    "estimate_many": "estimate",
    "save_run": "store",
    "load_run": "store",
    "build_model": "pymc_model",
}

# Functions named like their module (estimate, sensitivity, compare) are not
# exported here: once the submodule is imported, Python binds the package
# attribute to the module itself. Import them from their module.
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
