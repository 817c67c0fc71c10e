"""Saved runs are read without trusting them: nothing outside the file, nothing unchecked.

Every malformed or malicious run.nc here is made at test time from the
golden ``run_v1.nc`` (a real run: 2 chains of 10 draws of the firing squad),
with h5py for what HDF5 can do (external storage, external and soft links,
virtual datasets, a compression plugin, a declared size of gigabytes) and
with xarray for what the content can get wrong (attributes, dims, draws,
values, the saved scenario). Each must give its whole message and exit 2,
never a traceback, with every problem of the file at once. Cases that used
to hang or to exhaust memory run the console script in a subprocess with a
time and a memory limit (RLIMIT_AS).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import xarray as xr
from typer.testing import CliRunner

from plausibly.cli.app import app

DATA = Path(__file__).parents[1] / "data"
V1 = DATA / "golden" / "run_v1.nc"
SQUAD, FIXED = DATA / "firing_squad.toml", DATA / "firing_squad_fixed.toml"
GROUPS = ("posterior", "sample_stats", "constant_data", "plausibility")
FIX = "    fix: save the run again with 'plausibly estimate -o'\n"
OUTSIDE = ("    fix: plausibly reads only data inside the run file: save the run again with "
           "'plausibly estimate -o'\n")
SECRET = 0.123456789  # what a file outside the run holds
runner = CliRunner()
MEMORY = 3 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def from_run(path: Path, *more: str) -> Any:
    return runner.invoke(app, ["estimate", "--from", str(path), "--allow-unconverged",
                               "-f", "json", *more])


def in_subprocess(path: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``estimate --from`` in a process of its own: a hang or a memory blow-up fails the test."""
    return subprocess.run([sys.executable, "-m", "plausibly.cli", "estimate", "--from",
                           path.name, "--allow-unconverged", "-f", "json"], cwd=path.parent,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory)


def errors(path: Path | str, *problems: str) -> str:
    n = len(problems)
    return f"error: {n} problem{'s' if n != 1 else ''}\n" + "".join(
        f"{path}: {p}" for p in problems)


# --------------------------------------------------------------------------- making files


def copy_v1(tmp_path: Path, name: str = "run.nc") -> Path:
    out = tmp_path / name
    shutil.copyfile(V1, out)
    return out


def swap(path: Path, name: str, make: Callable[[h5py.Group, str, tuple[int, ...], Any], Any]
         ) -> None:
    """Replace the dataset ``name`` by what ``make(group, base, shape, dtype)`` creates there,
    keeping its netCDF attributes and dimension scales when that is a dataset."""
    with h5py.File(path, "r+") as f:
        old = f[name]
        group, base = old.parent, name.rsplit("/", 1)[1]
        shape, dtype = old.shape, old.dtype
        attrs = {k: old.attrs[k] for k in old.attrs if k != "DIMENSION_LIST"}
        scales = [list(old.dims[i].values()) for i in range(old.ndim)]
        for i, found in enumerate(scales):
            for scale in found:
                old.dims[i].detach_scale(scale)
        del group[base]
        new = make(group, base, shape, dtype)
        if isinstance(new, h5py.Dataset):
            for k, v in attrs.items():
                new.attrs[k] = v
            for i, found in enumerate(scales):
                for scale in found:
                    new.dims[i].attach_scale(scale)


