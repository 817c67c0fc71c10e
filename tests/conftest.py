"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def sampler_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sampler cache for the whole session, not the user's (~/.cache/plausibly).

    Set before any test starts JAX, so XLA's compilation cache is there too, and
    inherited by the commands the CLI tests run: each model is built and
    compiled once per session (the two test processes share it; a program
    both build at once is written whole by each, see ``nuts.program``). A
    test about a cold build gives its command a cache of its own.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one cache for all of pytest-xdist's workers
        cache = tmp_path_factory.getbasetemp().parent / "plausibly-cache"
        cache.mkdir(exist_ok=True)
    else:
        cache = tmp_path_factory.mktemp("plausibly-cache")
    os.environ["PLAUSIBLY_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session", autouse=True)
def ctrl_c_raises() -> None:
    """Ctrl-C raises KeyboardInterrupt here even if this process was started ignoring it.

    A shell starts a background job (``pytest &``) with SIGINT ignored, which
    the commands the tests start would inherit; the tests that send a Ctrl-C,
    to this process or to such a command, test what a user at a terminal gets.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def second_fixed(tmp_path) -> str:
    """Another fixed prior set for the firing squad: a court that rarely orders executions."""
    text = (DATA / "firing_squad_fixed.toml").read_text().replace(
        'id = "squad_fixed"', 'id = "lenient"').replace(
        "[nodes.court_order]\nbase = 0.5", "[nodes.court_order]\nbase = 0.1")
    path = tmp_path / "lenient.toml"
    path.write_text(text)
    return str(path)
