"""Saving and loading runs as ArviZ InferenceData (NetCDF).

The file holds the sampled parameters (``posterior``, ``sample_stats``), an
extra group ``plausibility`` with the per-draw answers (dims chain, draw, pod,
query and chain, draw, pod, event) and attributes recording what produced
it: scenario and prior-set ids, the seed, the package version, the sha256 of
both input files, and the scenario text itself so that a saved run
re-renders without its scenario file.
"""

from __future__ import annotations

import io
import tomllib
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from plausibly.models._arviz import arviz
from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import Problem, RunFileError
from plausibly.models.files import check_writable, file_sha256, write_atomic
from plausibly.models.results import Run
from plausibly.models.scenario import parse_scenario

__all__ = ["load_run", "run_netcdf", "save_run"]

GROUP = "plausibility"


def save_run(run: Run, path: Path, *, force: bool = False, priors_path: str | None = None
             ) -> None:
    """Write a run atomically; refuse to overwrite without ``force``.

    A command checks its outputs before sampling and then writes
    :func:`run_netcdf` with :func:`~plausibly.models.files.write_atomic` itself.
    """
    check_writable(path, force, {".nc"})
    write_atomic(path, run_netcdf(run, priors_path), force=force)


def run_netcdf(run: Run, priors_path: str | None = None) -> bytes:
    """The NetCDF file of a run, built in memory.

    As ArviZ's ``InferenceData.to_netcdf`` writes it (the root attributes,
    then each group, zlib-compressed), but into memory: HDF5 writing to a
    disk that fills up fails in ways Python cannot catch (a SIGSEGV when the
    file is closed), where writing these bytes fails with a plain ``OSError``.
    """
    import xarray as xr

    az = arviz()

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
    idata = az.InferenceData(**groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "plausibility" is not a standard group
        idata.add_groups({GROUP: ds})
    buffer = io.BytesIO()
    mode: Any = "w"
    if idata.attrs:
        xr.Dataset(attrs=idata.attrs).to_netcdf(buffer, mode=mode, engine="h5netcdf", group="/")
        mode = "a"
    for group in idata.groups():
        data = idata[group]
        packed = {name: {"zlib": True} for name, v in data.variables.items()
                  if v.dtype.kind in "biufcS"}
        data.to_netcdf(buffer, mode=mode, group=f"//{group}", engine="h5netcdf",
                       encoding=packed)
        mode = "a"
    return buffer.getvalue()


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
