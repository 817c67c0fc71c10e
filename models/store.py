"""Saving and loading runs as ArviZ InferenceData (NetCDF).

The file holds ArviZ's groups: the sampled parameters (``posterior``,
``sample_stats``), the prior's hyperparameters (``constant_data``, dims
``cell`` and ``param``), the history conditioned on (``observed_data``) and
its log-likelihood term by term (``log_likelihood``: one variable per
observed event and reference-class row, dims chain, draw; see
:mod:`plausibly.models.pointwise`); and an extra group ``plausibility`` with
the per-draw answers (dims chain, draw, pod, query and chain, draw, pod,
event) and attributes recording what produced it: scenario and prior-set
ids, the seed, the package version, the sha256 of both input files, and the
scenario text itself so that a saved run re-renders without its scenario
file.
"""

from __future__ import annotations

import tomllib
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from plausibly.models._arviz import arviz
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, RunFileError
from plausibly.models.files import atomic_path, check_writable, file_sha256
from plausibly.models.network import Network
from plausibly.models.pointwise import data_row_name, pointwise_log_likelihood
from plausibly.models.results import Run
from plausibly.models.scenario import parse_scenario

__all__ = ["history_groups", "load_run", "save_run"]

GROUP = "plausibility"


def save_run(run: Run, path: Path, *, force: bool = False, priors_path: str | None = None
             ) -> None:
    """Write a run atomically; refuse to overwrite without ``force``."""
    import xarray as xr

    az = arviz()

    check_writable(path, force, {".nc"})
    d = run.diagnostics
    attrs = {
        "plausibly_version": version("plausibly"),
        "scenario": run.scenario.id,
        "priors": run.priors,
        "priors_name": run.name,
        "seed": run.seed,
        "scenario_sha256": file_sha256(run.scenario.path),
        "priors_sha256": file_sha256(priors_path),
        "scenario_toml": Path(run.scenario.path).read_text("utf-8") if run.scenario.path else "",
        "r_hat_max": d.r_hat_max, "ess_bulk_min": d.ess_bulk_min,
        "ess_tail_min": d.ess_tail_min, "divergences": d.divergences, "exact": int(d.exact),
        **{k: v for k, v in run.attrs.items() if isinstance(v, str | int | float)},
    }
    ds = run.draws.assign_attrs(attrs)
    groups: dict[str, xr.Dataset] = {}
    if run.idata is not None:
        groups = {g: run.idata[g] for g in run.idata.groups()}
    groups.update(history_groups(run))
    idata = az.InferenceData(**groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "plausibility" is not a standard group
        idata.add_groups({GROUP: ds})
    with atomic_path(path) as tmp:
        idata.to_netcdf(str(tmp), engine="h5netcdf")


def history_groups(run: Run) -> dict[str, Any]:
    """ArviZ's ``observed_data`` and ``log_likelihood`` groups of a run.

    ``observed_data`` holds, per event with history, its state (1 or 0, or the
    probability of soft history) and per reference-class row its count (the
    bound, for an ``at_most`` row); ``log_likelihood`` holds, under the same
    names, each one's term of the log-likelihood per draw (dims chain, draw:
    see :mod:`plausibly.models.pointwise`), so that ``az.loo`` and
    ``az.compare`` work on a saved run. Empty for a run without its
    mechanism's draws (``a``, ``b``).
    """
    import numpy as np
    import xarray as xr

    if "a" not in run.draws or "b" not in run.draws:
        return {}
    s = run.scenario
    net = Network.from_scenario(s)
    a, b = run.draws["a"].values, run.draws["b"].values
    chains, draws = a.shape[:2]
    terms = pointwise_log_likelihood(net, a.reshape(chains * draws, *a.shape[2:]),
                                     b.reshape(chains * draws, *b.shape[2:]))
    observed: dict[str, xr.DataArray] = {}
    for node in s.nodes:
        h = node.history
        if h is not None:
            observed[node.id] = xr.DataArray(int(h) if h in (0.0, 1.0) else h,
                                             attrs={"soft": int(h not in (0.0, 1.0))})
    for r, row in enumerate(s.data):
        observed[data_row_name(r)] = xr.DataArray(row.successes, attrs={
            "node": row.node, "trials": row.trials, "at_most": int(row.at_most),
            "given": ", ".join(f"{c}={str(v).lower()}" for c, v in row.given.items())})
    coords = {"chain": run.draws["chain"].values, "draw": run.draws["draw"].values}
    log_lik = xr.Dataset({k: (("chain", "draw"), np.asarray(v).reshape(chains, draws))
                          for k, v in terms.items()}, coords=coords)
    return {"observed_data": xr.Dataset(observed), "log_likelihood": log_lik}


def load_run(path: Path) -> Run:
    """Read a run written by :func:`save_run` (no sampling)."""
    az = arviz()

    problem = None
    try:
        idata = az.from_netcdf(str(path), engine="h5netcdf")
    except FileNotFoundError:
        problem = "does not exist"
    except Exception as err:  # h5py/netCDF raise many types for a damaged file
        problem = f"is not a readable NetCDF file ({type(err).__name__})"
    if problem is None and GROUP not in idata.groups():
        problem = f"has no '{GROUP}' group: it was not written by plausibly estimate -o"
    if problem is not None:
        raise RunFileError(problems=[Problem(str(path), "", problem,
                                               "give a run.nc written by 'plausibly estimate -o'")])
    ds = idata[GROUP].load()
    attrs: dict[str, Any] = dict(ds.attrs)
    try:
        data = tomllib.loads(str(attrs.get("scenario_toml", "")))
    except tomllib.TOMLDecodeError:
        data = {}
    if not data:
        raise RunFileError(problems=[Problem(str(path), "scenario_toml",
                                               "the saved scenario cannot be read",
                                               "re-run plausibly estimate -o")])
    scenario = parse_scenario(data, file=f"{path}:scenario")
    diag = Diagnostics(float(attrs["r_hat_max"]), float(attrs["ess_bulk_min"]),
                       float(attrs["ess_tail_min"]), int(attrs["divergences"]),
                       bool(attrs["exact"]))
    groups = [g for g in idata.groups() if g != GROUP]
    params = az.InferenceData(**{g: idata[g] for g in groups}) if groups else None
    return Run(scenario, str(attrs["priors"]), str(attrs["priors_name"]), ds, diag,
               int(attrs["seed"]), params, attrs)
