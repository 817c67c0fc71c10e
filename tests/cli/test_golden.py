"""Golden tests: today's user-visible output, pinned byte for byte.

They exist so that a refactor of the module layout can show that nothing a
user sees has changed. Each test runs the command line (through the
``plausibly`` console script's Typer app) and compares what it prints or
writes with a file in ``tests/data/golden/``:

* ``help_<command>.txt``: ``--help`` of the app (``help_plausibly.txt``) and
  of every command, rendered 100 columns wide with no colour;
* ``<command>.json`` / ``<command>.csv``: ``--format json`` and ``--format csv``
  of estimate, compare, explain and sensitivity on Pearl's firing squad
  (``tests/data``), seeded, with few draws and ``--allow-unconverged``;
* ``run_v1.nc``: a run saved by ``estimate -o`` (with the code of the commit
  that added it). It must keep loading (``estimate --from`` gives
  ``estimate_from_run_v1.json``), and a run saved today must have its groups,
  variables, dims and attribute names (and may have more: see
  :func:`test_a_run_saved_today_has_the_structure_of_run_v1`);
* ``report.html``: the HTML report, stored with its pictures replaced by a
  placeholder (see :func:`normalise_report`), because how pictures are
  embedded may change;
* and every bundled prior set must read, write (keeping its comments) and
  read back equal (no golden file: the bundled file is the reference).

Regenerating the goldens, deliberately::

    PLAUSIBLY_REGOLD=1 uv run --frozen pytest tests/cli/test_golden.py

writes every golden file from today's output instead of comparing (the tests
then pass); review the change with ``git diff tests/data/golden``. ``run_v1.nc``
stands for the runs users already have, so it is *not* rewritten: delete it
first to make a new one. The sampled numbers are bit-identical for the same
seed in any process on one machine; a different CPU or BLAS may change them
in the last digits, and then the goldens must be regenerated there.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.resources
import os
import re
import shutil
import tomllib
from collections import Counter
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import typer.rich_utils
from typer.testing import CliRunner

DATA = Path(__file__).parents[1] / "data"
GOLDEN = DATA / "golden"
SQUAD = DATA / "firing_squad.toml"
FIXED = DATA / "firing_squad_fixed.toml"
JUDGED = DATA / "firing_squad_priors.toml"
REGOLD = os.environ.get("PLAUSIBLY_REGOLD") == "1"

#: Small, seeded and never failing on convergence: the same numbers in every process.
SAMPLING = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "1",
            "--allow-unconverged"]
#: run_v1.nc was written with these (the fewest draws: the file stays small).
RUN_V1_SAMPLING = ["--draws", "10", "--tune", "50", "--chains", "2", "--seed", "1",
                   "--allow-unconverged"]

#: A terminal that renders the same everywhere: 100 columns, no colour, no styles.
#: (Rich reads these when each console is made; None removes a variable.)
ENV: dict[str, str | None] = {
    "COLUMNS": "100", "LINES": "50", "TERM": "dumb", "NO_COLOR": "1",
    "FORCE_COLOR": None, "PY_COLORS": None, "CLICOLOR_FORCE": None, "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None, "COLORTERM": None,
}

COMMANDS = ["check", "show", "graph", "estimate", "compare", "explain", "sensitivity",
            "elicit", "report"]
MACHINE_READABLE = {
    "estimate": ["estimate", str(SQUAD), "-p", str(JUDGED)],
    "compare": ["compare", str(SQUAD), "-p", str(JUDGED), "-p", str(FIXED)],
    "explain": ["explain", str(SQUAD), "a_refrains", "-p", str(JUDGED)],
    "sensitivity": ["sensitivity", str(SQUAD), "-p", str(JUDGED)],
}
BUNDLED_PRIOR_SETS = {"contingency", "ideology", "reference", "revolution", "structure"}


def _app() -> Any:
    """The Typer app behind the ``plausibly`` console script, wherever its module lives.

    The script's own module only guards the app's import against Ctrl-C
    (``plausibly.cli.main``); the app is in the module it imports.
    """
    (script,) = entry_points(group="console_scripts", name="plausibly")
    module = importlib.import_module(script.module)
    return getattr(module, "app", None) or importlib.import_module("plausibly.cli.app").app


app = _app()
runner = CliRunner()


@pytest.fixture(autouse=True)
def _plain_help(monkeypatch):
    # Typer reads TERMINAL_WIDTH, FORCE_COLOR, PY_COLORS and GITHUB_ACTIONS once, at
    # import, into these two; undo whatever this process's environment put there.
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", None)
    monkeypatch.setattr(typer.rich_utils, "FORCE_TERMINAL", None)


def invoke(args: list[str]) -> Any:
    result = runner.invoke(app, args, env=ENV, catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def check_golden(name: str, actual: bytes) -> None:
    """Compare ``actual`` with ``tests/data/golden/<name>``, or write it with PLAUSIBLY_REGOLD=1."""
    path = GOLDEN / name
    if REGOLD:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path} is missing: make it with PLAUSIBLY_REGOLD=1"
    expected = path.read_bytes()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            actual.decode("utf-8", "replace").splitlines(keepends=True),
            f"golden/{name}", "today's output")
        shown = "".join(list(diff)[:80])
        pytest.fail(f"output differs from tests/data/golden/{name} (regenerate deliberately "
                    f"with PLAUSIBLY_REGOLD=1):\n{shown}", pytrace=False)


# ------------------------------------------------------------------------------ 1. --help


@pytest.mark.parametrize("command", ["plausibly", *COMMANDS])
def test_help(command):
    args = ["--help"] if command == "plausibly" else [command, "--help"]
    text = invoke(args).stdout
    assert invoke(args).stdout == text  # stable from one run to the next
    assert "\x1b" not in text  # no colour or style codes
    check_golden(f"help_{command}.txt", text.encode("utf-8"))


def test_the_help_goldens_cover_every_command():
    import typer.main

    assert sorted(typer.main.get_command(app).commands) == sorted(COMMANDS)


# ----------------------------------------------------------------- 2. --format json / csv


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("command", list(MACHINE_READABLE))
def test_machine_readable_output(command, fmt):
    result = invoke([*MACHINE_READABLE[command], *SAMPLING, "--format", fmt])
    check_golden(f"{command}.{fmt}", result.stdout_bytes)


# ------------------------------------------------------------------------------ 3. run.nc


def _arviz() -> Any:
    # plausibly's own arviz() helper: arviz warns about its 1.0 refactor at import,
    # and pytest turns warnings into errors
    from plausibly.models._arviz import arviz

    return arviz()


def structure(path: Path) -> dict[str, Any]:
    """What a run.nc holds, without its values: per group its sizes, variables and attributes."""
    idata = _arviz().from_netcdf(str(path), engine="h5netcdf")
    out: dict[str, Any] = {}
    for group in idata.groups():
        ds = idata[group]
        out[group] = {
            "sizes": dict(sorted(ds.sizes.items())),
            "attrs": sorted(ds.attrs),
            "coords": {k: (v.dims, v.dtype.str) for k, v in sorted(ds.coords.items())},
            "variables": {k: (v.dims, v.dtype.str, sorted(v.attrs))
                          for k, v in sorted(ds.data_vars.items())},
        }
    return out


#: dims run_v1.nc left to ArviZ's automatic names, and the names runs have had since
#: (issue #11, item 20: constant_data with named dims)
RENAMED_DIMS = {"mu_dim_0": "cell", "sigma_free_dim_0": "param"}


def renamed(part: dict[str, Any]) -> dict[str, Any]:
    """A group's structure as run_v1.nc's would be with its automatic dims named."""
    def dims(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(RENAMED_DIMS.get(d, d) for d in names)

    return {
        "sizes": {RENAMED_DIMS.get(k, k): v for k, v in part["sizes"].items()},
        "attrs": part["attrs"],
        "coords": {RENAMED_DIMS.get(k, k): (dims(d), t) for k, (d, t) in part["coords"].items()},
        "variables": {k: (dims(d), t, a) for k, (d, t, a) in part["variables"].items()},
    }


@pytest.mark.slow
def test_a_run_saved_today_has_the_structure_of_run_v1(tmp_path):
    """Everything run_v1.nc holds, a run saved today holds too (old structure ⊆ new).

    The plausibility group's layout changed with issue #12 (checked apart).
    Deliberately not equality since issue #11 (item 20): runs now also hold
    ArviZ's observed_data and log_likelihood groups, and constant_data's dims
    are named (``cell``, ``param``) where run_v1.nc has ArviZ's automatic
    ``mu_dim_0`` and ``sigma_free_dim_0`` (their coordinates were 0, 1, ...,
    now the parameters' names, so only those two coordinates differ in type).
    """
    new = tmp_path / "run.nc"
    invoke(["estimate", str(SQUAD), "-p", str(JUDGED), *RUN_V1_SAMPLING, "--format", "json",
            "-o", str(new)])
    v1 = GOLDEN / "run_v1.nc"
    if REGOLD and not v1.exists():
        shutil.copyfile(new, v1)
    old, today = structure(v1), structure(new)
    # the plausibility group changed deliberately (issue #12: every outcome, rewrite
    # apart, a per threshold, b per named term); run_v1.nc is converted on loading
    # (test_run_v1_still_loads)
    p_old, p_new = old.pop("plausibility"), today.pop("plausibility")
    assert p_new["variables"]["plausibility"][0] == ("chain", "draw", "pod", "outcome", "query")
    assert p_new["variables"]["rewrite"][0] == ("chain", "draw", "pod")
    assert p_new["variables"]["differs"] == p_old["variables"]["differs"]
    assert set(p_old["attrs"]) <= set(p_new["attrs"])
    assert set(old) <= set(today)
    assert set(today) - set(old) <= {"observed_data", "log_likelihood"}
    # sample_stats are the sampler's own: BlackJAX's since issue #15, which has none of
    # PyMC's timing, eigenvalue and energy-error statistics; the ones ArviZ reads are kept
    stats_old, stats_new = old.pop("sample_stats"), today["sample_stats"]
    kept = {"diverging", "lp", "energy", "acceptance_rate", "n_steps", "tree_depth",
            "step_size", "reached_max_treedepth"}
    assert kept <= set(stats_old["variables"]) and kept <= set(stats_new["variables"])
    assert {k: stats_old["variables"][k][:2] for k in kept} == {
        k: stats_new["variables"][k][:2] for k in kept}
    assert set(stats_old["attrs"]) <= set(stats_new["attrs"])
    assert stats_old["sizes"] == stats_new["sizes"]
    for group, part in old.items():
        was, now = renamed(part), today[group]
        assert was["sizes"] == now["sizes"], group
        assert set(was["attrs"]) <= set(now["attrs"]), group
        assert set(was["variables"]) <= set(now["variables"]), group
        for name, (dims, dtype, attrs) in was["variables"].items():
            assert now["variables"][name][:2] == (dims, dtype), (group, name)
            assert set(attrs) <= set(now["variables"][name][2]), (group, name)
        assert set(was["coords"]) <= set(now["coords"]), group
        for name, (dims, dtype) in was["coords"].items():
            named = name in RENAMED_DIMS.values() and group == "constant_data"
            assert now["coords"][name][0] == dims, (group, name)
            assert named or now["coords"][name][1] == dtype, (group, name)


def test_run_v1_still_loads():
    result = invoke(["estimate", "--from", str(GOLDEN / "run_v1.nc"), "--format", "json",
                     "--allow-unconverged"])  # 10 draws a chain: not converged
    check_golden("estimate_from_run_v1.json", result.stdout_bytes)


# ------------------------------------------------------------------------------ 4. report

#: What replaces each embedded picture, however it is embedded.
PICTURE = "[picture]"
DATA_URI = "[data-uri]"


def normalise_report(html: str) -> str:
    """The report with everything that may legitimately differ replaced by placeholders.

    1. Every picture becomes ``[picture]``: an inline ``<svg>...</svg>`` element
       (the whole element, nested ones included) or an ``<img>`` whose ``src``
       is a ``data:`` URI.
    2. Any other ``data:`` URI (say, in CSS) becomes ``[data-uri]``.
    3. The Python version in the package table becomes ``[python version]``:
       uv.lock pins every package but not Python's patch release.
    """
    # 1a. inline SVG: cut from each outermost <svg ...> to its matching </svg>
    pieces, depth, start, kept_to = [], 0, 0, 0
    for tag in re.finditer(r"<svg\b|</svg\s*>", html):
        if tag[0].startswith("<svg"):
            if depth == 0:
                start = tag.start()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                pieces += [html[kept_to:start], PICTURE]
                kept_to = tag.end()
    html = "".join([*pieces, html[kept_to:]])
    # 1b. <img src="data:..."> (in either quotes)
    html = re.sub(r"""<img\b[^>]*\bsrc\s*=\s*["']data:[^>]*>""", PICTURE, html)
    # 2. any data: URI left
    html = re.sub(r"""\bdata:[^"'()\s<>]+""", DATA_URI, html)
    # 3. the Python version
    return re.sub(r"<tr><td>python</td><td>[^<]*</td></tr>",
                  "<tr><td>python</td><td>[python version]</td></tr>", html)


def test_normalise_report_replaces_pictures_only():
    html = ('<p>a</p><figure><svg role="img" width="1pt"><svg><g/></svg>'
            '<image xlink:href="data:image/png;base64,iVBO+/="/></svg><figcaption>c'
            '</figcaption></figure><img alt="x" src="data:image/svg+xml;base64,PHN2Zz4=">'
            "<style>b{background:url(data:image/png;base64,AAAA)}</style>"
            "<tr><td>python</td><td>3.11.7</td></tr><tr><td>pymc</td><td>5.1</td></tr>")
    assert normalise_report(html) == (
        "<p>a</p><figure>[picture]<figcaption>c</figcaption></figure>[picture]"
        "<style>b{background:url([data-uri])}</style>"
        "<tr><td>python</td><td>[python version]</td></tr><tr><td>pymc</td><td>5.1</td></tr>")


@pytest.mark.slow
def test_report(tmp_path, monkeypatch):
    # relative paths, as a user types them: the report shows them (and their sha256)
    for f in (SQUAD, JUDGED, FIXED):
        shutil.copyfile(f, tmp_path / f.name)
    monkeypatch.chdir(tmp_path)
    invoke(["report", SQUAD.name, "-p", JUDGED.name, "-p", FIXED.name, *SAMPLING,
            "-o", "report.html"])
    html = (tmp_path / "report.html").read_text("utf-8")
    check_golden("report.html", normalise_report(html).encode("utf-8"))


# --------------------------------------------------------------- 5. prior sets round trip


def comment_lines(text: str) -> list[str]:
    """The lines of a TOML text that are comments, found without any comment parser.

    A line starting with ``#`` is a comment exactly when deleting it leaves the
    parsed TOML the same (inside a multi-line string it is text, and deleting
    it changes the string or breaks the file).
    """
    data = tomllib.loads(text)
    lines = text.split("\n")
    found = []
    for k, line in enumerate(lines):
        if not line.lstrip().startswith("#"):
            continue
        try:
            same = tomllib.loads("\n".join(lines[:k] + lines[k + 1:])) == data
        except tomllib.TOMLDecodeError:
            same = False
        if same:
            found.append(line.rstrip())
    return found


def bundled_prior_set_files() -> dict[str, Path]:
    folder = importlib.resources.files("plausibly.priors")
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".toml")}