def secret_bytes(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "secret.bin"
    path.write_bytes(np.full(n, SECRET).tobytes())
    return path


def secret_hdf5(tmp_path: Path, shape: tuple[int, ...]) -> Path:
    path = tmp_path / "secret.h5"
    with h5py.File(path, "w") as f:
        f["secret"] = np.full(shape, SECRET)
    return path


def external(target: Path) -> Callable[..., Any]:
    def make(group: h5py.Group, base: str, shape: tuple[int, ...], dtype: Any) -> Any:
        size = int(np.prod(shape)) * dtype.itemsize
        return group.create_dataset(base, shape, dtype, external=[(str(target), 0, size)])
    return make


def virtual(source: Path) -> Callable[..., Any]:
    def make(group: h5py.Group, base: str, shape: tuple[int, ...], dtype: Any) -> Any:
        layout = h5py.VirtualLayout(shape, dtype)
        layout[...] = h5py.VirtualSource(str(source), "secret", shape=shape)
        return group.create_virtual_dataset(base, layout, fillvalue=np.nan)
    return make


def link(to: Any) -> Callable[..., Any]:
    def make(group: h5py.Group, base: str, shape: tuple[int, ...], dtype: Any) -> Any:
        group[base] = to
    return make


def rewrite(tmp_path: Path, edit: Callable[[dict[str, xr.Dataset]], None],
            name: str = "bad.nc") -> Path:
    """run_v1.nc with its groups as ``edit`` leaves them, written with xarray."""
    groups = {}
    for g in GROUPS:
        with xr.open_dataset(V1, engine="h5netcdf", group=g) as ds:
            groups[g] = ds.load()
    edit(groups)
    out = tmp_path / name
    for k, (g, ds) in enumerate(groups.items()):
        ds.to_netcdf(out, mode="w" if k == 0 else "a", group=g, engine="h5netcdf")
    return out


def edit_attrs(**changes: Any) -> Callable[[dict[str, xr.Dataset]], None]:
    def edit(groups: dict[str, xr.Dataset]) -> None:
        attrs = groups["plausibility"].attrs
        for k, v in changes.items():
            if v is None:
                del attrs[k]
            else:
                attrs[k] = v
    return edit


def scenario_text() -> str:
    with xr.open_dataset(V1, engine="h5netcdf", group="plausibility") as ds:
        return str(ds.attrs["scenario_toml"])


# ----------------------------------------------------------- 3. nothing outside the file


def test_graph_refuses_a_scenario_other_than_the_runs():
    # --run draws the run's own scenario: another SCENARIO beside it was once ignored silently
    other = DATA / "v2_small.toml"
    result = runner.invoke(app, ["graph", str(other), "--run", str(V1)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 1 problem\n"
        f"{other}: is not the scenario of the run {V1}, which holds its own ('firing_squad') "
        "and draws that\n    fix: leave SCENARIO out with --run, or give the run's own "
        "scenario\n")
    same = runner.invoke(app, ["graph", str(DATA / "firing_squad.toml"), "--run", str(V1)])
    assert same.exit_code == 0 and same.stdout.startswith("digraph")


def test_run_v1_itself_loads():
    result = from_run(V1)
    assert result.exit_code == 0, result.output


def test_external_storage_is_not_followed(tmp_path):
    run = copy_v1(tmp_path)
    swap(run, "plausibility/plausibility", external(secret_bytes(tmp_path, 2 * 10 * 3 * 3)))
    result = from_run(run)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        run, f"/plausibility/plausibility: keeps its data outside the run file, in "
        f"'{tmp_path / 'secret.bin'}' (HDF5 external storage)\n" + OUTSIDE)
    assert "0.123457" not in result.stdout


def test_external_storage_on_a_fifo_does_not_hang(tmp_path):
    run = copy_v1(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    swap(run, "plausibility/plausibility", external(tmp_path / "pipe"))
    result = in_subprocess(run, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr == errors(
        "run.nc", f"/plausibility/plausibility: keeps its data outside the run file, in "
        f"'{tmp_path / 'pipe'}' (HDF5 external storage)\n" + OUTSIDE)


def test_an_external_link_is_not_followed(tmp_path):
    run = copy_v1(tmp_path)
    secret = secret_hdf5(tmp_path, (2, 10, 3, 3))
    swap(run, "plausibility/plausibility", link(h5py.ExternalLink(str(secret), "/secret")))
    result = from_run(run)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        run, f"/plausibility/plausibility: is a link to '/secret' in another file, "
        f"'{secret}' (an HDF5 external link)\n" + OUTSIDE)


def test_a_soft_link_is_not_followed(tmp_path):
    run = copy_v1(tmp_path)
    swap(run, "plausibility/a", link(h5py.SoftLink("/posterior/base")))
    result = from_run(run)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        run, "/plausibility/a: is a soft link to '/posterior/base'; plausibly writes none\n"
        + OUTSIDE)


def test_a_virtual_dataset_is_not_assembled(tmp_path):
    run = copy_v1(tmp_path)
    secret = secret_hdf5(tmp_path, (2, 10, 3, 5))
    swap(run, "plausibility/differs", virtual(secret))
    result = from_run(run)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        run, f"/plausibility/differs: is a virtual dataset: its data would come from "
        f"'{secret}'\n" + OUTSIDE)


