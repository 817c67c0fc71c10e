"""Find and check input files: scenarios and prior sets, bundled or the user's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plausibly.models.errors import PlausiblyError, Problem
from plausibly.models.files import read_toml
from plausibly.models.scenario import (
    Scenario,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
)
from plausibly.models.validate import SNAKE, show
from plausibly.priors.elicitation import PriorSet, bundled_prior_sets, parse_prior_set
from plausibly.priors.fit import FittedPriors, fit_prior_set

__all__ = ["CheckResult", "check_files", "load_prior_sets"]


@dataclass(frozen=True)
class CheckResult:
    """What checking one file found."""

    file: str
    kind: str  # "scenario", "prior set" or "unknown"
    summary: str = ""
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    unjudged: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the file has no problem."""
        return not self.problems


def _scenario_summary(s: Scenario) -> str:
    soft = sum(p.soft for p in s.pods)
    gates = sum(e.gate for e in s.edges)
    out = sum(p.scope == "out" for p in s.pods)
    # version 2's parts are named only when the file uses them
    edges = f"{len(s.edges)} edges" + (f" ({gates} gate{'s' if gates != 1 else ''})"
                                       if gates else "")
    extra = (f", {len(s.interactions)} interaction{'s' if len(s.interactions) != 1 else ''}"
             if s.interactions else "")
    extra += f", {len(s.outcomes)} outcomes" if len(s.outcomes) > 1 else ""
    pods = f"{soft} soft" + (f", {out} out of scope" if out else "")
    return (f"scenario {s.id}: {len(s.nodes)} events ({s.nodes[0].year}-{s.nodes[-1].year}), "
            f"{edges}{extra}, {len(s.pods)} PODs ({pods}), "
            f"{len(s.data)} data row{'s' if len(s.data) != 1 else ''}")


def _is_scenario(data: Mapping[str, Any]) -> bool:
    """Whether a file reads as a scenario (one missing its outcome still does)."""
    return "outcome" in data or "outcomes" in data or ("nodes" in data and "scenario" not in data)


def _shown(path: Path, bundled: Mapping[str, Path]) -> str:
    """A bundled file as a user can open it: its real path, relative to here if below.

    An editable install reaches the package's files through a tree of links
    (``build/__editable__...``); the link's own path means nothing to a user.
    """
    if path not in bundled.values():
        return str(path)
    real = path.resolve()
    try:
        return str(real.relative_to(Path.cwd()))
    except ValueError:
        return str(real)


def check_files(paths: Sequence[str | Path] = ()) -> list[CheckResult]:
    """Check scenario and prior-set files (or bundled ids); with none, every bundled file.

    A file with an ``outcome`` or ``outcomes`` key (or ``nodes`` but no
    ``scenario``) is read as a scenario, one with a ``scenario`` key as a
    prior set (checked against that scenario: one of the files given, or a
    bundled one).
    """
    scenario_files, prior_files = bundled_scenarios(), bundled_prior_sets()
    bundled = {**scenario_files, **prior_files}
    if not paths:
        paths = [*sorted(scenario_files.values()), *sorted(prior_files.values())]
    raw = []
    for p in paths:
        # a bare bundled id names the bundled file, as in every other command (bundled_path)
        path = bundled.get(str(p), Path(p))
        data, problems = read_toml(path, "scenario or prior set")
        raw.append((_shown(path, bundled), data, problems))
    scenarios: dict[str, Scenario] = {}
    broken: set[str] = set()  # ids of scenarios given here that have problems
    results: dict[str, CheckResult] = {}
    for name, data, problems in raw:  # scenarios first: prior sets refer to them
        if data is not None and _is_scenario(data):
            try:
                s = parse_scenario(data, file=name)
            except PlausiblyError as err:
                results[name] = CheckResult(name, "scenario", problems=err.problems)
                if isinstance(data.get("id"), str):
                    broken.add(data["id"])
            else:
                scenarios[s.id] = s
                results[name] = CheckResult(name, "scenario", _scenario_summary(s))
        elif data is None:
            results[name] = CheckResult(name, "unknown", problems=tuple(problems))
    for name, data, _ in raw:
        if name in results or data is None:
            continue
        if "scenario" not in data:
            results[name] = CheckResult(name, "unknown", problems=(Problem(
                name, "", "is neither a scenario (no 'outcome' key) nor a prior set "
                "(no 'scenario' key)", "see the README for both file formats"),))
            continue
        sid = data["scenario"]
        problem = None
        if not isinstance(sid, str) or not SNAKE.match(sid):
            problem = Problem(name, "scenario", f"must be a scenario id, got {show(sid)}",
                              'write the id of the scenario, e.g. scenario = "ussr_1930"')
        elif sid in broken:
            problem = Problem(name, "scenario", f"names scenario '{sid}', given on this command "
                              "line but with problems of its own (above)",
                              "fix the scenario first; then this prior set is checked")
        elif sid not in scenarios and sid not in bundled_scenarios():
            problem = Problem(name, "scenario", f"names scenario '{sid}', which is neither "
                              "given here nor bundled", "give its scenario file on the same "
                              "command line, or correct the id")
        if problem is not None:
            results[name] = CheckResult(name, "prior set", problems=(problem,))
            continue
        try:
            scenario = scenarios.get(sid) or load_scenario(sid)
            priors = parse_prior_set(data, scenario, file=name)
            fitted = fit_prior_set(priors, scenario)
        except PlausiblyError as err:
            results[name] = CheckResult(name, "prior set", problems=err.problems)
            continue
        unjudged = fitted.unjudged()
        total = fitted.parameters
        results[name] = CheckResult(
            name, "prior set",
            f"prior set {priors.id} for {scenario.id}: judges {total - len(unjudged)} of "
            f"{total} parameters", warnings=tuple(fitted.warnings), unjudged=tuple(unjudged))
    return [results[name] for name, _, _ in raw]


def load_prior_sets(scenario: Scenario, names: Sequence[str | Path] | None = None
                    ) -> list[tuple[PriorSet, FittedPriors]]:
    """Read and fit prior sets for ``scenario``; by default every bundled set for it.

    Problems in all the files are collected and raised together.
    """
    from plausibly.models.errors import ElicitationError
    from plausibly.priors.elicitation import load_prior_set

    if not names:
        names = []
        for path in sorted(bundled_prior_sets().values()):
            data, _ = read_toml(path, "prior set")
            if data is not None and data.get("scenario") == scenario.id:
                names.append(path)
        if not names:
            raise ElicitationError(problems=[Problem(
                scenario.path or scenario.id, "", "no bundled prior set is for this scenario",
                "name prior-set files with -p (write one with 'plausibly elicit')")])
    out: list[tuple[PriorSet, FittedPriors]] = []
    problems: list[Problem] = []
    for name in names:
        try:
            ps = load_prior_set(name, scenario)
            out.append((ps, fit_prior_set(ps, scenario)))
        except PlausiblyError as err:
            problems.extend(err.problems)
    ids = [ps.id for ps, _ in out]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(Problem(str(dup), "id", f"two prior sets have the id '{dup}'",
                                "give each prior set its own id"))
    if problems:
        raise ElicitationError(problems=problems)
    return out
