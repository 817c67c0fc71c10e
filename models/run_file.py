"""Reading a run file without trusting it: HDF5's structure first, then its groups.

A ``run.nc`` is an HDF5 file, and HDF5 can point outside itself: a dataset
may keep its bytes in another file (external storage: ``/etc/passwd``, or a
FIFO that never answers), a link may name another file (an external link) or
another place (a soft link), a virtual dataset is assembled from other files,
and a filter may load a compression plugin. A 15 KB file may also declare an
array of gigabytes. So before anything is handed to h5netcdf and xarray, the
file's structure is read with h5py, which loads no data, and refused with
every problem at once when any of that is found
(:func:`check_structure`). The file is opened once, as a regular file of at
most :data:`MAX_RUN_BYTES` (:func:`plausibly.models.files.open_regular`),
and h5py and xarray read that open file: the path is never opened again.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

from plausibly.models.errors import Problem, RunFileError
from plausibly.models.files import open_regular
from plausibly.models.settings import MAX_CHAINS, MAX_DRAWS
from plausibly.models.validate import Checker, show

__all__ = ["FIX", "MAX_OBJECTS", "MAX_RUN_BYTES", "check_structure", "read_run_file"]

#: the most data a run file may declare (the sum over its datasets and
#: attributes of their shapes times their item sizes), and the most bytes on disk:
#: 2 GiB. A run of the bundled scenario with the most draws the commands allow
#: (MAX_CHAINS chains of MAX_DRAWS) declares about 0.9 GB.
MAX_RUN_BYTES = 2 << 30
#: the most HDF5 objects (groups, datasets, attributes) a run file may hold; the
#: bundled scenario's runs hold about 430
MAX_OBJECTS = 100_000
#: the filters h5netcdf and h5py apply without a plugin (HDF5's own, and LZF)
FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 5: "nbit", 6: "scaleoffset",
           32000: "lzf"}
#: what to do about a run file that is not what plausibly writes
FIX = "save the run again with 'plausibly estimate -o'"
#: how much of a path found in a file a message quotes
_PATH = 300
_NOT_OURS = ("plausibly reads only data inside the run file: save the run again with "
             "'plausibly estimate -o'")


def read_run_file(path: Path) -> dict[str, Any]:
    """The groups of a run file, as loaded :class:`xarray.Dataset` objects, by name.

    Raises
    ------
    RunFileError
        When the path is not a regular file within the size limit, is not
        HDF5, points outside itself, declares too much, or a group cannot be
        read as NetCDF: every problem found.
    """
    fh, problems = open_regular(path, "run", MAX_RUN_BYTES)
    if fh is None:
        raise RunFileError(problems=problems)
    with fh:
        groups = check_structure(fh, str(path))
        return _load(fh, groups, str(path))


def check_structure(fh: BinaryIO, file: str) -> list[str]:
    """Check an open HDF5 file's structure without loading data; return its top groups.

    Refused, each with the HDF5 path of the object: external links, soft
    links, datasets with external storage, virtual datasets, filters other
    than :data:`FILTERS`; and in all, more than :data:`MAX_OBJECTS` objects or
    more than :data:`MAX_RUN_BYTES` of declared data.
    """
    import h5py

    try:
        root = h5py.File(fh, "r")
    except Exception as err:  # not HDF5 at all, or damaged beyond its superblock
        raise RunFileError(problems=[Problem(
            file, "", f"is not a readable NetCDF file ({type(err).__name__})",
            "give a run.nc written by 'plausibly estimate -o'")]) from None
    c = Checker(file)
    declared: dict[str, int] = {}
    with root:
        try:
            top = [name for name in root
                   if isinstance(root.get(name, getlink=True), h5py.HardLink)
                   and isinstance(root[name], h5py.Group)]
            _walk(c, root, declared)
        except Exception as err:  # damaged metadata: HDF5 raises as it meets it
            c.add("", f"is damaged: its structure cannot be read ({type(err).__name__}: "
                  f"{show(str(err), 120)})", "give a run.nc written by 'plausibly estimate -o'")
            raise RunFileError(problems=c.problems) from None
    total = sum(declared.values())
    if total > MAX_RUN_BYTES:
        largest = max(declared, key=lambda k: declared[k])
        c.add("", f"declares {total:,} bytes of data ({largest} alone {declared[largest]:,}); "
              f"a run file may declare at most {MAX_RUN_BYTES:,}",
              f"this is not a run plausibly wrote (the most it writes, {MAX_CHAINS} chains "
              f"of {MAX_DRAWS:,} draws of the bundled scenario, declares about 0.9 GB): "
              f"{FIX}")
    if c.problems:
        raise RunFileError(problems=c.problems)
    return top


def _walk(c: Checker, root: Any, declared: dict[str, int]) -> None:
    """Visit every object once, following hard links only (breadth first, in name order)."""
    import h5py

    seen: set[tuple[int, int]] = set()
    todo: deque[tuple[Any, str]] = deque([(root, "")])
    count = 0
    while todo:
        group, where = todo.popleft()
        count += _attributes(group, where or "/", declared)
        for name in group:  # names only: no link is followed
            count += 1
            if count > MAX_OBJECTS:
                c.add("", f"holds over {MAX_OBJECTS:,} HDF5 objects and attributes; a run "
                      "holds a few hundred", FIX)
                return
            key = f"{where}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                c.add(key, f"is a link to {show(link.path, _PATH)} in another file, "
                      f"{show(link.filename, _PATH)} (an HDF5 external link)", _NOT_OURS)
                continue
            if isinstance(link, h5py.SoftLink):
                c.add(key, f"is a soft link to {show(link.path, _PATH)}; plausibly writes none",
                      _NOT_OURS)
                continue
            obj = group[name]
            info = h5py.h5o.get_info(obj.id)
            if (info.fileno, info.addr) in seen:  # a second hard link to one object
                continue
            seen.add((info.fileno, info.addr))
            if isinstance(obj, h5py.Group):
                todo.append((obj, key))
            elif isinstance(obj, h5py.Dataset):
                count += _attributes(obj, key, declared)
                _dataset(c, obj, key, declared)


def _dataset(c: Checker, obj: Any, key: str, declared: dict[str, int]) -> None:
    """Where a dataset's data lives, how it is filtered, and how much it declares."""
    if obj.is_virtual:
        sources = sorted({m.file_name for m in obj.virtual_sources()})
        c.add(key, "is a virtual dataset: its data would come from "
              f"{show(', '.join(sources), _PATH)}", _NOT_OURS)
    elif obj.external:
        c.add(key, f"keeps its data outside the run file, in {show(obj.external[0][0], _PATH)} "
              "(HDF5 external storage)", _NOT_OURS)
    plist = obj.id.get_create_plist()
    for k in range(plist.get_nfilters()):
        code = plist.get_filter(k)[0]
        if code not in FILTERS:
            c.add(key, f"is compressed with HDF5 filter {code}, which plausibly does not use "
                  "(it would need a plugin)", FIX)
    declared[key] = math.prod(obj.shape or ()) * obj.dtype.itemsize


def _attributes(obj: Any, key: str, declared: dict[str, int]) -> int:
    """Add what an object's attributes declare; return how many it has."""
    n = 0
    for name in obj.attrs:
        attr = obj.attrs.get_id(name)
        declared[f"{key}@{name}"] = math.prod(attr.shape or ()) * attr.dtype.itemsize
        n += 1
    return n


def _load(fh: BinaryIO, groups: list[str], file: str) -> dict[str, Any]:
    """Load each group with xarray from the open file (every problem at once)."""
    import xarray as xr

    c = Checker(file)
    out: dict[str, Any] = {}
    for group in groups:
        fh.seek(0)
        try:
            with xr.open_dataset(fh, engine="h5netcdf", group=group) as ds:
                out[group] = ds.load()
        except Exception as err:  # h5netcdf and xarray raise many types for odd content
            c.add(group, f"cannot be read as a NetCDF group ({type(err).__name__}: "
                  f"{show(str(err), 80)})", FIX)
    if c.problems:
        raise RunFileError(problems=c.problems)
    return out