@pytest.mark.parametrize("name", [*sorted(BUNDLED_PRIOR_SETS),
                                  *(f"v1/{n}" for n in sorted(BUNDLED_PRIOR_SETS))])
def test_bundled_prior_set_reads_writes_and_reads_back_equal(name, tmp_path):
    """Today's bundled sets (version 2) and, as fixtures, the version 1 sets they replaced."""
    from plausibly.models.scenario import load_scenario
    from plausibly.priors.elicitation import load_prior_set
    from plausibly.priors.toml_writer import save_prior_set

    assert set(bundled_prior_set_files()) == BUNDLED_PRIOR_SETS
    if name.startswith("v1/"):
        original = DATA / "v1" / "priors" / f"{name[3:]}.toml"
        scenario = load_scenario(DATA / "v1" / "ussr_1930.toml")
    else:
        original = bundled_prior_set_files()[name]
        scenario = load_scenario(tomllib.loads(original.read_text("utf-8"))["scenario"])
    text = original.read_text("utf-8")
    first = load_prior_set(original, scenario)
    written = tmp_path / original.name
    save_prior_set(written, first, text)  # edits the file's text: its comments are kept
    assert written.read_text("utf-8") == text  # nothing changed: nothing to rewrite
    second = load_prior_set(written, scenario)
    assert replace(second, path=None) == replace(first, path=None)
    assert list(second.nodes) == list(first.nodes)
    comments = comment_lines(text)
    assert len(comments) > 10  # reference (version 2) has 13: a header and no headings
    out_lines = Counter(line.rstrip() for line in written.read_text("utf-8").split("\n"))
    missing = Counter(comments) - out_lines
    assert not missing, f"comment lines lost in the rewrite: {sorted(missing)}"