def test_every_way_out_at_once_and_graph_too(tmp_path):
    run = copy_v1(tmp_path)
    swap(run, "plausibility/plausibility", external(secret_bytes(tmp_path, 180)))
    swap(run, "plausibility/differs", virtual(secret_hdf5(tmp_path, (2, 10, 3, 5))))
    swap(run, "plausibility/a", link(h5py.ExternalLink("secret.h5", "/secret")))
    swap(run, "plausibility/b", link(h5py.SoftLink("/posterior/z")))
    for result in (from_run(run), runner.invoke(app, ["graph", "--run", str(run)])):
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if not line.startswith(" ")]
        assert lines == [
            "error: 4 problems",  # in the file's order (netCDF files keep creation order)
            f"{run}: /plausibility/plausibility: keeps its data outside the run file, in "
            f"'{tmp_path / 'secret.bin'}' (HDF5 external storage)",
            f"{run}: /plausibility/differs: is a virtual dataset: its data would come from "
            f"'{tmp_path / 'secret.h5'}'",
            f"{run}: /plausibility/a: is a link to '/secret' in another file, 'secret.h5' (an "
            "HDF5 external link)",
            f"{run}: /plausibility/b: is a soft link to '/posterior/z'; plausibly writes none"]


def test_a_compression_plugin_is_not_loaded(tmp_path):
    run = copy_v1(tmp_path)

    def blosc(group: h5py.Group, base: str, shape: tuple[int, ...], dtype: Any) -> Any:
        return group.create_dataset(base, shape, dtype, chunks=shape, compression=32001,
                                    allow_unknown_filter=True)

    swap(run, "plausibility/plausibility", blosc)
    result = from_run(run)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        run, "/plausibility/plausibility: is compressed with HDF5 filter 32001, which "
        "plausibly does not use (it would need a plugin)\n" + FIX)


# ------------------------------------------------------------------- 4. sizes, declared


def test_a_small_file_that_declares_gigabytes_is_refused_before_loading(tmp_path):
    import h5netcdf

    run = copy_v1(tmp_path)
    with h5netcdf.File(run, "a") as f:  # chunked and never written: a few KB on disk
        f["posterior"].dimensions["huge"] = 500_000_000
        f["posterior"].create_variable("huge", ("huge",), "f8", chunks=(1_000_000,),
                                       compression="gzip")
    assert run.stat().st_size < 200_000
    result = in_subprocess(run)
    assert result.returncode == 2, result.stderr
    head, fix = result.stderr.split("\n")[1:3]
    assert head.startswith("run.nc: declares ")
    assert head.endswith("bytes of data (/posterior/huge alone 4,000,000,000); a run file "
                         "may declare at most 2,147,483,648")
    assert fix == ("    fix: this is not a run plausibly wrote (the most it writes, 8 chains of "
                   "20,000 draws of the bundled scenario, declares about 0.9 GB): save the run "
                   "again with 'plausibly estimate -o'")


