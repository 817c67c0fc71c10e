"""The type check sees across modules: a wrong call between plausibly's modules fails it.

The project is installed as a tree of links (setuptools' strict editable mode,
``[tool.uv]`` in pyproject.toml) so that mypy can follow ``plausibly.*``
imports through the package-dir mapping. Were it to fall back to an import
hook, every project import would silently become ``Any`` and these planted
errors would pass.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for this module's runs: the project is analysed once, not per test."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, cache: Path, source: str) -> tuple[str, int]:
    planted = tmp_path / "planted.py"
    planted.write_text(textwrap.dedent(source))
    out, err, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                     "--cache-dir", str(cache), str(planted)])
    return out + err, status


def test_mypy_rejects_a_wrong_call_into_another_module(tmp_path, cache):
    out, status = _mypy(tmp_path, cache, """
        from plausibly.models.graph import find_cycle

        find_cycle({"a": ["b"]}, "one argument too many")
    """)
    assert status == 1, out
    assert 'Too many arguments for "find_cycle"' in out


def test_mypy_rejects_a_missing_attribute_of_another_modules_type(tmp_path, cache):
    out, status = _mypy(tmp_path, cache, """
        from plausibly.models.scenario import load_scenario

        scenario = load_scenario("ussr_1930")
        print(scenario.no_such_field)
    """)
    assert status == 1, out
    assert '"Scenario" has no attribute "no_such_field"' in out


def test_mypy_accepts_correct_calls(tmp_path, cache):
    out, status = _mypy(tmp_path, cache, """
        from plausibly.models.graph import find_cycle
        from plausibly.models.scenario import load_scenario

        scenario = load_scenario("ussr_1930")
        print(find_cycle(scenario.parents), scenario.title)
    """)
    assert status == 0, out
