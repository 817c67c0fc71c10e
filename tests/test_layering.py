"""The code's shape, guarded: imports run cli -> priors -> models, never back.

Inside ``models/`` the tiers of ARCHITECTURE.md hold: nothing below the
sampler imports PyMC or PyTensor, and the light modules (what ``check``,
``show`` and ``graph`` need) import neither numpy's heavy friends nor arviz.
The checks read the source with :mod:`ast`, so an import hidden inside a
function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"models": "plausibly.models", "priors": "plausibly.priors", "cli": "plausibly.cli"}

#: the only modules that may import pymc or pytensor
SAMPLER = {"models/pymc_model.py", "models/pymc_chain.py", "models/sampling.py"}
#: the only module that may import jax or blackjax
JAX = {"models/nuts.py"}
#: tier 0: the standard library and the package's own tier-0 modules only
TIER0 = {"errors", "settings", "validate", "files", "outputs", "graph", "scenario",
         "scenario_reader", "scenario_rules", "lazy", "__init__"}
MODULE_LIMIT = 500  # lines; ARCHITECTURE.md says "about 400"


def _modules() -> list[Path]:
    return sorted(p for d in PACKAGES for p in (ROOT / d).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize(("package", "forbidden"), [
    ("models", ("plausibly.priors", "plausibly.cli")),
    ("priors", ("plausibly.cli",)),
])
def test_imports_run_one_way(package, forbidden):
    bad = {_rel(p): sorted(m for m in _imports(p) if m.startswith(forbidden))
           for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_only_the_sampler_imports_pymc_or_pytensor():
    heavy = ("pymc", "pytensor")
    users = {_rel(p) for p in _modules()
             if any(m.split(".")[0] in heavy for m in _imports(p))}
    assert users <= SAMPLER, users - SAMPLER


def test_only_the_nuts_module_imports_jax():
    users = {_rel(p) for p in _modules()
             if any(m.split(".")[0] in ("jax", "blackjax") for m in _imports(p))}
    assert users <= JAX, users - JAX


def test_tier_zero_modules_import_only_the_standard_library():
    stdlib = set(sys.stdlib_module_names)
    for name in TIER0:
        path = ROOT / "models" / f"{name}.py"
        outside = {m for m in _imports(path)
                   if m.split(".")[0] not in stdlib and m.split(".")[0] != "plausibly"}
        assert outside == set(), (name, outside)
        inner = {m.split(".")[2] for m in _imports(path)
                 if m.startswith("plausibly.models.") and len(m.split(".")) > 2}
        assert inner <= TIER0, (name, inner - TIER0)


def test_no_module_is_a_grab_bag():
    long = {_rel(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > MODULE_LIMIT}
    assert long == {}


def test_public_names_are_visible_to_type_checkers():
    """Each lazy package __init__ has a stub naming the same exports."""
    for package in ("models", "priors", "models/plots"):
        init = (ROOT / package / "__init__.py").read_text()
        stub = ROOT / package / "__init__.pyi"
        if "lazy_exports" not in init:
            continue
        assert stub.exists(), f"{package}/__init__.pyi is missing"
        exported = set(ast.literal_eval(init.split("_EXPORTS = ", 1)[1].split("\n}\n")[0] + "\n}"))
        stubbed = {a.asname for n in ast.parse(stub.read_text()).body
                   if isinstance(n, ast.ImportFrom) for a in n.names}
        assert exported == stubbed, package


def test_light_commands_import_no_sampler_nor_arviz():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom plausibly.cli.app import app\n"
            "for args in (['check'], ['show'], ['graph'], ['--help'], ['compare', '--help']):\n"
            "    CliRunner().invoke(app, args)\n"
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'xarray', 'matplotlib', "
            "'scipy', 'networkx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
