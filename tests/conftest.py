"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def second_fixed(tmp_path) -> str:
    """Another fixed prior set for the firing squad: a court that rarely orders executions."""
    text = (DATA / "firing_squad_fixed.toml").read_text().replace(
        'id = "squad_fixed"', 'id = "lenient"').replace(
        "[nodes.court_order]\nbase = 0.5", "[nodes.court_order]\nbase = 0.1")
    path = tmp_path / "lenient.toml"
    path.write_text(text)
    return str(path)