def test_a_run_too_large_to_read_back_is_not_written(tmp_path, monkeypatch):
    import plausibly.models.store as store

    monkeypatch.setattr(store, "MAX_RUN_BYTES", 1_000)
    out = tmp_path / "run.nc"
    result = runner.invoke(app, ["estimate", str(SQUAD), "-p", str(FIXED), "-o", str(out)])
    assert result.exit_code == 2
    head, fix = result.stderr.splitlines()[1:]
    assert head.startswith(f"{out}: the run holds ")
    assert head.endswith(" bytes of data; a run file holds at most 1,000, so it could not be "
                         "read back")
    assert fix == "    fix: sample fewer draws or chains, or answer fewer PODs (--pod)"
    assert not out.exists()


def test_a_run_file_over_the_size_limit_is_not_read(tmp_path):
    run = tmp_path / "run.nc"
    with open(run, "wb") as fh:  # sparse: 3 GiB on paper
        fh.truncate(3 << 30)
    result = from_run(run)
    assert result.exit_code == 2
    assert result.stderr == errors(
        run, "is 3,221,225,472 bytes; a run file is at most 2,147,483,648 bytes\n"
        "    fix: check that this is really a run file\n")


def test_a_fifo_run_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "run.nc")
    result = in_subprocess(tmp_path / "run.nc", timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr == errors(
        "run.nc", "is a FIFO (named pipe), not a regular file\n"
        "    fix: name a run file: plausibly reads only regular files\n")


def test_a_folder_as_a_run(tmp_path):
    folder = tmp_path / "run.nc"
    folder.mkdir()
    result = from_run(folder)
    assert result.exit_code == 2
    assert result.stderr == errors(folder, "is a folder, not a file\n    fix: name a run file\n")


# ------------------------------------------------------------------ 6. the content, checked


def test_attributes_missing_or_ill_typed_all_at_once(tmp_path):
    bad = rewrite(tmp_path, edit_attrs(seed=None, r_hat_max="high", divergences=1.5, exact=2,
                                       scenario_sha256="xyz", priors_name=""))
    for result in (from_run(bad), runner.invoke(app, ["graph", "--run", str(bad)])):
        assert result.exit_code == 2, result.output
        assert result.stderr == errors(
            bad,
            "plausibility.attrs.priors_name: is empty\n" + FIX,
            "plausibility.attrs.scenario_sha256: must be the hex sha256 of a file, or empty, "
            "got 'xyz' (a string)\n" + FIX,
            "plausibility.attrs.seed: is missing\n" + FIX,
            "plausibility.attrs.r_hat_max: must be a number >= 0 (or NaN), got 'high' "
            "(a string)\n" + FIX,
            "plausibility.attrs.divergences: must be an integer >= 0, got 1.5 (a number)\n"
            + FIX,
            "plausibility.attrs.exact: must be an integer from 0 to 1, got 2 (an integer)\n"
            + FIX)


def test_wrong_dimensions(tmp_path):
    def transpose(groups):
        p = groups["plausibility"]
        groups["plausibility"] = p.assign(plausibility=p["plausibility"].transpose(
            "chain", "draw", "query", "pod"))

    bad = rewrite(tmp_path, transpose)
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        bad, "plausibility.plausibility: has dims (chain, draw, query, pod), not (chain, "
        "draw, pod, query)\n" + FIX)


def test_zero_draws(tmp_path):
    def empty(groups):
        for g in ("posterior", "sample_stats", "plausibility"):
            groups[g] = groups[g].isel(draw=slice(0, 0))

    bad = rewrite(tmp_path, empty)
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(bad, "plausibility.draw: is empty: the run has no draws\n"
                                   + FIX)


