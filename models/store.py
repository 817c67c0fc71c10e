"""Saving and loading runs as ArviZ InferenceData (NetCDF).

The file holds ArviZ's groups: the sampled parameters (``posterior``,
``sample_stats``), the prior's hyperparameters (``constant_data``, dims
``cell`` and ``param``), the history conditioned on (``observed_data``) and
its log-likelihood term by term (``log_likelihood``: one variable per
observed event and reference-class row, dims chain, draw; see
:mod:`plausibly.models.pointwise`); and an extra group ``plausibility`` with
the per-draw answers (``plausibility``: chain, draw, pod, outcome, query;
``rewrite``: chain, draw, pod; ``differs``: chain, draw, pod, event;
``pod_chance``: chain, draw, pod, absent from runs saved before it) and
attributes recording what produced it: scenario and prior-set
ids, the seed, the package version, the sha256 of both input files, and the
scenario text itself so that a saved run re-renders without its scenario
file.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from plausibly.models._arviz import arviz
from plausibly.models.errors import InputError, OutputError, Problem
from plausibly.models.files import MAX_FILE_BYTES, file_sha256, read_regular
from plausibly.models.network import Network
from plausibly.models.outputs import check_writable, write_atomic
from plausibly.models.pointwise import data_row_name, pointwise_log_likelihood
from plausibly.models.results import Run
from plausibly.models.run_check import GROUP, run_from_groups
from plausibly.models.run_file import MAX_RUN_BYTES, read_run_file

__all__ = ["check_size", "history_groups", "load_run", "run_netcdf", "save_run",
           "scenario_attrs"]


def save_run(run: Run, path: Path, *, force: bool = False, priors_path: str | None = None
             ) -> None:
    """Write a run atomically; refuse to overwrite without ``force``.

    A command checks its outputs before sampling and then writes
    :func:`run_netcdf` with :func:`~plausibly.models.outputs.write_atomic` itself.
    """
    check_writable(path, force, {".nc"})
    write_atomic(path, run_netcdf(run, priors_path, label=str(path)), force=force)


def run_netcdf(run: Run, priors_path: str | None = None, *, label: str = "run.nc") -> bytes:
    """The NetCDF file of a run, built in memory.

    As ArviZ's ``InferenceData.to_netcdf`` writes it (the root attributes,
    then each group, zlib-compressed), but into memory: HDF5 writing to a
    disk that fills up fails in ways Python cannot catch (a SIGSEGV when the
    file is closed), where writing these bytes fails with a plain ``OSError``.
    """
    import xarray as xr

    az = arviz()

    d = run.diagnostics
    scenario = scenario_attrs(run.scenario.path)
    attrs = {
        "plausibly_version": version("plausibly"),
        "scenario": run.scenario.id,
        "priors": run.priors,
        "priors_name": run.name,
        "seed": run.seed,
        "scenario_sha256": scenario["scenario_sha256"],
        "priors_sha256": file_sha256(priors_path),
        "scenario_toml": scenario["scenario_toml"],
        "r_hat_max": d.r_hat_max, "ess_bulk_min": d.ess_bulk_min,
        "ess_tail_min": d.ess_tail_min, "divergences": d.divergences, "exact": int(d.exact),
        **{k: v for k, v in run.attrs.items() if isinstance(v, str | int | float)},
    }
    ds = run.draws.assign_attrs(attrs)
    groups: dict[str, xr.Dataset] = {}
    if run.groups is not None:
        groups = dict(run.groups)
    groups.update(history_groups(run))
    check_size(Path(label), [*groups.values(), ds])
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


def scenario_attrs(path: str | None) -> dict[str, str]:
    """The scenario file's sha256 and text, from one bounded read of it (both '' without one).

    Raises
    ------
    InputError
        When the file is no longer a regular file within the size limit.
    """
    if not path:
        return {"scenario_sha256": "", "scenario_toml": ""}
    raw, problems = read_regular(Path(path), "scenario", MAX_FILE_BYTES)
    if raw is None:
        raise InputError(problems=problems)
    return {"scenario_sha256": hashlib.sha256(raw).hexdigest(),
            "scenario_toml": raw.decode("utf-8-sig")}


def check_size(path: Path, groups: list[Any]) -> None:
    """Refuse to write a run that :func:`load_run` would refuse to read: too large.

    Raises
    ------
    OutputError
        When the groups' data and attributes come to more than
        :data:`~plausibly.models.run_file.MAX_RUN_BYTES`.
    """
    size = sum(ds.nbytes + sum(len(str(v)) for v in ds.attrs.values()) for ds in groups)
    if size > MAX_RUN_BYTES:
        raise OutputError(problems=[Problem(
            str(path), "", f"the run holds {size:,} bytes of data; a run file holds at most "
            f"{MAX_RUN_BYTES:,}, so it could not be read back", "sample fewer draws or "
            "chains, or answer fewer PODs (--pod)")])


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
    a, b = run.draws["a"].values, run.draws["b"].values
    chains, draws = a.shape[:2]
    terms = run.log_likelihood
    if terms is None:  # not computed with the queries: now, over every draw at once
        terms = pointwise_log_likelihood(Network.from_scenario(s),
                                         a.reshape(chains * draws, *a.shape[2:]),
                                         b.reshape(chains * draws, *b.shape[2:]))
    observed: dict[str, xr.DataArray] = {}
    for node in s.nodes:
        h = node.history
        if h is None:
            continue
        if node.states == ("no", "yes") and not isinstance(h, str | Mapping):
            observed[node.id] = xr.DataArray(int(h) if h in (0.0, 1.0) else h,
                                             attrs={"soft": int(h not in (0.0, 1.0))})
        elif node.hard is not None:  # an event with states: the index of its state
            observed[node.id] = xr.DataArray(node.hard, attrs={
                "soft": 0, "states": ", ".join(node.states)})
        else:  # disputed: the weights over its states
            observed[node.id] = xr.DataArray(np.asarray(node.record, dtype=float),
                                             dims=(f"{node.id}_state",),
                                             coords={f"{node.id}_state": list(node.states)},
                                             attrs={"soft": 1})
    for r, row in enumerate(s.data):
        observed[data_row_name(r)] = xr.DataArray(row.successes, attrs={
            "node": row.node, "trials": row.trials, "at_most": int(row.at_most),
            "given": ", ".join(f"{c}={str(v).lower()}" for c, v in row.given.items())})
    coords = {"chain": run.draws["chain"].values, "draw": run.draws["draw"].values}
    log_lik = xr.Dataset({k: (("chain", "draw"), np.asarray(v).reshape(chains, draws))
                          for k, v in terms.items()}, coords=coords)
    return {"observed_data": xr.Dataset(observed), "log_likelihood": log_lik}


def load_run(path: Path) -> Run:
    """Read a run written by :func:`save_run` (no sampling), trusting nothing in it.

    The file's HDF5 structure is checked before any data is read (nothing
    outside the file is followed, nothing oversized is loaded: see
    :mod:`plausibly.models.run_file`), then its content as strictly as a
    scenario (:mod:`plausibly.models.run_check`).

    Raises
    ------
    RunFileError
        With every problem found.
    """
    return run_from_groups(read_run_file(path), str(path))
