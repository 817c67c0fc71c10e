"""The notebooks run top to bottom, and are stored clean.

Each notebook runs in its own kernel (the interpreter running the tests, via
the "python3" kernel spec), with the notebooks folder as working directory,
tiny sampling settings and matplotlib's Agg backend. The three kernels run
concurrently: most of the time is spent importing and compiling the sampler,
once per kernel.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("01_quickstart.ipynb", "02_compare_experts.ipynb", "03_your_own_scenario.ipynb")
FAST = {"PLAUSIBLY_NB_DRAWS": "100", "PLAUSIBLY_NB_TUNE": "100", "MPLBACKEND": "Agg"}


def test_notebooks_are_stored_without_outputs():
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        for k, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{name} cell {k} has outputs: clear them"
                assert cell.execution_count is None, f"{name} cell {k} has an execution count"


def test_notebooks_read_their_settings_from_the_environment():
    for name in NAMES:
        text = (NOTEBOOKS / name).read_text("utf-8")
        assert "PLAUSIBLY_NB_DRAWS" in text and "PLAUSIBLY_NB_TUNE" in text, name


async def _run_all(out: Path) -> dict[str, nbformat.NotebookNode]:
    from nbclient import NotebookClient

    env = {**os.environ, **FAST}

    async def run(name: str) -> nbformat.NotebookNode:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        await client.async_execute(env=env)
        nbformat.write(nb, out / name)  # for a look when a test fails
        return nb

    done = await asyncio.gather(*(run(n) for n in NAMES))
    return dict(zip(NAMES, done, strict=True))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    return out, asyncio.run(_run_all(out))


def _outputs(nb: nbformat.NotebookNode) -> tuple[str, int, list[str], list[str]]:
    """All text shown, the number of images, the errors and what went to stderr."""
    text, images, errors, stderr = [], 0, [], []
    for k, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                errors.append(f"cell {k}: {o.ename}: {o.evalue}\n" + "\n".join(o.traceback))
            elif o.output_type == "stream":
                (stderr if o.name == "stderr" else text).append(o.text)
            else:
                data = o.get("data", {})
                text.append(data.get("text/plain", ""))
                images += "image/png" in data
    return "\n".join(text), images, errors, stderr


EXPECTED = {
    "01_quickstart.ipynb": (5, [
        "outcome: regime_1930",
        "Contingency optimists",
        "max R-hat",
        "sampled parameters",
        "counterfactual",
        "history",
        "milder_civil_war",
        "{'chain': 2, 'draw': ",  # one outcome and one query selected: (chain, draw, pod)
        "b's terms of monopoly_1921: ['representative_tradition', 'broad_coalition=left_sr'",
        "same draws: True",
    ]),
    "02_compare_experts.ipynb": (1, [
        "contingency", "ideology", "structure", "revolution", "reference",
        "P(monopoly_1921 | soviet_state=no)",
        "P(regime_1930>=several_parties | POD, history)",
        "linear pool",
        "history",
        "posterior weight",
        "log: mean",
        "prior psens",
        "Across the posterior draws it goes most with",
    ]),
    "03_your_own_scenario.ipynb": (1, [
        "ScenarioError: 4 problems",
        "unknown node 'slipery' (did you mean 'slippery'?)",
        "runs backwards in time",
        "a POD may not set the outcome itself",
        "ElicitationError: 3 problems",
        "must be strictly increasing",
        "warning: wet_grass.base",
        "no_rain",
        "max R-hat",
    ]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(executed, name):
    out, notebooks = executed
    text, images, errors, stderr = _outputs(notebooks[name])
    assert not errors, f"{name} (executed copy in {out}):\n" + "\n\n".join(errors)
    assert not stderr, f"{name} wrote to stderr (executed copy in {out}):\n" + "".join(stderr)
    least_images, phrases = EXPECTED[name]
    assert images >= least_images, f"{name}: {images} images, expected {least_images}+"
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{name}: not in the outputs: {missing} (executed copy in {out})"