def test_values_that_are_not_numbers_or_out_of_range(tmp_path):
    def spoil(groups):
        p = groups["plausibility"]
        values = p["plausibility"].values.copy()
        values[1, 3, 2, 1] = np.nan
        differs = p["differs"].values.copy()
        differs[0, 4, 1, 2] = 1.5
        groups["plausibility"] = p.assign(plausibility=(p["plausibility"].dims, values),
                                          differs=(p["differs"].dims, differs))
        z = groups["posterior"]["z"].values.copy()
        z[0, 0, 0] = np.inf
        groups["posterior"] = groups["posterior"].assign(z=(("chain", "draw", "param"), z))

    bad = rewrite(tmp_path, spoil)
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        bad,
        "plausibility.plausibility: holds 1 values that are not finite numbers (NaN or "
        "infinite), the first at chain 1, draw 3, pod 'a_half_hearted', query "
        "'counterfactual'\n" + FIX,
        "plausibility.differs: holds 1 values outside [0, 1], the first 1.5 at chain 0, "
        "draw 4, pod 'a_refrains', event 'rifleman_a'\n" + FIX,
        "posterior.z: holds values that are not finite numbers (NaN or infinite)\n" + FIX)


def test_a_saved_scenario_nested_too_deeply(tmp_path):
    deep = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"  # deeper than any recursion limit set
    bad = rewrite(tmp_path, edit_attrs(scenario_toml=deep))
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        bad, "plausibility.attrs.scenario_toml: is nested too deeply to be read\n"
        "    fix: flatten it: a scenario file needs no more than four levels of tables\n")


def test_a_saved_scenario_with_a_huge_integer(tmp_path):
    huge = scenario_text().replace("year = 4", "year = " + "9" * 5000)
    bad = rewrite(tmp_path, edit_attrs(scenario_toml=huge))
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        bad, "plausibility.attrs.scenario_toml: has a number too long to read (over 4,300 "
        "digits)\n    fix: shorten the number: years, counts and post numbers are small\n")


def test_a_saved_scenario_that_is_not_valid(tmp_path):
    broken = scenario_text().replace('outcome = "death"', 'outcome = "deaht"')
    bad = rewrite(tmp_path, edit_attrs(scenario_toml=broken))
    result = from_run(bad)
    assert result.exit_code == 2, result.output
    assert result.stderr == errors(
        f"{bad}:scenario", "outcome: 'deaht' is not a node (did you mean 'death'?)\n"
        "    fix: name one of the [nodes.*] tables\n")


def test_an_unknown_pod_is_not_printed_with_another_pods_numbers(tmp_path):
    def rename(groups):
        groups["plausibility"] = groups["plausibility"].assign_coords(
            pod=["history", "a_refrains", "b_refrains"])

    bad = rewrite(tmp_path, rename)
    for result in (from_run(bad), from_run(bad, "--pod", "b_refrains"),
                   runner.invoke(app, ["graph", "--run", str(bad), "--pod", "b_refrains"])):
        assert result.exit_code == 2, result.output
        assert result.stderr == errors(
            bad, "plausibility.pod: 'b_refrains' is not a POD of the saved scenario "
            "'firing_squad' (its PODs: a_refrains, a_half_hearted)\n" + FIX)


def test_events_out_of_order_are_not_mislabelled(tmp_path):
    def swap_events(groups):
        p = groups["plausibility"]
        events = [str(e) for e in p["event"].values]
        i, j = events.index("rifleman_a"), events.index("rifleman_b")
        events[i], events[j] = events[j], events[i]
        groups["plausibility"] = p.assign_coords(event=events)

    bad = rewrite(tmp_path, swap_events)
    result = runner.invoke(app, ["graph", "--run", str(bad)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[1] == (
        f"{bad}: plausibility.event: is 'court_order', 'captain', 'rifleman_b', "
        "'rifleman_a', 'death'; it must be the saved scenario's events in time order "
        "(court_order, captain, rifleman_a, rifleman_b, death)")


def test_no_plausibility_group(tmp_path):
    def drop(groups):
        del groups["plausibility"]

    bad = rewrite(tmp_path, drop)
    result = from_run(bad)
    assert result.exit_code == 2
    assert result.stderr == errors(
        bad, "has no 'plausibility' group: it was not written by plausibly estimate -o\n"
        "    fix: give a run.nc written by 'plausibly estimate -o'\n")
