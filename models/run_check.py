"""A loaded run file, checked as strictly as a scenario: every problem at once.

:func:`run_from_groups` turns the groups of a run file (see
:mod:`plausibly.models.run_file`) into a :class:`~plausibly.models.results.Run`,
or raises one :class:`~plausibly.models.errors.RunFileError` listing every
problem: an attribute missing or of the wrong type; a saved scenario that
cannot be read (too long, nested too deeply, a number too long, or not a
valid scenario); a variable missing, with the wrong dims, not numbers, not
finite or out of its range; no chains or no draws; PODs, events or causes
that are not the saved scenario's (which would print one POD's numbers under
another's name). Keys are ``plausibility.attrs.NAME`` for the run's
attributes and ``GROUP.NAME`` for variables and coordinates. What plausibly
does not read (other attributes, variables and groups) is left alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from plausibly.models.diagnostics import Diagnostics
from plausibly.models.errors import PlausiblyError, Problem, RunFileError
from plausibly.models.files import MAX_FILE_BYTES, parse_toml
from plausibly.models.results import QUERIES, Groups, Run, outcome_names, padded_terms
from plausibly.models.run_file import FIX
from plausibly.models.scenario import HISTORY_ROW, Scenario, parse_scenario
from plausibly.models.validate import Checker, show, type_name

__all__ = ["GROUP", "run_from_groups"]

GROUP = "plausibility"
_ATTRS = f"{GROUP}.attrs"
_SHA256 = re.compile(r"^(?:[0-9a-f]{64})?$")
#: answers may miss their range by rounding, not more
_SLACK = 1e-9


def run_from_groups(groups: Mapping[str, Any], file: str) -> Run:
    """The run a file's groups hold, every problem found raised at once.

    Raises
    ------
    RunFileError
        With one problem per thing wrong (see the module's docstring).
    """
    if GROUP not in groups:
        raise RunFileError(problems=[Problem(
            file, "", f"has no '{GROUP}' group: it was not written by plausibly estimate -o",
            "give a run.nc written by 'plausibly estimate -o'")])
    ds = groups[GROUP]
    c = Checker(file)
    attrs = {str(k): _plain(v) for k, v in ds.attrs.items()}
    texts = {k: _text(c, attrs, k) for k in ("plausibly_version", "scenario", "priors",
                                              "priors_name")}
    for k in ("scenario_sha256", "priors_sha256"):
        _text(c, attrs, k, pattern=_SHA256, empty=True,
              what="the hex sha256 of a file, or empty")
    seed = _integer(c, attrs, "seed", 0)
    numbers = [_number(c, attrs, k) for k in ("r_hat_max", "ess_bulk_min", "ess_tail_min")]
    divergences = _integer(c, attrs, "divergences", 0)
    exact = _integer(c, attrs, "exact", 0, 1)
    scenario = _scenario(c, attrs, file)
    if scenario is not None and texts["scenario"] not in (None, scenario.id):
        c.add(f"{_ATTRS}.scenario", f"names scenario {show(texts['scenario'])}, but the saved "
              f"scenario is {show(scenario.id)}", FIX)
    _draws(c, ds, scenario)
    if "posterior" in groups:
        _posterior(c, groups["posterior"], ds)
    if c.problems:
        raise RunFileError(problems=c.problems)
    assert scenario is not None and seed is not None and divergences is not None
    assert exact is not None and all(x is not None for x in numbers)
    r_hat, bulk, tail = (float(x) for x in numbers if x is not None)
    diag = Diagnostics(r_hat, bulk, tail, divergences, bool(exact))
    others = {g: data for g, data in groups.items() if g != GROUP}
    params = Groups(**others) if others else None
    if _layout(ds) == 1:
        ds = _upgrade(ds, scenario, file)
    return Run(scenario, str(texts["priors"]), str(texts["priors_name"]), ds, diag, seed,
               params, attrs)


def _plain(value: Any) -> Any:
    """An attribute as Python: numpy scalars and one-element arrays unwrapped."""
    if isinstance(value, np.ndarray):
        return value.reshape(-1)[0].item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _present(c: Checker, attrs: Mapping[str, Any], name: str) -> bool:
    if name in attrs:
        return True
    c.add(f"{_ATTRS}.{name}", "is missing", FIX)
    return False


def _text(c: Checker, attrs: Mapping[str, Any], name: str, *, pattern: re.Pattern[str] | None
          = None, empty: bool = False, what: str = "a string") -> str | None:
    if not _present(c, attrs, name):
        return None
    value = attrs[name]
    if isinstance(value, str) and not empty and not value.strip():
        c.add(f"{_ATTRS}.{name}", "is empty", FIX)
        return None
    ok = isinstance(value, str)
    if ok and pattern is not None:
        ok = pattern.match(value) is not None
    if not ok:
        c.add(f"{_ATTRS}.{name}", f"must be {what}, got {show(value)} ({type_name(value)})", FIX)
        return None
    return str(value)


def _integer(c: Checker, attrs: Mapping[str, Any], name: str, low: int,
             high: int | None = None) -> int | None:
    if not _present(c, attrs, name):
        return None
    value = attrs[name]
    if isinstance(value, bool):
        value = int(value)
    span = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    if (not isinstance(value, int) or value < low
            or (high is not None and value > high)):
        c.add(f"{_ATTRS}.{name}", f"must be {span}, got {show(value)} ({type_name(value)})",
              FIX)
        return None
    return value


def _number(c: Checker, attrs: Mapping[str, Any], name: str) -> float | None:
    """A diagnostic: a number >= 0, or NaN (not computed, as for an exact run)."""
    if not _present(c, attrs, name):
        return None
    value = attrs[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            not math.isnan(value) and not 0 <= value < math.inf):
        c.add(f"{_ATTRS}.{name}", f"must be a number >= 0 (or NaN), got {show(value)} "
              f"({type_name(value)})", FIX)
        return None
    return float(value)


def _scenario(c: Checker, attrs: Mapping[str, Any], file: str) -> Scenario | None:
    """The saved scenario, read as strictly as a scenario file."""
    key = f"{_ATTRS}.scenario_toml"
    text = _text(c, attrs, "scenario_toml", what="the scenario's TOML text")
    if text is None:
        return None
    if len(text) > MAX_FILE_BYTES:
        c.add(key, f"is {len(text):,} characters; a scenario is at most {MAX_FILE_BYTES:,} "
              "bytes", FIX)
        return None
    data, problems = parse_toml(text, file, "scenario")
    for p in problems:
        c.add(key, p.message, p.fix)
    if data is None:
        return None
    try:
        return parse_scenario(data, file=f"{file}:scenario")
    except PlausiblyError as err:
        c.problems.extend(err.problems)
        return None


def _layout(ds: Any) -> int:
    """Which plausibly wrote the answers: 1 (one outcome; rewrite a query) or 2."""
    return 1 if "outcome" not in ds.dims and "rewrite" not in ds.data_vars else 2


def _draws(c: Checker, ds: Any, scenario: Scenario | None) -> None:
    """The per-draw answers and mechanism: dims, coordinates, values."""
    for dim in ("chain", "draw"):
        if ds.sizes.get(dim, 0) == 0:
            c.add(f"{GROUP}.{dim}", f"is empty: the run has no {dim}s"
                  if dim in ds.sizes else f"is missing: the run has no {dim}s", FIX)
    n = len(scenario.order) if scenario is not None else math.inf
    if _layout(ds) == 1:
        _draws_v1(c, ds, n)
    else:
        plaus = _values(c, ds, "plausibility", ("chain", "draw", "pod", "outcome", "query"))
        if plaus is not None:
            for q, name in enumerate(QUERIES):
                _range(c, ds, "plausibility", plaus[..., q], 0.0, 1.0, name, q)
        rewrite = _values(c, ds, "rewrite", ("chain", "draw", "pod"))
        if rewrite is not None:
            _range(c, ds, "rewrite", rewrite, 0.0, n)
        if "pod_chance" in ds.data_vars:  # absent from runs saved before it existed
            chance = _values(c, ds, "pod_chance", ("chain", "draw", "pod"))
            if chance is not None:
                _range(c, ds, "pod_chance", chance, 0.0, 1.0)
        if "a" in ds.data_vars:
            _values(c, ds, "a", ("chain", "draw", "event", "threshold"))
        if "b" in ds.data_vars:
            _values(c, ds, "b", ("chain", "draw", "event", "term_slot"))
        _labels(c, ds, "query", list(QUERIES), "the two queries, in this order")
        if scenario is not None:
            _labels(c, ds, "outcome", outcome_names(scenario),
                    f"the saved scenario's outcomes, the headline first "
                    f"({', '.join(outcome_names(scenario))})")
    differs = _values(c, ds, "differs", ("chain", "draw", "pod", "event"))
    if differs is not None:
        _range(c, ds, "differs", differs, 0.0, 1.0)
    if scenario is None:
        return
    pods = _strings(c, ds, "pod")
    if pods is not None:
        known = [p.id for p in scenario.pods]
        if not pods or pods[0] != HISTORY_ROW:
            c.add(f"{GROUP}.pod", f"must start with {show(HISTORY_ROW)}, got "
                  f"{show(pods[:1])}", FIX)
        for pod in pods[1:]:
            if pod not in known:
                c.add(f"{GROUP}.pod", f"{show(pod)} is not a POD of the saved scenario "
                      f"{show(scenario.id)} (its PODs: {', '.join(known)})", FIX)
        if len(set(pods)) != len(pods):
            c.add(f"{GROUP}.pod", f"names a POD twice: {show(pods)}", FIX)
    _labels(c, ds, "event", list(scenario.order),
            f"the saved scenario's events in time order ({', '.join(scenario.order)})")
    names, slot = ("cause", "cause_slot") if _layout(ds) == 1 else ("term", "term_slot")
    if names in ds.coords and slot in ds.sizes:
        width = ds.sizes[slot]
        want = (padded_terms(scenario, width) if names == "term" else
                [[*scenario.parents[x], *[""] * (width - len(scenario.parents[x]))]
                 for x in scenario.order])
        got = _strings(c, ds, names)
        if got is not None and (ds[names].dims != ("event", slot) or got != want):
            what = "causes" if names == "cause" else "terms"
            c.add(f"{GROUP}.{names}", f"does not list each event's {what} in the saved "
                  "scenario's order", FIX)
    if _layout(ds) == 2 and "a" in ds.data_vars and "threshold" in ds.sizes:
        want_t = max(len(scenario.node(x).states) for x in scenario.order) - 1
        if ds.sizes["threshold"] != want_t:
            c.add(f"{GROUP}.threshold", f"has {ds.sizes['threshold']} thresholds; the saved "
                  f"scenario's events have up to {want_t}", FIX)


#: version 1's queries: the last axis of its ``plausibility``
_V1_QUERIES = ("interventional", "counterfactual", "rewrite")


def _draws_v1(c: Checker, ds: Any, n: float) -> None:
    """Version 1's answers: plausibility (chain, draw, pod, query) with rewrite a query."""
    plaus = _values(c, ds, "plausibility", ("chain", "draw", "pod", "query"))
    if plaus is not None:
        for q, (name, high) in enumerate(zip(_V1_QUERIES, (1.0, 1.0, n), strict=True)):
            _range(c, ds, "plausibility", plaus[..., q], 0.0, high, name, q)
    if "a" in ds.data_vars:
        _values(c, ds, "a", ("chain", "draw", "event"))
    if "b" in ds.data_vars:
        _values(c, ds, "b", ("chain", "draw", "event", "cause_slot"))
    _labels(c, ds, "query", list(_V1_QUERIES), "the three queries, in this order")


def _upgrade(ds: Any, scenario: Scenario, file: str) -> Any:
    """A version 1 run's answers in today's layout (a new dataset).

    Sound because a version 1 scenario has one outcome (its yes/no outcome
    event), yes/no events only and one term per cause, named by the cause:
    the numbers mean exactly what they meant. A version 1 layout whose saved
    scenario uses version 2 features cannot have been written by plausibly
    and is refused.
    """
    import xarray as xr

    if len(scenario.outcomes) != 1 or not all(
            scenario.node(x).states == ("no", "yes") for x in scenario.order):
        raise RunFileError(problems=[Problem(
            file, f"{GROUP}.plausibility", "has version 1's layout (one outcome, rewrite a "
            "query), but the saved scenario has several outcomes or events with states", FIX)])
    plaus = ds["plausibility"]
    out = ds.drop_vars(["plausibility", "query"] + [v for v in ("a", "b", "cause")
                                                    if v in ds.variables])
    out = out.assign(
        plausibility=plaus.isel(query=[0, 1]).drop_vars("query")
        .expand_dims(outcome=np.array(outcome_names(scenario), dtype=str), axis=3)
        .transpose("chain", "draw", "pod", "outcome", "query"),
        rewrite=plaus.isel(query=2, drop=True))
    out = out.assign_coords(query=list(QUERIES))
    if "a" in ds.data_vars:
        out = out.assign(a=ds["a"].expand_dims(threshold=[1], axis=3))
    if "b" in ds.data_vars:
        b = ds["b"].drop_vars("cause", errors="ignore").rename(cause_slot="term_slot")
        out = out.assign(b=b)
        out = out.assign_coords(term=(("event", "term_slot"),
                                      ds["cause"].values if "cause" in ds.coords else
                                      padded_terms(scenario, ds.sizes["cause_slot"])))
    if "cause_slot" in out.coords:
        out = out.drop_vars("cause_slot")
    if "b" in out.data_vars:
        out = out.assign_coords(term_slot=np.arange(out.sizes["term_slot"]))
    return xr.Dataset(out.data_vars, coords=out.coords, attrs=ds.attrs)


def _values(c: Checker, ds: Any, name: str, dims: tuple[str, ...]) -> np.ndarray | None:
    """A variable's values as floats, if it exists with these dims, numbers, all finite."""
    key = f"{GROUP}.{name}"
    if name not in ds.data_vars:
        c.add(key, "is missing", FIX)
        return None
    v = ds[name]
    if v.dims != dims:
        c.add(key, f"has dims ({', '.join(map(str, v.dims))}), not ({', '.join(dims)})", FIX)
        return None
    if v.dtype.kind not in "fiu":
        c.add(key, f"must hold numbers, holds {v.dtype}", FIX)
        return None
    x = np.asarray(v.values, dtype=float)
    bad = ~np.isfinite(x)
    if bad.any():
        c.add(key, f"holds {int(bad.sum()):,} values that are not finite numbers (NaN or "
              f"infinite), the first at {_at(v, np.argwhere(bad)[0])}", FIX)
        return None
    return x


def _range(c: Checker, ds: Any, name: str, x: np.ndarray, low: float, high: float,
           what: str = "", query: int | None = None) -> None:
    out = (x < low - _SLACK) | (x > high + _SLACK)
    if out.any():
        first = np.argwhere(out)[0]
        v = ds[name] if query is None else ds[name].isel(query=query)
        span = f"[{low:g}, {high:g}]"
        c.add(f"{GROUP}.{name}", f"holds {int(out.sum()):,} {what + ' ' if what else ''}values "
              f"outside {span}, the first {x[tuple(first)]:g} at {_at(v, first)}", FIX)


def _at(v: Any, index: np.ndarray) -> str:
    """Where in a variable an element is: each dim with its coordinate (or position)."""
    parts = []
    for dim, i in zip(v.dims, index, strict=True):
        label = v[dim].values[i] if dim in v.coords else i
        parts.append(f"{dim} {show(label.item() if isinstance(label, np.generic) else label)}")
    return ", ".join(parts)


def _strings(c: Checker, ds: Any, name: str) -> list[Any] | None:
    if name not in ds.coords:
        c.add(f"{GROUP}.{name}", "is missing", FIX)
        return None
    values = ds[name].values.tolist()
    flat = values if ds[name].ndim == 1 else [x for row in values for x in row]
    if not all(isinstance(x, str) for x in flat):
        c.add(f"{GROUP}.{name}", f"must hold names, got {show(flat)}", FIX)
        return None
    return list(values)


def _labels(c: Checker, ds: Any, name: str, want: list[str], what: str) -> None:
    got = _strings(c, ds, name)
    if got is not None and got != want:
        shown = ", ".join(show(x, 40) for x in got[:30]) + (", ..." if len(got) > 30 else "")
        c.add(f"{GROUP}.{name}", f"is {shown or 'empty'}; it must be {what}", FIX)


def _posterior(c: Checker, posterior: Any, ds: Any) -> None:
    """The sampled parameters: as many chains and draws as the answers, all finite."""
    for dim in ("chain", "draw"):
        if dim in ds.sizes and posterior.sizes.get(dim) != ds.sizes[dim]:
            c.add(f"posterior.{dim}", f"has {posterior.sizes.get(dim, 0)} {dim}s where "
                  f"{GROUP} has {ds.sizes[dim]}", FIX)
    for name, v in posterior.data_vars.items():
        if v.dtype.kind == "f" and not np.isfinite(v.values).all():
            c.add(f"posterior.{name}", "holds values that are not finite numbers (NaN or "
                  "infinite)", FIX)
